/** @jsxImportSource hono/jsx */
// The app page's "Target capabilities": the latest capability probe (what the target advertises and
// does, the suggested compatibility profile) for everyone, and the Probe button for operators.
import { describeProblem } from '../api-client.ts';
import type { ConsoleContext, ConsoleRouter } from '../app.tsx';
import { CsrfField, Time, can } from '../layout.tsx';
import type { Me } from '../types.ts';
import { apiApp, appUrl, backTo } from './app.tsx';
import { formText } from './form.ts';

/** GET /apps/{id}/probe, as the console shows it. */
export interface AppProbe {
  probedAt: string;
  probedBy: string;
  writes: boolean;
  result: {
    connection: { ok: boolean; reason?: string; message?: string };
    advertised: {
      patch: boolean;
      bulk: { supported: boolean; maxOperations: number | null };
      filter: { maxResults: number | null };
      etag: boolean;
      sort: boolean;
    } | null;
    checks: { id: string; outcome: string; detail: string }[];
    cleanup: { userName: string; deleted: boolean; detail?: string } | null;
    suggestion: { profile: string | null; basis: string; reason: string } | null;
    error?: string;
  };
}

export const loadProbe = async (c: ConsoleContext, id: string): Promise<AppProbe | null> => {
  const probe = await c.get('client').get<AppProbe>(`${apiApp(id)}/probe`);
  return probe.ok ? probe.data : null;
};

const yesNo = (value: boolean) => (value ? 'yes' : 'no');

export function CapabilitiesSection({
  appId,
  profile,
  probe,
  me,
  csrf,
}: {
  appId: string;
  profile: string;
  probe: AppProbe | null;
  me: Me;
  csrf: string;
}) {
  const result = probe?.result;
  const advertised = result?.advertised;
  return (
    <section id="capabilities" aria-labelledby="capabilities-h">
      <h2 id="capabilities-h">Target capabilities</h2>
      {!probe || !result ? (
        <p class="sub">Not probed yet.</p>
      ) : (
        <>
          <p class="sub">
            Probed <Time iso={probe.probedAt} /> by {probe.probedBy}
            {probe.writes ? ' (with writes)' : ' (read-only)'}.
          </p>
          {!result.connection.ok ? (
            <p class="problem">
              Test connection failed ({result.connection.reason}): {result.connection.message}
            </p>
          ) : null}
          {result.error ? <p class="problem">{result.error}</p> : null}
          {result.suggestion ? (
            <p>
              Suggested profile: <strong>{result.suggestion.profile ?? 'none works'}</strong> ({result.suggestion.basis}
              ; this app uses {profile}) — {result.suggestion.reason}
            </p>
          ) : null}
          {advertised ? (
            <p>
              Advertised: PATCH {yesNo(advertised.patch)} · Bulk{' '}
              {advertised.bulk.supported ? `yes (max ${advertised.bulk.maxOperations ?? '?'} operations)` : 'no'} ·
              filter max results {advertised.filter.maxResults ?? '?'} · ETag {yesNo(advertised.etag)} · sort{' '}
              {yesNo(advertised.sort)}
            </p>
          ) : result.connection.ok && !result.error ? (
            <p>No usable /ServiceProviderConfig.</p>
          ) : null}
          {result.checks.length > 0 ? (
            <table>
              <thead>
                <tr>
                  <th>Check</th>
                  <th>Outcome</th>
                  <th>Detail</th>
                </tr>
              </thead>
              <tbody>
                {result.checks.map((check) => (
                  <tr>
                    <td>
                      <code>{check.id}</code>
                    </td>
                    <td>{check.outcome}</td>
                    <td>{check.detail}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {result.cleanup && !result.cleanup.deleted ? <p class="problem">{result.cleanup.detail}</p> : null}
        </>
      )}
      {can(me, 'provisioning:control') ? (
        <form method="post" action={`${appUrl(appId)}/probe`} class="inline">
          <CsrfField csrf={csrf} />
          <input type="checkbox" id="probe-writes" name="writes" value="true" />{' '}
          <label for="probe-writes">Also try writes (one inactive throwaway user, deleted again)</label>{' '}
          <button type="submit">Probe</button>
        </form>
      ) : null}
    </section>
  );
}

export function capabilityRoutes(router: ConsoleRouter) {
  router.post('/console/apps/:id/probe', async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const writes = formText(form, 'writes') === 'true';
    const result = await c.get('client').call<AppProbe>('POST', `${apiApp(id)}/probe`, { writes });
    if (!result.ok) return backTo(c, appUrl(id), { error: describeProblem(result.problem) });
    const { connection, suggestion, error } = result.data.result;
    if (!connection.ok) return backTo(c, appUrl(id), { error: `Probe: test connection failed (${connection.reason})` });
    if (error) return backTo(c, appUrl(id), { error });
    return backTo(c, appUrl(id), { notice: `Probed: suggested profile ${suggestion?.profile ?? 'none works'}` });
  });
}
