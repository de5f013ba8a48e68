/** @jsxImportSource hono/jsx */
// Provisioning logs of one app: filters, a page of entries (each opens to its steps and its
// modified attributes old → new), the next page, and the same filters as a CSV download.
import { describeProblem, query } from '../api-client.ts';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { Layout, Time } from '../layout.tsx';
import type { AppView, Cycle, LogEntry, Page, Step } from '../types.ts';

const PAGE_SIZE = 50;
const ACTIONS = ['Create', 'Update', 'Disable', 'Delete', 'StagedDelete', 'Skip', 'Other'];
const STATUSES = ['Success', 'Failure', 'Skipped', 'Warning'];

const show = (value: unknown): string =>
  value === undefined || value === null ? '—' : typeof value === 'string' ? value : JSON.stringify(value);

export function StepList({ steps }: { steps: Step[] }) {
  return (
    <ol class="steps">
      {steps.map((step) => {
        const { name, status, details, ...rest } = step;
        const facts = { ...(details ?? {}), ...rest };
        return (
          <li>
            <strong>{name}</strong> <span class={`status status-${status}`}>{status}</span>
            {Object.keys(facts).length > 0 ? (
              <dl>
                {Object.entries(facts).map(([k, v]) => (
                  <>
                    <dt>{k}</dt>
                    <dd>{show(v)}</dd>
                  </>
                ))}
              </dl>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

export function ModifiedAttributes({
  attributes,
}: {
  attributes: { name: string; oldValue?: unknown; newValue?: unknown }[];
}) {
  if (attributes.length === 0) return <p>No attribute changed.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Attribute</th>
          <th scope="col">Old</th>
          <th scope="col">New</th>
        </tr>
      </thead>
      <tbody>
        {attributes.map((a) => (
          <tr>
            <td>{a.name}</td>
            <td>{show(a.oldValue)}</td>
            <td>{show(a.newValue)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Entry({ entry }: { entry: LogEntry }) {
  return (
    <details class="entry">
      <summary>
        <Time iso={entry.time} /> · {entry.objectType} <strong>{entry.sourceDisplayName ?? entry.sourceId}</strong> ·{' '}
        {entry.action} · <span class={`status status-${entry.status}`}>{entry.status}</span>
        {entry.onDemand ? ' · on demand' : ''}
      </summary>
      <p class="sub">
        Source id {entry.sourceId} · target id {entry.targetId ?? '—'} · {entry.durationMs} ms
      </p>
      {entry.errorMessage ? (
        <p class="problem">
          {entry.errorCode}: {entry.errorMessage}
        </p>
      ) : null}
      <h3>Steps</h3>
      <StepList steps={entry.steps} />
      <h3>Modified attributes</h3>
      <ModifiedAttributes attributes={entry.modifiedAttributes} />
    </details>
  );
}

function Select({
  id,
  label,
  name,
  options,
  value,
}: {
  id: string;
  label: string;
  name: string;
  options: [string, string][];
  value?: string;
}) {
  return (
    <>
      <label for={id}>{label}</label>
      <select id={id} name={name}>
        <option value="">any</option>
        {options.map(([v, text]) => (
          <option value={v} selected={v === value}>
            {text}
          </option>
        ))}
      </select>
    </>
  );
}

/** The filters of the page's query string, as the form shows them (times as typed, in UTC). */
const formFiltersOf = (c: ConsoleContext) => ({
  action: c.req.query('action'),
  status: c.req.query('status'),
  objectId: c.req.query('objectId'),
  cycleId: c.req.query('cycleId'),
  since: c.req.query('since'),
  until: c.req.query('until'),
});

/** A `datetime-local` value (no zone) read as UTC, the zone every console page shows times in. */
export const utcInstant = (value: string | undefined): string | undefined =>
  value && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)
    ? `${value.length === 16 ? `${value}:00` : value}Z`
    : value || undefined;

/** The filters as the API takes them. */
const filtersOf = (c: ConsoleContext) => {
  const form = formFiltersOf(c);
  return { ...form, since: utcInstant(form.since), until: utcInstant(form.until) };
};

export function logRoutes(router: ConsoleRouter) {
  router.get('/console/apps/:id/logs', async (c) => {
    const id = c.req.param('id');
    const client = c.get('client');
    const filters = filtersOf(c);
    const shown = formFiltersOf(c);
    const app = await client.need<AppView>(`/apps/${encodeURIComponent(id)}`);
    const cycles = await client.get<Page<Cycle>>(`/apps/${encodeURIComponent(id)}/cycles${query({ limit: 20 })}`);
    const entries = await client.get<Page<LogEntry>>(
      `/apps/${encodeURIComponent(id)}/logs${query({ ...filters, limit: PAGE_SIZE, cursor: c.req.query('cursor') })}`,
    );
    const base = `/console/apps/${encodeURIComponent(id)}/logs`;
    return c.html(
      <Layout
        title={`Provisioning logs · ${app.name}`}
        me={c.get('me')}
        csrf={c.get('csrf')}
        error={entries.ok ? null : describeProblem(entries.problem)}
      >
        <p>
          <a href={`/console/apps/${encodeURIComponent(id)}`}>Back to {app.name}</a> ·{' '}
          <a href={`${base}.csv${query(filters)}`} download>
            Download CSV
          </a>
        </p>
        <form method="get" action={base} class="filters">
          <Select
            id="f-action"
            label="Action"
            name="action"
            options={ACTIONS.map((a) => [a, a])}
            value={filters.action}
          />
          <Select
            id="f-status"
            label="Status"
            name="status"
            options={STATUSES.map((s) => [s, s])}
            value={filters.status}
          />
          <Select
            id="f-cycle"
            label="Cycle"
            name="cycleId"
            options={(cycles.ok ? cycles.data.items : []).map((cy) => [cy.id, `#${cy.number} ${cy.kind}`])}
            value={filters.cycleId}
          />
          <label for="f-object">Object id</label>
          <input id="f-object" name="objectId" value={filters.objectId ?? ''} />
          <label for="f-since">From (UTC)</label>
          <input id="f-since" name="since" type="datetime-local" step="1" value={shown.since ?? ''} />
          <label for="f-until">Until (UTC)</label>
          <input id="f-until" name="until" type="datetime-local" step="1" value={shown.until ?? ''} />
          <button type="submit">Filter</button>
        </form>
        {entries.ok && entries.data.items.length === 0 ? <p>No entry matches.</p> : null}
        {entries.ok ? entries.data.items.map((entry) => <Entry entry={entry} />) : null}
        {entries.ok && entries.data.nextCursor ? (
          <p>
            <a href={`${base}${query({ ...shown, cursor: entries.data.nextCursor })}`}>Older entries</a>
          </p>
        ) : null}
      </Layout>,
    );
  });

  // The CSV export, streamed from the API as it answers.
  router.get('/console/apps/:id/logs.csv', async (c) => {
    const id = c.req.param('id');
    const filters = query({ ...filtersOf(c), format: 'csv' });
    const res = await c.get('client').raw(`/apps/${encodeURIComponent(id)}/logs${filters}`, 'text/csv');
    if (!res.ok) return c.text(await res.text(), res.status as 400);
    return new Response(res.body, {
      headers: {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="ferry-logs-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.csv"`,
      },
    });
  });
}
