/** @jsxImportSource hono/jsx */
// One app: its job's status (refreshed by htmx while the page is open), what to do about a
// quarantine, the actions the key's role allows, the cycle history chart, the target's capabilities,
// assignments and settings.
import { describeProblem, query } from '../api-client.ts';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { ActionButton, CsrfField, CycleBar, Layout, StateBadge, Time, can, countsText } from '../layout.tsx';
import type { AppView, Cycle, JobStatus, Me, Page, Provisioning } from '../types.ts';
import { AssignmentsSection } from './assignments.tsx';
import { CapabilitiesSection, capabilityRoutes, loadProbe } from './capabilities.tsx';
import { CycleChart } from './cycle-chart.tsx';
import { SettingsForm, settingsPatch } from './settings.tsx';
import { formText, type Form } from './form.ts';

/** The provisioning actions the console offers, and the API's path segment of each. */
const ACTIONS = [
  'start',
  'pause',
  'resume',
  'run',
  'restart',
  'release',
  'quarantine',
  'approve-deletions',
  'reject-deletions',
];

export const appUrl = (id: string) => `/console/apps/${encodeURIComponent(id)}`;
export const apiApp = (id: string) => `/apps/${encodeURIComponent(id)}`;

/** Back to the app page with a notice or an error line (rendered escaped). */
export const backTo = (c: ConsoleContext, url: string, outcome: { notice?: string; error?: string }) =>
  c.redirect(`${url}${query({ notice: outcome.notice, error: outcome.error })}`, 303);

