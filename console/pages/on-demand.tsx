/** @jsxImportSource hono/jsx */
// Provision on demand: find a user or group by name, provision it now, and watch each step appear as
// it completes (the API's progress route, polled by htmx every second while the request runs; without
// JavaScript a Refresh link does the same), then the report, or the failure with its code.
import { describeProblem, query } from '../api-client.ts';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { ActionButton, Layout, can } from '../layout.tsx';
import type { AppView, DirectoryGroup, DirectoryUser, OnDemandProgress, OnDemandReport, Page } from '../types.ts';
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

const POLL = 'every 1s';

const onDemandUrl = (appId: string) => `/console/apps/${encodeURIComponent(appId)}/on-demand`;
const requestUrl = (appId: string, requestId: string) => `${onDemandUrl(appId)}/${encodeURIComponent(requestId)}`;
const progressPath = (appId: string, requestId: string) =>
  `/apps/${encodeURIComponent(appId)}/provision-on-demand/${encodeURIComponent(requestId)}`;

/** The steps done so far: a group's members by name of their line, `at` left out (the order says it). */
function ProgressSteps({ progress }: { progress: OnDemandProgress }) {
  const steps = progress.steps.map(({ at: _at, objectId, name, ...step }) => ({
    ...step,
    name: objectId ? `${name} ${objectId}` : name,
  }));
  if (steps.length === 0) return <p class="sub">Waiting for the first step…</p>;
  return <StepList steps={steps} />;
}

/**
 * What the request has done: while it runs, the steps so far in a block that htmx fetches again every
 * second (and replaces, so polling stops once a finished block without hx-get arrives); then the report
 * or the failure. The live region around it stays, so screen readers hear each new step.
 */
function ProgressBlock({ appId, progress }: { appId: string; progress: OnDemandProgress }) {
  const what = progress.objectType && progress.objectId ? `${progress.objectType} ${progress.objectId}` : 'request';
  if (!progress.finished) {
    return (
      <div
        id="od-progress"
        hx-get={`${requestUrl(appId, progress.requestId)}/progress`}
        hx-trigger={POLL}
        hx-swap="outerHTML"
      >
        <h2>
          {what}: running{progress.attempt > 1 ? ` (attempt ${progress.attempt})` : ''}
        </h2>
        <ProgressSteps progress={progress} />
        <p class="sub">
          <a href={requestUrl(appId, progress.requestId)}>Refresh</a>
        </p>
      </div>
    );
  }
  if (progress.error || !progress.report) {
    const error = progress.error ?? { code: 'unknown', message: 'The request ended without a report' };
    return (
      <div id="od-progress">
        <h2>
          {what}: failed · <span class="status status-Failure">{error.code}</span>
        </h2>
        <p class="problem" role="alert">
          {error.code}: {error.message}
        </p>
        {progress.steps.length > 0 ? (
          <>
            <h3>Steps done</h3>
            <ProgressSteps progress={progress} />
          </>
        ) : null}
      </div>
    );
  }
  return (
    <div id="od-progress">
      <Report report={progress.report} />
      {progress.steps.some((s) => s.name === 'member') ? (
        <>
          <h3>As it ran</h3>
          <ProgressSteps progress={progress} />
        </>
      ) : null}
    </div>
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

  // Starts the request (answered at once, Prefer: respond-async) and sends the browser to its page.
  router.post('/console/apps/:id/on-demand', async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const objectId = typeof form.objectId === 'string' ? form.objectId : '';
    const client = c.get('client');
    const result = await client.call<{ requestId: string }>(
      'POST',
      `/apps/${encodeURIComponent(id)}/provision-on-demand`,
      { objectId },
      { Prefer: 'respond-async' },
    );
    if (result.ok) return c.redirect(requestUrl(id, result.data.requestId), 303);
    const app = await client.need<AppView>(`/apps/${encodeURIComponent(id)}`);
    return c.html(
      <Layout
        title={`Provision on demand · ${app.name}`}
        me={c.get('me')}
        csrf={c.get('csrf')}
        error={describeProblem(result.problem)}
      >
        <p>
          <a href={onDemandUrl(id)}>Provision another</a> ·{' '}
          <a href={`/console/apps/${encodeURIComponent(id)}`}>Back to {app.name}</a>
        </p>
      </Layout>,
      422,
    );
  });

  router.get('/console/apps/:id/on-demand/:requestId', async (c) => {
    const id = c.req.param('id');
    const requestId = c.req.param('requestId');
    const client = c.get('client');
    const app = await client.need<AppView>(`/apps/${encodeURIComponent(id)}`);
    const progress = await client.need<OnDemandProgress>(progressPath(id, requestId));
    return c.html(
      <Layout title={`Provision on demand · ${app.name}`} me={c.get('me')} csrf={c.get('csrf')}>
        <p>
          <a href={onDemandUrl(id)}>Provision another</a> ·{' '}
          <a href={`/console/apps/${encodeURIComponent(id)}`}>Back to {app.name}</a>
        </p>
        <section aria-labelledby="od-h" aria-live="polite" class="card">
          <h2 id="od-h" class="sub">
            On-demand request {requestId}
          </h2>
          <ProgressBlock appId={id} progress={progress} />
        </section>
      </Layout>,
    );
  });

  // The block htmx polls while the request runs.
  router.get('/console/apps/:id/on-demand/:requestId/progress', async (c) => {
    const id = c.req.param('id');
    const progress = await c.get('client').need<OnDemandProgress>(progressPath(id, c.req.param('requestId')));
    return c.html(<ProgressBlock appId={id} progress={progress} />);
  });
}
