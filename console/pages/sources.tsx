/** @jsxImportSource hono/jsx */
// Sources from the console: every source with its state and last import, a source's page (its
// settings, state, import history refreshed every few seconds) and its actions — import now, pause
// and resume (PATCH enabled), release from quarantine (with why it is there and what to do), delete
// after a confirmation page, approve staged deletions, and for a
// csv source that takes uploads, a file upload posting the snapshot. Creating one is in
// source-forms.tsx. Secrets are never shown: the API does not answer them.
import { describeProblem, query } from '../api-client.ts';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { ActionButton, CsrfField, Layout, StateBadge, Time, can } from '../layout.tsx';
import type { Source, SourceQuarantine, SourceRun } from '../types.ts';
import { sourceCreateRoutes } from './source-forms.tsx';
import { fileBody } from './upload.ts';
import { SOURCES, sourceUrl } from './urls.ts';

const PAGE_SIZE = 50;
const apiSource = (id: string) => `/sources/${encodeURIComponent(id)}`;
const outcomeOf = (c: ConsoleContext) => ({ notice: c.req.query('notice'), error: c.req.query('error') });

/** Fields every source answer has; anything else the API adds (a quarantine, a status…) is shown as it comes. */
const KNOWN_FIELDS = new Set([
  'id',
  'name',
  'type',
  'enabled',
  'config',
  'hasBindPassword',
  'hasClientSecret',
  'state',
  'createdAt',
  'updatedAt',
  'scimUrl',
  'token',
]);

const record = (value: unknown): Record<string, unknown> | null =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;

/** The API's `status` words as the console says them (pausing a source here disables it). */
const STATUS_WORDS: Readonly<Record<string, string>> = { active: 'running', disabled: 'paused' };

/**
 * One word for a source's state: a `status` (or `state.status`) string the API gives wins (active →
 * running, disabled → paused); a quarantine the API reports makes it "quarantined"; otherwise
 * running or paused (`enabled`).
 */
export function sourceState(source: Source): string {
  const state = record(source.state);
  for (const status of [source.status, state?.status]) {
    if (typeof status === 'string' && status) return STATUS_WORDS[status] ?? status;
  }
  for (const q of [source.quarantine, source.quarantined, state?.quarantine, state?.quarantined]) {
    if (q) return 'quarantined';
  }
  return source.enabled ? 'running' : 'paused';
}

/** A value as short text: strings as they are, anything else as JSON. */
const show = (value: unknown): string =>
  value === null || value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value);

function Details({ entries, label }: { entries: [string, unknown][]; label: string }) {
  if (entries.length === 0) return null;
  return (
    <dl class="steps" aria-label={label}>
      {entries.map(([name, value]) => (
        <>
          <dt>{name}</dt>
          <dd>{name.endsWith('At') && typeof value === 'string' ? <Time iso={value} /> : show(value)}</dd>
        </>
      ))}
    </dl>
  );
}

export function runResult(run: SourceRun | undefined): string {
  if (!run) return 'no import yet';
  const counts = [
    `${run.created} created`,
    `${run.updated} updated`,
    `${run.deleted} deleted`,
    `${run.unchanged} unchanged`,
    ...(run.stagedDeletions ? [`${run.stagedDeletions} deletions staged`] : []),
  ].join(', ');
  const attempts = (run.attempts ?? 1) > 1 ? `, ${run.attempts} attempts` : '';
  return `${run.status} (${run.mode}${attempts}): ${counts}${run.error ? ` — ${run.error}` : ''}`;
}

