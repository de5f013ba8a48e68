/** @jsxImportSource hono/jsx */
// Provision on demand: find a user or group by name, provision it now, read the report's steps.
import { describeProblem, query } from '../api-client.ts';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { ActionButton, Layout, can } from '../layout.tsx';
import type { AppView, DirectoryGroup, DirectoryUser, OnDemandReport, Page } from '../types.ts';
import { ModifiedAttributes, StepList } from './logs.tsx';

const FOUND = 20;

async function Candidates({ c, appId, search }: { c: ConsoleContext; appId: string; search: string }) {
  const client = c.get('client');
  const [users, groups] = await Promise.all([
    client.need<Page<DirectoryUser>>(`/directory/users${query({ search, limit: FOUND })}`),
    client.need<Page<DirectoryGroup>>(`/directory/groups${query({ search, limit: FOUND })}`),
  ]);
  const found = [
    ...users.items.map((u) => ({
      id: u.id,
      type: 'user',
      label: u.displayName ?? u.userPrincipalName,
      sub: u.userPrincipalName,
    })),
    ...groups.items.map((g) => ({ id: g.id, type: 'group', label: g.displayName, sub: g.id })),
  ];
  if (found.length === 0) return <p>Nobody in the directory is named like “{search}”.</p>;
  const action = `/console/apps/${encodeURIComponent(appId)}/on-demand`;
  return (
    <ul class="found">
      {found.map((p) => (
        <li>
          {p.type} <strong>{p.label}</strong> <span class="sub">{p.sub}</span>{' '}
          <ActionButton
            action={action}
            name="objectId"
            value={p.id}
            label={`Provision ${p.label}`}
            csrf={c.get('csrf')}
            kind="primary"
          />
        </li>
      ))}
      {users.nextCursor || groups.nextCursor ? <li class="sub">More match: type more of the name.</li> : null}
    </ul>
  );
}

function Report({ report }: { report: OnDemandReport }) {
  return (
    <section aria-labelledby="report-h" class="card">
      <h2 id="report-h">
        {report.objectType} {report.objectId}: {report.action} ·{' '}
        <span class={`status status-${report.status}`}>{report.status}</span>
      </h2>
      <p class="sub">
        Target id {report.targetId ?? '—'} · {report.durationMs} ms
      </p>
      <h3>Steps</h3>
      <StepList steps={report.steps} />
      <h3>Modified attributes</h3>
      <ModifiedAttributes attributes={report.modifiedAttributes} />
    </section>
  );
}

export function onDemandRoutes(router: ConsoleRouter) {
  router.get('/console/apps/:id/on-demand', async (c) => {
    const id = c.req.param('id');
    const app = await c.get('client').need<AppView>(`/apps/${encodeURIComponent(id)}`);
    const search = (c.req.query('search') ?? '').trim();
    const me = c.get('me');
    return c.html(
      <Layout title={`Provision on demand · ${app.name}`} me={me} csrf={c.get('csrf')}>
        <p>
          <a href={`/console/apps/${encodeURIComponent(id)}`}>Back to {app.name}</a>
        </p>
        {can(me, 'provisioning:onDemand') ? null : <p class="problem">Your key's role cannot provision on demand.</p>}
        <form method="get" class="inline">
          <label for="od-search">Find a user or group by name</label>{' '}
          <input id="od-search" name="search" value={search} required /> <button type="submit">Find</button>
        </form>
        {search && can(me, 'provisioning:onDemand') ? <Candidates c={c} appId={id} search={search} /> : null}
      </Layout>,
    );
  });

  router.post('/console/apps/:id/on-demand', async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const objectId = typeof form.objectId === 'string' ? form.objectId : '';
    const client = c.get('client');
    const app = await client.need<AppView>(`/apps/${encodeURIComponent(id)}`);
    const result = await client.call<OnDemandReport>('POST', `/apps/${encodeURIComponent(id)}/provision-on-demand`, {
      objectId,
    });
    return c.html(
      <Layout
        title={`Provision on demand · ${app.name}`}
        me={c.get('me')}
        csrf={c.get('csrf')}
        error={result.ok ? null : describeProblem(result.problem)}
      >
        <p>
          <a href={`/console/apps/${encodeURIComponent(id)}/on-demand`}>Provision another</a> ·{' '}
          <a href={`/console/apps/${encodeURIComponent(id)}`}>Back to {app.name}</a>
        </p>
        {result.ok ? <Report report={result.data} /> : null}
      </Layout>,
      result.ok ? 200 : 422,
    );
  });
}