function StatusPanel({
  app,
  provisioning,
  me,
  csrf,
}: {
  app: AppView;
  provisioning: Provisioning | null;
  me: Me;
  csrf: string;
}) {
  const status = provisioning?.status ?? null;
  const control = can(me, 'provisioning:control');
  const url = appUrl(app.id);
  return (
    <section id="status" aria-labelledby="status-h" hx-get={`${url}/status`} hx-trigger="every 3s" hx-swap="outerHTML">
      <h2 id="status-h">Status</h2>
      <p>
        <StateBadge state={status?.state ?? null} />{' '}
        {status === null
          ? app.provisioningEnabled
            ? 'The job is not answering right now.'
            : 'Provisioning is off: start it to run the initial cycle.'
          : null}
      </p>
      {status?.cycle ? <CycleBar cycle={status.cycle} /> : null}
      {status?.quarantine ? <QuarantineNote quarantine={status.quarantine} /> : null}
      {status?.lastCycle ? (
        <p>
          Last cycle #{status.lastCycle.number} ({status.lastCycle.kind}) <strong>{status.lastCycle.status}</strong> at{' '}
          <Time iso={status.lastCycle.endedAt} />:{' '}
          {countsText(status.lastCycle.counts as unknown as Record<string, number>) || 'no changes'}
          {status.lastCycle.failure ? ` — ${status.lastCycle.failure.message}` : ''}
        </p>
      ) : null}
      <p>
        Next cycle: <Time iso={status?.nextCycleAt} />
        {status && status.backoffLevel > 0 ? ` (backing off, level ${status.backoffLevel})` : ''}
      </p>
      {status && status.pendingDeletions > 0 ? (
        <div class="problem">
          <p>
            {status.pendingDeletions} disable/delete operations are staged: more than the deletion threshold.{' '}
            <a href={`${url}/logs${query({ action: 'StagedDelete' })}`}>See the staged objects</a>
          </p>
          {control ? (
            <p>
              <ActionButton
                action={`${url}/actions/approve-deletions`}
                label="Approve deletions"
                kind="danger"
                csrf={csrf}
              />
              <ActionButton action={`${url}/actions/reject-deletions`} label="Reject deletions" csrf={csrf} />
            </p>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

/** Why the job is quarantined and what to do: a manual quarantine shows the admin's reason. */
function QuarantineNote({ quarantine }: { quarantine: NonNullable<JobStatus['quarantine']> }) {
  if (quarantine.reason === 'Manual') {
    return (
      <div class="problem" role="alert">
        <p>
          <strong>Quarantined by hand</strong> since <Time iso={quarantine.since} />:{' '}
          {quarantine.message ?? 'no reason given'}
        </p>
        <p>
          What to do: cycles run once a day at most until someone releases the job (<em>Release quarantine</em>).
        </p>
      </div>
    );
  }
  return (
    <div class="problem" role="alert">
      <p>
        <strong>Quarantined</strong> since <Time iso={quarantine.since} />: {quarantine.reason}
      </p>
      <p>
        What to do: run <em>Test connection</em> to see what the target answers now, fix the target or the credentials
        (Settings), then <em>Release</em>. Cycles stay stopped until then.
      </p>
    </div>
  );
}

/** Putting the job in quarantine by hand asks for the reason, which the status then shows. */
function QuarantineForm({ url, csrf }: { url: string; csrf: string }) {
  return (
    <div>
      <form method="post" action={`${url}/actions/quarantine`} class="inline">
        <CsrfField csrf={csrf} />
        <label for="q-reason">Reason</label>{' '}
        <input id="q-reason" name="reason" maxlength={500} required autocomplete="off" />{' '}
        <button type="submit" class="danger">
          Quarantine
        </button>
      </form>
    </div>
  );
}

/** The JSON body an action posts to the API, or why the form cannot be sent. */
function actionBody(action: string, form: Form): { body?: unknown } | { error: string } {
  if (action === 'restart') return { body: { reset: form.reset === 'full' ? 'full' : 'watermark' } };
  if (action !== 'quarantine') return {};
  const reason = formText(form, 'reason');
  if (!reason) return { error: 'Not quarantined: give a reason (it is shown on this page until the release)' };
  return { body: { reason } };
}

function Actions({ app, me, csrf }: { app: AppView; me: Me; csrf: string }) {
  if (!can(me, 'provisioning:control')) return null;
  const url = appUrl(app.id);
  return (
    <section aria-labelledby="actions-h">
      <h2 id="actions-h">Actions</h2>
      <div class="actions">
        <ActionButton action={`${url}/actions/start`} label="Start" kind="primary" csrf={csrf} />
        <ActionButton action={`${url}/actions/pause`} label="Pause" csrf={csrf} />
        <ActionButton action={`${url}/actions/resume`} label="Resume" csrf={csrf} />
        <ActionButton action={`${url}/actions/run`} label="Run a cycle now" csrf={csrf} />
        <ActionButton action={`${url}/actions/release`} label="Release quarantine" csrf={csrf} />
        <ActionButton action={`${url}/test-connection`} label="Test connection" csrf={csrf} />
      </div>
      <form method="post" action={`${url}/actions/restart`} class="inline">
        <CsrfField csrf={csrf} />
        <label for="reset">Restart, forgetting</label>{' '}
        <select id="reset" name="reset">
          <option value="watermark">the watermark (keep links)</option>
          <option value="full">everything (links too: re-match all)</option>
        </select>{' '}
        <button type="submit" class="danger">
          Restart
        </button>
      </form>
      <QuarantineForm url={url} csrf={csrf} />
    </section>
  );
}

/** Deleting asks twice: the app's name typed again, and whether its logs go now or after their retention. */
function DeleteApp({ app, me, csrf }: { app: AppView; me: Me; csrf: string }) {
  if (!can(me, 'apps:write')) return null;
  return (
    <section aria-labelledby="delete-h">
      <h2 id="delete-h">Delete this app</h2>
      <p class="sub">
        Stops its job for good and removes its assignments, links and cycles. Accounts in the target stay as they are.
        Its provisioning logs are kept for {app.settings.retention?.logDays ?? 30} days unless you delete them now.
      </p>
      <form method="post" action={`${appUrl(app.id)}/delete`} class="card grid">
        <CsrfField csrf={csrf} />
        <label for="del-confirm">Type the app's name to confirm</label>
        <input id="del-confirm" name="confirm" autocomplete="off" required />
        <div>
          <input type="checkbox" id="del-purge" name="purge" value="true" />{' '}
          <label for="del-purge">Also delete its provisioning logs now</label>
        </div>
        <button type="submit" class="danger">
          Delete app
        </button>
      </form>
    </section>
  );
}

/** The cycle history; refreshed every few seconds so a cycle that ends shows up in the chart. */
function History({ id, cycles }: { id: string; cycles: Cycle[] }) {
  return (
    <section
      id="history"
      aria-labelledby="history-h"
      hx-get={`${appUrl(id)}/history`}
      hx-trigger="every 5s"
      hx-swap="outerHTML"
    >
      <h2 id="history-h">Cycle history</h2>
      <CycleChart cycles={cycles} />
    </section>
  );
}

const loadCycles = async (c: ConsoleContext, id: string): Promise<Cycle[]> => {
  const cycles = await c.get('client').get<Page<Cycle>>(`${apiApp(id)}/cycles${query({ limit: 20 })}`);
  return cycles.ok ? cycles.data.items : [];
};

async function loadApp(c: ConsoleContext, id: string) {
  const client = c.get('client');
  const [app, provisioning] = await Promise.all([
    client.need<AppView>(apiApp(id)),
    client.get<Provisioning>(`${apiApp(id)}/provisioning`),
  ]);
  return { app, provisioning: provisioning.ok ? provisioning.data : null };
}

export function appRoutes(router: ConsoleRouter) {
  capabilityRoutes(router);
  router.get('/console/apps/:id', async (c) => {
    const id = c.req.param('id');
    const { app, provisioning } = await loadApp(c, id);
    const [cycles, probe] = await Promise.all([loadCycles(c, id), loadProbe(c, id)]);
    const me = c.get('me');
    const csrf = c.get('csrf');
    const url = appUrl(id);
    return c.html(
      <Layout title={app.name} me={me} csrf={csrf} notice={c.req.query('notice')} error={c.req.query('error')}>
        <p class="sub">
          {app.template} → <code>{app.target.url}</code> · <a href={`${url}/mappings`}>Mappings and scope</a> ·{' '}
          <a href={`${url}/logs`}>Provisioning logs</a>
          {can(me, 'provisioning:onDemand') ? (
            <>
              {' '}
              · <a href={`${url}/on-demand`}>Provision on demand</a>
            </>
          ) : null}{' '}
          · <a href={`${url}/expressions`}>Expression tester</a>
          {provisioning?.temporalUiUrl ? (
            <>
              {' '}
              · <a href={provisioning.temporalUiUrl}>Job in Temporal</a>
            </>
          ) : null}
        </p>
        <StatusPanel app={app} provisioning={provisioning} me={me} csrf={csrf} />
        <Actions app={app} me={me} csrf={csrf} />
        <History id={id} cycles={cycles} />
        <CapabilitiesSection appId={id} profile={app.settings.profile} probe={probe} me={me} csrf={csrf} />
        <AssignmentsSection c={c} appId={id} />
        <SettingsForm app={app} me={me} csrf={csrf} />
        <DeleteApp app={app} me={me} csrf={csrf} />
      </Layout>,
    );
  });

  router.get('/console/apps/:id/history', async (c) => {
    const id = c.req.param('id');
    return c.html(<History id={id} cycles={await loadCycles(c, id)} />);
  });

  router.get('/console/apps/:id/status', async (c) => {
    const { app, provisioning } = await loadApp(c, c.req.param('id'));
    return c.html(<StatusPanel app={app} provisioning={provisioning} me={c.get('me')} csrf={c.get('csrf')} />);
  });

  router.post('/console/apps/:id/actions/:action', async (c) => {
    const id = c.req.param('id');
    const action = c.req.param('action');
    if (!ACTIONS.includes(action)) return backTo(c, appUrl(id), { error: `No action ${action}` });
    const request = actionBody(action, await c.req.parseBody());
    if ('error' in request) return backTo(c, appUrl(id), { error: request.error });
    const result = await c.get('client').call('POST', `${apiApp(id)}/provisioning/${action}`, request.body);
    return backTo(
      c,
      appUrl(id),
      result.ok
        ? { notice: `Asked the job to ${action.replace('-', ' ')}` }
        : { error: describeProblem(result.problem) },
    );
  });

  router.post('/console/apps/:id/delete', async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const app = await c.get('client').need<AppView>(apiApp(id));
    if (formText(form, 'confirm') !== app.name) {
      return backTo(c, appUrl(id), { error: `Not deleted: type the app's name (${app.name}) to confirm` });
    }
    const purge = formText(form, 'purge') === 'true';
    const result = await c.get('client').call('DELETE', `${apiApp(id)}${query({ purge: purge ? 'true' : undefined })}`);
    if (!result.ok) return backTo(c, appUrl(id), { error: describeProblem(result.problem) });
    const kept = purge ? 'its logs deleted too' : `its logs kept for ${app.settings.retention?.logDays ?? 30} days`;
    return c.redirect(`/${query({ notice: `Deleted ${app.name} (${kept})` })}`, 303);
  });

  router.post('/console/apps/:id/test-connection', async (c) => {
    const id = c.req.param('id');
    const result = await c
      .get('client')
      .call<{ ok: boolean; reason?: string; message?: string }>('POST', `${apiApp(id)}/test-connection`);
    const back = c.req.query('back') === 'setup' ? `/console/new/${encodeURIComponent(id)}` : appUrl(id);
    if (!result.ok) return backTo(c, back, { error: describeProblem(result.problem) });
    if (result.data.ok) return backTo(c, back, { notice: 'Test connection: the target answers as a SCIM service' });
    return backTo(c, back, { error: `Test connection failed (${result.data.reason}): ${result.data.message ?? ''}` });
  });

  router.post('/console/apps/:id/settings', async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const patch = settingsPatch(form);
    if ('error' in patch) return backTo(c, appUrl(id), { error: patch.error });
    const result = await c.get('client').call('PATCH', apiApp(id), patch.body);
    return backTo(c, appUrl(id), result.ok ? { notice: 'Settings saved' } : { error: describeProblem(result.problem) });
  });
}
