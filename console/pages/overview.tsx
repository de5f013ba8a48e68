/** @jsxImportSource hono/jsx */
// Overview: every app (a page at a time) with its state, last cycle, next cycle and, while a cycle
// runs, its bar; the table body refreshes itself every few seconds (htmx).
import { query } from '../api-client.ts';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { CycleBar, Layout, StateBadge, Time, can, countsText } from '../layout.tsx';
import type { AppView, Page, Provisioning } from '../types.ts';

export const OVERVIEW_PAGE_SIZE = 25;
const POLL = 'every 3s';

interface AppRow {
  app: AppView;
  provisioning: Provisioning | null;
}

async function loadRows(c: ConsoleContext, cursor: string | undefined): Promise<Page<AppRow>> {
  const client = c.get('client');
  const page = await client.need<Page<AppView>>(`/apps${query({ limit: OVERVIEW_PAGE_SIZE, cursor })}`);
  const items = await Promise.all(
    page.items.map(async (app) => {
      const status = await client.get<Provisioning>(`/apps/${encodeURIComponent(app.id)}/provisioning`);
      return { app, provisioning: status.ok ? status.data : null };
    }),
  );
  return { items, nextCursor: page.nextCursor };
}

function AppRows({ rows }: { rows: AppRow[] }) {
  if (rows.length === 0) {
    return (
      <tr>
        <td colspan={5}>No apps yet.</td>
      </tr>
    );
  }
  return (
    <>
      {rows.map(({ app, provisioning }) => {
        const status = provisioning?.status ?? null;
        const last = status?.lastCycle ?? null;
        return (
          <tr>
            <th scope="row">
              <a href={`/console/apps/${encodeURIComponent(app.id)}`}>{app.name}</a>
              <div class="sub">{app.template}</div>
            </th>
            <td>
              <StateBadge state={status?.state ?? (app.provisioningEnabled ? null : 'off')} />
            </td>
            <td>
              {status?.cycle ? (
                <CycleBar cycle={status.cycle} />
              ) : last ? (
                <span>
                  #{last.number} {last.status}
                  <span class="sub">
                    {' '}
                    {countsText(last.counts as unknown as Record<string, number>) || 'no changes'}
                  </span>
                </span>
              ) : (
                '—'
              )}
            </td>
            <td>
              <Time iso={status?.nextCycleAt} />
            </td>
            <td>{status?.pendingDeletions ? `${status.pendingDeletions} staged` : ''}</td>
          </tr>
        );
      })}
    </>
  );
}

export function overviewRoutes(router: ConsoleRouter) {
  router.get('/', async (c) => {
    const cursor = c.req.query('cursor');
    const page = await loadRows(c, cursor);
    const me = c.get('me');
    const rowsUrl = `/console/overview/rows${query({ cursor })}`;
    return c.html(
      <Layout title="Apps" me={me} csrf={c.get('csrf')} notice={c.req.query('notice')}>
        {can(me, 'apps:write') ? (
          <p>
            <a class="button primary" href="/console/new">
              New app from the gallery
            </a>
          </p>
        ) : null}
        <div class="scroll">
          <table class="apps">
            <caption class="sr-only">Apps and their provisioning</caption>
            <thead>
              <tr>
                <th scope="col">App</th>
                <th scope="col">State</th>
                <th scope="col">Cycle</th>
                <th scope="col">Next cycle</th>
                <th scope="col">Staged</th>
              </tr>
            </thead>
            <tbody id="app-rows" hx-get={rowsUrl} hx-trigger={POLL} hx-swap="innerHTML">
              <AppRows rows={page.items} />
            </tbody>
          </table>
        </div>
        {page.nextCursor ? (
          <p>
            <a href={`/${query({ cursor: page.nextCursor })}`}>Next page</a>
          </p>
        ) : null}
      </Layout>,
    );
  });

  router.get('/console/overview/rows', async (c) => {
    const page = await loadRows(c, c.req.query('cursor'));
    return c.html(<AppRows rows={page.items} />);
  });
}