function RunsTable({ runs }: { runs: SourceRun[] }) {
  if (runs.length === 0) return <p>No import yet.</p>;
  return (
    <div class="scroll">
      <table>
        <caption class="sr-only">Imports, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Mode</th>
            <th scope="col">Started</th>
            <th scope="col">Finished</th>
            <th scope="col">Created</th>
            <th scope="col">Updated</th>
            <th scope="col">Deleted</th>
            <th scope="col">Unchanged</th>
            <th scope="col">Staged deletions</th>
            <th scope="col">Error</th>
            <th scope="col">Attempts</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr>
              <td>{run.id}</td>
              <td>{run.status}</td>
              <td>{run.mode}</td>
              <td>
                <Time iso={run.startedAt} />
              </td>
              <td>
                <Time iso={run.finishedAt} />
              </td>
              <td>{run.created}</td>
              <td>{run.updated}</td>
              <td>{run.deleted}</td>
              <td>{run.unchanged}</td>
              <td>{run.stagedDeletions}</td>
              <td>{run.error ?? ''}</td>
              <td>{run.attempts ?? 1}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The import history; refreshed every few seconds (first page only) so a requested import shows up. */
function Runs({ id, runs, before }: { id: string; runs: SourceRun[]; before?: string }) {
  const live = before ? {} : { 'hx-get': `${sourceUrl(id)}/runs`, 'hx-trigger': 'every 3s', 'hx-swap': 'outerHTML' };
  const last = runs.length === PAGE_SIZE ? runs[runs.length - 1] : undefined;
  return (
    <section id="runs" aria-labelledby="runs-h" {...live}>
      <h2 id="runs-h">Imports</h2>
      <RunsTable runs={runs} />
      {last ? (
        <p>
          <a href={`${sourceUrl(id)}${query({ before: last.id })}#runs`}>Older imports</a>
        </p>
      ) : null}
    </section>
  );
}

const loadRuns = async (c: ConsoleContext, id: string, before?: string): Promise<SourceRun[]> => {
  const runs = await c
    .get('client')
    .get<{ items: SourceRun[] }>(`${apiSource(id)}/runs${query({ limit: PAGE_SIZE, before })}`);
  return runs.ok ? runs.data.items : [];
};

function listRoute(router: ConsoleRouter) {
  router.get(SOURCES, async (c) => {
    const client = c.get('client');
    const all = (await client.need<{ items: Source[] }>('/sources')).items;
    // The API answers every source at once; the page shows 50 at a time.
    const from = Math.max(0, Number.parseInt(c.req.query('from') ?? '0', 10) || 0);
    const sources = all.slice(from, from + PAGE_SIZE);
    const lastRuns = await Promise.all(sources.map(async (s) => (await loadRuns(c, s.id, undefined)).at(0)));
    return c.html(
      <Layout title="Sources" me={c.get('me')} csrf={c.get('csrf')} {...outcomeOf(c)}>
        <p class="sub">Where the directory's users and groups come from: each source imports on its own schedule.</p>
        {can(c.get('me'), 'sources:write') ? (
          <p class="actions">
            <a href={`${SOURCES}/new`}>New source</a>
          </p>
        ) : null}
        {all.length === 0 ? (
          <p>No source yet: the directory holds only what the API and the console put in it.</p>
        ) : (
          <div class="scroll">
            <table>
              <caption class="sr-only">Sources</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">State</th>
                  <th scope="col">Last import</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {sources.map((s, i) => (
                  <tr>
                    <td>
                      <a href={sourceUrl(s.id)}>{s.name}</a>
                    </td>
                    <td>{s.type}</td>
                    <td>
                      <StateBadge state={sourceState(s)} />
                    </td>
                    <td>{s.type === 'scim' ? 'pushed by the identity provider' : runResult(lastRuns[i])}</td>
                    <td>
                      <Time iso={lastRuns[i]?.finishedAt ?? lastRuns[i]?.startedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {from + PAGE_SIZE < all.length ? (
          <p>
            <a href={`${SOURCES}${query({ from: from + PAGE_SIZE })}`}>Next page</a>
          </p>
        ) : null}
      </Layout>,
    );
  });
}

/** Upload an export to a csv source that takes uploads (multipart, read by the console, sent on as is). */
function UploadForm({ id, csrf }: { id: string; csrf: string }) {
  return (
    <form method="post" action={`${sourceUrl(id)}/snapshots`} enctype="multipart/form-data" class="card grid">
      <CsrfField csrf={csrf} />
      <label for="snapshot-file">HR export (CSV, or a JSON array of rows)</label>
      <input id="snapshot-file" name="file" type="file" accept=".csv,.json,text/csv,application/json" required />
      <button type="submit" class="primary">
        Upload and import
      </button>
    </form>
  );
}

/** The quarantine the API reports (`quarantine`), if the source is in one. */
export function sourceQuarantine(source: Source): SourceQuarantine | null {
  const q = record(source.quarantine);
  return q && typeof q.since === 'string' ? (q as unknown as SourceQuarantine) : null;
}

/** Where a source's failing imports usually come from, by type. */
const QUARANTINE_CAUSES: Readonly<Record<string, string>> = {
  csv: 'the export file or folder',
  ldap: 'the directory server',
  entra: 'Entra ID (Microsoft Graph)',
};

/** Why the source is quarantined (its last error, never a secret: the API writes it for people) and what to do. */
function QuarantineNote({ quarantine, type }: { quarantine: SourceQuarantine; type: string }) {
  const where = QUARANTINE_CAUSES[type] ?? 'where the source reads';
  return (
    <div class="problem" role="alert" id="quarantine">
      <p>
        <strong>Quarantined</strong> since <Time iso={quarantine.since} />: every import failed since{' '}
        <Time iso={quarantine.failingSince} /> ({quarantine.failures} in a row). Last error ({quarantine.code}):{' '}
        {quarantine.message}
      </p>
      <p>
        What to do: fix the cause ({where}, or the source's settings and credentials), then <em>Release quarantine</em>:
        the source imports at once, then on its schedule. <em>Sync now</em> tries one import and releases it if the
        import succeeds. Until then it does not import on its schedule.
      </p>
    </div>
  );
}

function SourceActions({ c, source }: { c: ConsoleContext; source: Source }) {
  const me = c.get('me');
  const csrf = c.get('csrf');
  const url = sourceUrl(source.id);
  const sync = can(me, 'sources:sync');
  const write = can(me, 'sources:write');
  if (!sync && !write) return null;
  const imports = source.type !== 'scim';
  const staged = Number(record(source.state)?.stagedDeletions ?? 0);
  return (
    <section aria-labelledby="actions-h">
      <h2 id="actions-h">Actions</h2>
      <div class="actions">
        {sync && imports && source.enabled ? (
          <ActionButton action={`${url}/sync`} label="Sync now" kind="primary" csrf={csrf} />
        ) : null}
        {sync && source.enabled && sourceQuarantine(source) ? (
          <ActionButton action={`${url}/release`} label="Release quarantine" kind="primary" csrf={csrf} />
        ) : null}
        {write && source.enabled ? <ActionButton action={`${url}/pause`} label="Pause" csrf={csrf} /> : null}
        {write && !source.enabled ? (
          <ActionButton action={`${url}/resume`} label="Resume" kind="primary" csrf={csrf} />
        ) : null}
        {write && staged > 0 ? (
          <ActionButton action={`${url}/approve-deletions`} label={`Approve ${staged} staged deletions`} csrf={csrf} />
        ) : null}
        {write ? <a href={`${url}/delete`}>Delete this source…</a> : null}
      </div>
      {sync && source.type === 'csv' && source.config.origin === 'upload' && source.enabled ? (
        <>
          <h3>Upload a snapshot</h3>
          <p class="sub">
            The whole export: people missing from it are deleted from the directory, under the source's deletion
            threshold.
          </p>
          <UploadForm id={source.id} csrf={csrf} />
        </>
      ) : null}
    </section>
  );
}

function sourcePageRoutes(router: ConsoleRouter) {
  router.get(`${SOURCES}/:id`, async (c) => {
    const id = c.req.param('id');
    const before = c.req.query('before');
    const [source, runs] = await Promise.all([c.get('client').need<Source>(apiSource(id)), loadRuns(c, id, before)]);
    const extra = Object.entries(source).filter(([name]) => !KNOWN_FIELDS.has(name));
    const quarantine = source.enabled ? sourceQuarantine(source) : null;
    return c.html(
      <Layout title={`Source ${source.name}`} me={c.get('me')} csrf={c.get('csrf')} {...outcomeOf(c)}>
        <p>
          <a href={SOURCES}>All sources</a>
        </p>
        <p>
          {source.type} source · <code>{source.id}</code> · <StateBadge state={sourceState(source)} />
        </p>
        {quarantine ? <QuarantineNote quarantine={quarantine} type={source.type} /> : null}
        {source.scimUrl ? (
          <p>
            SCIM URL: <code>{source.scimUrl}</code> (the token was shown once, when the source was created)
          </p>
        ) : null}
        <h2>Settings</h2>
        <Details label="Settings" entries={Object.entries(source.config ?? {})} />
        {source.type === 'ldap' ? <p>Bind password: {source.hasBindPassword ? 'set' : 'not set'}</p> : null}
        <h2>State</h2>
        <Details label="State" entries={[...Object.entries(record(source.state) ?? {}), ...extra]} />
        <SourceActions c={c} source={source} />
        <Runs id={id} runs={runs} before={before} />
      </Layout>,
    );
  });

  router.get(`${SOURCES}/:id/runs`, async (c) => {
    const id = c.req.param('id');
    return c.html(<Runs id={id} runs={await loadRuns(c, id)} />);
  });
}

function actionRoutes(router: ConsoleRouter) {
  const back = (c: ConsoleContext, id: string, outcome: { notice?: string; error?: string }) =>
    c.redirect(`${sourceUrl(id)}${query(outcome)}`, 303);
  const refused = (verb: string, problem: Parameters<typeof describeProblem>[0]) => ({
    error: `${verb}: ${describeProblem(problem)}`,
  });

  router.post(`${SOURCES}/:id/sync`, async (c) => {
    const id = c.req.param('id');
    const result = await c.get('client').call('POST', `${apiSource(id)}/sync`, {});
    return back(c, id, result.ok ? { notice: 'Import requested' } : refused('Not synced', result.problem));
  });

  for (const [action, enabled, notice] of [
    ['pause', false, 'Paused: the source does not import until resumed'],
    ['resume', true, 'Resumed'],
  ] as const) {
    router.post(`${SOURCES}/:id/${action}`, async (c) => {
      const id = c.req.param('id');
      const result = await c.get('client').call('PATCH', apiSource(id), { enabled });
      return back(c, id, result.ok ? { notice } : refused(`Not ${action}d`, result.problem));
    });
  }

  // Leaving quarantine is the API's resume (POST …/resume), not the console's Resume (un-pause).
  router.post(`${SOURCES}/:id/release`, async (c) => {
    const id = c.req.param('id');
    const result = await c.get('client').call('POST', `${apiSource(id)}/resume`);
    return back(
      c,
      id,
      result.ok
        ? { notice: 'Released from quarantine: an import was requested' }
        : refused('Not released', result.problem),
    );
  });

  router.post(`${SOURCES}/:id/approve-deletions`, async (c) => {
    const id = c.req.param('id');
    const result = await c.get('client').call<{ deleted: number }>('POST', `${apiSource(id)}/approve-deletions`);
    return back(
      c,
      id,
      result.ok ? { notice: `Deleted ${result.data.deleted} objects` } : refused('Not approved', result.problem),
    );
  });

  router.post(`${SOURCES}/:id/snapshots`, async (c) => {
    const id = c.req.param('id');
    const file = (await c.req.parseBody()).file;
    if (!(file instanceof File) || file.size === 0) return back(c, id, { error: 'Not uploaded: choose a file' });
    const result = await c
      .get('client')
      .send<{ snapshot: { rows: number } }>('POST', `${apiSource(id)}/snapshots`, await fileBody(file));
    return back(
      c,
      id,
      result.ok
        ? { notice: `Uploaded ${file.name}: ${result.data.snapshot.rows} people; import requested` }
        : refused(`Not uploaded (${file.name})`, result.problem),
    );
  });
}

function deleteRoutes(router: ConsoleRouter) {
  router.get(`${SOURCES}/:id/delete`, async (c) => {
    const source = await c.get('client').need<Source>(apiSource(c.req.param('id')));
    const title = `Delete ${source.name}?`;
    if (!can(c.get('me'), 'sources:write')) {
      return c.html(
        <Layout title={title} me={c.get('me')} csrf={c.get('csrf')} error="Your key's role cannot delete sources." />,
        403,
      );
    }
    return c.html(
      <Layout title={title} me={c.get('me')} csrf={c.get('csrf')}>
        <p>
          The source stops importing and is deleted. The users and groups it imported stay in the directory, owned by
          nobody (as if made through the API).
        </p>
        <form method="post" action={`${sourceUrl(source.id)}/delete`} class="inline">
          <CsrfField csrf={c.get('csrf')} />
          <input type="hidden" name="confirm" value="yes" />
          <button type="submit" class="danger">
            Delete {source.name}
          </button>
        </form>{' '}
        <a href={sourceUrl(source.id)}>Cancel</a>
      </Layout>,
    );
  });

  router.post(`${SOURCES}/:id/delete`, async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    if (form.confirm !== 'yes') return c.redirect(`${sourceUrl(id)}/delete`, 303);
    const result = await c.get('client').call('DELETE', apiSource(id));
    if (!result.ok) return c.redirect(`${sourceUrl(id)}${query({ error: describeProblem(result.problem) })}`, 303);
    return c.redirect(`${SOURCES}${query({ notice: 'Source deleted; its users and groups stay' })}`, 303);
  });
}

export function sourceRoutes(router: ConsoleRouter) {
  listRoute(router);
  sourceCreateRoutes(router);
  sourcePageRoutes(router);
  actionRoutes(router);
  deleteRoutes(router);
}
