/** @jsxImportSource hono/jsx */
// API keys (create with a role, list, revoke; a new key is shown once) and the audit log (who did
// what), for keys whose role may (admins). Other roles see what the API answers them, and no
// button: the API refuses their calls anyway.
import type { Child } from 'hono/jsx';
import { describeProblem, query } from '../api-client.ts';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { ActionButton, CsrfField, Layout, Time, can } from '../layout.tsx';
import { formText } from './form.ts';
import { utcInstant } from './logs.tsx';

const ROLES = ['viewer', 'operator', 'admin'] as const;
const AUDIT_PAGE = 50;

interface ApiKey {
  id: string;
  name: string;
  role: string;
  keyPrefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

interface KeyPage {
  items: ApiKey[];
  nextCursor: string | null;
  environmentKeys: { id: string; name: string; role: string }[];
}

interface AuditEntry {
  id: number;
  time: string;
  keyName: string | null;
  role: string | null;
  action: string;
  resource: string | null;
  status: number;
  outcome: string;
  fields: string[];
}

function KeyTable({ page, csrf }: { page: KeyPage; csrf: string }) {
  return (
    <div class="scroll" tabindex={0} role="region" aria-label="API keys (scrolls)">
      <table>
        <caption class="sr-only">API keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Starts with</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {page.environmentKeys.map((k) => (
            <tr>
              <td>{k.name}</td>
              <td>{k.role}</td>
              <td>—</td>
              <td>—</td>
              <td>—</td>
              <td>from the environment (FERRY_API_KEYS)</td>
            </tr>
          ))}
          {page.items.map((k) => (
            <tr>
              <td>{k.name}</td>
              <td>{k.role}</td>
              <td>
                <code>{k.keyPrefix}</code>
              </td>
              <td>
                <Time iso={k.createdAt} />
              </td>
              <td>
                <Time iso={k.lastUsedAt} />
              </td>
              <td>
                {k.revokedAt ? (
                  <>
                    revoked <Time iso={k.revokedAt} />
                  </>
                ) : (
                  <ActionButton
                    action={`/console/keys/${encodeURIComponent(k.id)}/revoke`}
                    label={`Revoke ${k.name}`}
                    kind="danger"
                    csrf={csrf}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

async function keysPage(c: ConsoleContext, shown: { created?: { name: string; key: string }; error?: string } = {}) {
  const me = c.get('me');
  const csrf = c.get('csrf');
  const page = await c.get('client').get<KeyPage>(`/keys${query({ limit: 200, cursor: c.req.query('cursor') })}`);
  let body: Child;
  if (!can(me, 'keys:manage') || !page.ok) {
    // The API refuses a role without keys:manage (403); the page says it in a person's words.
    body = (
      <p class="problem">
        {!can(me, 'keys:manage') || page.ok ? "Your key's role cannot manage keys." : describeProblem(page.problem)}
      </p>
    );
  } else {
    body = (
      <>
        {shown.created ? (
          <section class="notice" aria-labelledby="new-key-h">
            <h2 id="new-key-h">New key {shown.created.name}</h2>
            <p>Copy it now: Ferry keeps only its hash and will not show it again.</p>
            <pre id="new-key">{shown.created.key}</pre>
          </section>
        ) : null}
        <form method="post" action="/console/keys" class="card grid">
          <CsrfField csrf={csrf} />
          <label for="k-name">Key name</label>
          <input id="k-name" name="name" required />
          <label for="k-role">Role</label>
          <select id="k-role" name="role">
            {ROLES.map((r) => (
              <option value={r}>{r}</option>
            ))}
          </select>
          <button type="submit" class="primary">
            Create key
          </button>
        </form>
        <KeyTable page={page.data} csrf={csrf} />
        {page.data.nextCursor ? (
          <p>
            <a href={`/console/keys${query({ cursor: page.data.nextCursor })}`}>More keys</a>
          </p>
        ) : null}
      </>
    );
  }
  return c.html(
    <Layout
      title="API keys"
      me={me}
      csrf={csrf}
      notice={c.req.query('notice')}
      error={shown.error ?? c.req.query('error')}
    >
      {body}
    </Layout>,
    shown.error ? 400 : 200,
  );
}

function AuditTable({ entries }: { entries: AuditEntry[] }) {
  return (
    <div class="scroll" tabindex={0} role="region" aria-label="Audit entries (scrolls)">
      <table>
        <caption class="sr-only">Audit entries, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Who</th>
            <th scope="col">Did</th>
            <th scope="col">On</th>
            <th scope="col">Outcome</th>
            <th scope="col">Fields sent</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr>
              <td>
                <Time iso={e.time} />
              </td>
              <td>
                {e.keyName ?? '—'} {e.role ? <span class="sub">({e.role})</span> : null}
              </td>
              <td>{e.action}</td>
              <td>
                <code>{e.resource ?? '—'}</code>
              </td>
              <td>
                {e.outcome} ({e.status})
              </td>
              <td>{e.fields.join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function keyRoutes(router: ConsoleRouter) {
  router.get('/console/keys', (c) => keysPage(c));

  router.post('/console/keys', async (c) => {
    const form = await c.req.parseBody();
    const result = await c.get('client').call<{ name: string; key: string }>('POST', '/keys', {
      name: formText(form, 'name'),
      role: formText(form, 'role'),
    });
    if (!result.ok) return keysPage(c, { error: describeProblem(result.problem) });
    return keysPage(c, { created: { name: result.data.name, key: result.data.key } });
  });

  router.post('/console/keys/:id/revoke', async (c) => {
    const result = await c.get('client').call('DELETE', `/keys/${encodeURIComponent(c.req.param('id'))}`);
    const outcome = result.ok ? { notice: 'Key revoked' } : { error: describeProblem(result.problem) };
    return c.redirect(`/console/keys${query(outcome)}`, 303);
  });

  router.get('/console/audit', async (c) => {
    const me = c.get('me');
    const filters = { action: c.req.query('action'), from: c.req.query('from'), to: c.req.query('to') };
    const page = can(me, 'audit:read')
      ? await c
          .get('client')
          .get<{ items: AuditEntry[]; nextCursor: string | null }>(
            `/audit${query({ action: filters.action, from: utcInstant(filters.from), to: utcInstant(filters.to), limit: AUDIT_PAGE, cursor: c.req.query('cursor') })}`,
          )
      : null;
    return c.html(
      <Layout
        title="Audit log"
        me={me}
        csrf={c.get('csrf')}
        error={page && !page.ok ? describeProblem(page.problem) : null}
      >
        {page === null ? <p class="problem">Your key's role cannot read the audit log.</p> : null}
        <form method="get" action="/console/audit" class="filters">
          <label for="a-action">Action</label>
          <input id="a-action" name="action" placeholder="app.update" value={filters.action ?? ''} />
          <label for="a-from">From (UTC)</label>
          <input id="a-from" name="from" type="datetime-local" step="1" value={filters.from ?? ''} />
          <label for="a-to">Until (UTC)</label>
          <input id="a-to" name="to" type="datetime-local" step="1" value={filters.to ?? ''} />
          <button type="submit">Filter</button>
        </form>
        {page?.ok ? <AuditTable entries={page.data.items} /> : null}
        {page?.ok && page.data.items.length === 0 ? <p>No entry matches.</p> : null}
        {page?.ok && page.data.nextCursor ? (
          <p>
            <a href={`/console/audit${query({ ...filters, cursor: page.data.nextCursor })}`}>Older entries</a>
          </p>
        ) : null}
      </Layout>,
    );
  });
}
