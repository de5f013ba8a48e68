// What the reconcile tests share: an app provisioned once by a real cycle whose job is then stopped
// (only the passes touch the target afterwards), the API that starts passes and answers drift, and
// requests sent straight to the target as someone editing it by hand.
import { expect } from 'vitest';
import { createApp as createApi } from '../../api/app.ts';
import { createTemporalReconcileControl } from '../../api/reconcile-control.ts';
// After the API: its modules extend zod with OpenAPI before engine/config builds its schemas.
import type { ScimResource } from '../../engine/types.ts';
import { reconcileWorkflowId } from '../../workflows/messages.ts';
import { API_KEY, auth, recordingProvisioning } from '../api/helpers.ts';
import type { ScimPeer } from '../support/scim-peers.ts';
import type { ProvisioningHarness } from './harness.ts';

export type ReconcileApi = ReturnType<typeof createApi>;

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** A JSON request to the API with the test key. */
export const apiJson = (method: string, body?: unknown) => ({
  method,
  headers: { ...auth(), 'Content-Type': 'application/json' },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

/** A request straight to the target, as someone editing it by hand; answers the resource (null on 204). */
export async function targetRequest(
  peer: ScimPeer,
  method: string,
  path: string,
  body?: unknown,
): Promise<ScimResource | null> {
  const res = await fetch(`${peer.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${peer.token}`, 'Content-Type': 'application/scim+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : ((await res.json()) as ScimResource);
}

/**
 * Runs the app's first cycle to its end, then stops the job, and answers the API (reconcile passes
 * through the harness's Temporal).
 */
export async function provisionedThenStopped(h: ProvisioningHarness, appId: string) {
  const job = await h.startJob(appId);
  await h.waitForCycle(appId, 1);
  await job.terminate('only the passes touch the target from here on');
  return createApi({
    apiKeys: [API_KEY],
    provisioning: recordingProvisioning().control,
    resources: {
      store: h.store,
      allowInsecureLoopback: true,
      reconcile: createTemporalReconcileControl(h.env.client.workflow, h.taskQueue),
    },
  });
}

/** Starts a pass through the API and waits for its workflow; answers the pass and the requests it sent to the target. */
export async function reconcileThroughApi(
  h: ProvisioningHarness,
  api: ReconcileApi,
  peer: ScimPeer,
  appId: string,
  body: Record<string, unknown> = {},
) {
  const before = peer.requestLog.length;
  const res = await api.request(`/api/v1/apps/${appId}/reconcile`, apiJson('POST', body));
  expect(res.status).toBe(202);
  const pass = (await res.json()) as { id: string; mode: string; status: string };
  await h.env.client.workflow.getHandle(reconcileWorkflowId(appId)).result();
  return { pass, requests: peer.requestLog.slice(before) };
}
