// Drift detection and repair, end to end: the real Ferry worker on the in-repo Temporal service, a
// scimmy peer as the target, and the API's POST /apps/{id}/reconcile and GET /apps/{id}/drift.
// Someone edits an account in the target, deletes another and adds one Ferry never made; a pass in
// report mode finds all three and writes nothing; a pass in repair mode puts the edit back with one
// PATCH, creates the deleted account again and re-links it, and leaves the orphan alone.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// First: the API's modules extend zod with OpenAPI before engine/config builds its schemas.
import {
  apiJson,
  provisionedThenStopped,
  reconcileThroughApi,
  targetRequest,
  USER_SCHEMA,
} from './reconcile-fixture.ts';
import { createApp as createApi } from '../../api/app.ts';
import { createTemporalReconcileControl } from '../../api/reconcile-control.ts';
import { createFerryActivities } from '../../activities/index.ts';
import type { ScimResource } from '../../engine/types.ts';
import { reconcileWorkflowId } from '../../workflows/messages.ts';
import { API_KEY, auth, recordingProvisioning } from '../api/helpers.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { createApp, seedDirectory, upn, userId } from './fixtures.ts';
import { startProvisioningHarness, type ProvisioningHarness } from './harness.ts';

interface DriftAnswer {
  pass: {
    id: string;
    mode: string;
    status: string;
    counts: Record<string, number>;
    error: string | null;
    finishedAt: string | null;
  } | null;
  items: {
    kind: string;
    sourceId: string | null;
    targetId: string;
    displayName: string | null;
    attributes: { name: string; oldValue: unknown; newValue: unknown }[];
    outcome: string;
    logId: string | null;
  }[];
  nextCursor: string | null;
}

describe('reconcile passes', () => {
  let h: ProvisioningHarness;
  let peer: ScimPeer;
  let appId: string;
  let api: ReturnType<typeof createApi>;
  let edited: ScimResource;
  let deleted: ScimResource;
  let orphan: ScimResource;

  const json = apiJson;
  /** A request straight to the target, as someone editing it by hand. */
  const target = (method: string, path: string, body?: unknown) => targetRequest(peer, method, path, body);
  const byUserName = async (userName: string) => (await peer.users()).find((u) => u.userName === userName);

  const reconcile = (body: Record<string, unknown>) => reconcileThroughApi(h, api, peer, appId, body);
  const drift = async (query = ''): Promise<DriftAnswer> => {
    const res = await api.request(`/api/v1/apps/${appId}/drift${query}`, { headers: auth() });
    expect(res.status).toBe(200);
    return (await res.json()) as DriftAnswer;
  };

  beforeAll(async () => {
    h = await startProvisioningHarness();
    peer = await startScimmyPeer();
    await seedDirectory(h.store, { users: 6, groups: 1 });
    appId = await createApp(h.store, peer, { assignGroups: false });
    for (let i = 1; i <= 4; i++) await h.store.assignments.assign(appId, userId(i), 'User');
    api = await provisionedThenStopped(h, appId);

    edited = (await byUserName(upn(1))) as ScimResource;
    deleted = (await byUserName(upn(2))) as ScimResource;
    expect(edited?.title).toBe('Engineer');
    await target('PATCH', `/Users/${edited.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'CEO' }],
    });
    await target('DELETE', `/Users/${deleted.id}`);
    orphan = (await target('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'stranger@contoso.com',
      active: true,
      title: 'Visitor',
    })) as ScimResource;
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await peer?.close();
  });

  it('report mode finds the edit, the deletion and the orphan, and writes nothing to the target', async () => {
    const { pass, requests } = await reconcile({ mode: 'report' });
    expect(pass.mode).toBe('report');
    expect(requests.filter((r) => r.method !== 'GET')).toEqual([]);

    const answer = await drift();
    expect(answer.pass).toMatchObject({ id: pass.id, status: 'completed', mode: 'report' });
    expect(answer.pass?.counts).toMatchObject({ edited: 1, deleted: 1, orphan: 1, reported: 3, accounts: 4 });
    const byKind = Object.fromEntries(answer.items.map((f) => [f.kind, f]));
    expect(byKind.edited).toMatchObject({
      sourceId: userId(1),
      targetId: edited.id,
      outcome: 'reported',
      attributes: [{ name: 'title', oldValue: 'CEO', newValue: 'Engineer' }],
    });
    expect(byKind.deleted).toMatchObject({ sourceId: userId(2), targetId: deleted.id, outcome: 'reported' });
    expect(byKind.orphan).toMatchObject({ sourceId: null, targetId: orphan.id, displayName: 'stranger@contoso.com' });

    const orphans = await drift('?kind=orphan');
    expect(orphans.items.map((f) => f.targetId)).toEqual([orphan.id]);
    expect((await byUserName(upn(1)))?.title).toBe('CEO');
    expect(await byUserName(upn(2))).toBeUndefined();
  });

  it('repair mode (the app setting) restores the edit with one PATCH and re-creates and re-links the deleted account', async () => {
    const patched = await api.request(`/api/v1/apps/${appId}`, json('PATCH', { settings: { driftRepair: 'repair' } }));
    expect(patched.status, await patched.clone().text()).toBe(200);
    const { pass, requests } = await reconcile({});
    expect(pass.mode).toBe('repair');

    const writes = requests.filter((r) => r.method !== 'GET');
    expect(writes.filter((r) => r.method === 'PATCH').map((r) => r.path)).toEqual([
      expect.stringMatching(new RegExp(`/Users/${edited.id}$`)),
    ]);
    expect(writes.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual([expect.stringMatching(/\/Users$/)]);
    expect(requests.some((r) => r.path.includes(orphan.id as string))).toBe(false);

    expect((await byUserName(upn(1)))?.title).toBe('Engineer');
    const recreated = await byUserName(upn(2));
    expect(recreated?.id).toBeTruthy();
    expect(recreated?.id).not.toBe(deleted.id);
    expect((await h.store.links.get(appId, 'user', userId(2)))?.targetId).toBe(recreated?.id);
    expect(await byUserName('stranger@contoso.com')).toMatchObject({ id: orphan.id, active: true, title: 'Visitor' });

    const answer = await drift();
    expect(answer.pass).toMatchObject({ id: pass.id, status: 'completed', mode: 'repair' });
    const byKind = Object.fromEntries(answer.items.map((f) => [f.kind, f]));
    expect(byKind.edited.outcome).toBe('repaired');
    expect(byKind.deleted.outcome).toBe('recreated');
    expect(byKind.orphan.outcome).toBe('reported');

    // Both repairs are in the provisioning log.
    const repair = await h.store.logs.get(byKind.edited.logId as string);
    expect(repair).toMatchObject({ action: 'Update', status: 'Success', sourceId: userId(1) });
    expect(repair?.modifiedAttributes).toEqual([{ name: 'title', oldValue: 'CEO', newValue: 'Engineer' }]);
    const recreate = await h.store.logs.get(byKind.deleted.logId as string);
    expect(recreate).toMatchObject({
      action: 'Create',
      status: 'Success',
      sourceId: userId(2),
      targetId: recreated?.id,
    });
  });

  it('a pass after the repair finds only the orphan', async () => {
    await reconcile({ mode: 'report' });
    const answer = await drift();
    expect(answer.items.map((f) => f.kind)).toEqual(['orphan']);
  });

  it('a retried attempt resumes from the page its last heartbeat named, without reading the earlier pages again', async () => {
    const pass = await h.store.reconcile.createPass({ id: 'resumed-pass', appId, mode: 'report' });
    // The earlier attempt read the first two accounts, then heartbeat its position and died.
    const firstTwo = (await target('GET', '/Users?startIndex=1&count=2')) as unknown as { Resources: ScimResource[] };
    await h.store.reconcile.markSeen(
      pass.id,
      firstTwo.Resources.map((r) => r.id as string),
    );
    const handle = createFerryActivities({ store: h.store, allowInsecureLoopback: true });
    const env = new MockActivityEnvironment({ heartbeatDetails: { phase: 'list', startIndex: 3 } });
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const before = peer.requestLog.length;
    try {
      const summary = (await env.run(handle.activities.reconcileApp, { appId, passId: pass.id })) as {
        counts: Record<string, number>;
      };
      expect(summary.counts).toMatchObject({ orphan: 1, accounts: 5 });
      expect(summary.counts.deleted ?? 0).toBe(0);
    } finally {
      await handle.close();
    }
    const listings = peer.requestLog.slice(before).filter((r) => r.method === 'GET' && r.path.includes('/Users?'));
    expect(listings.map((r) => new URL(r.path, 'http://x').searchParams.get('startIndex'))).toEqual(['3']);
    // It beats the page it resumed at (after the orphan found there), then the next phase: never an earlier page.
    expect(beats.filter((b) => (b as { phase: string }).phase === 'list')).toEqual(
      beats.filter((b) => JSON.stringify(b) === JSON.stringify({ phase: 'list', startIndex: 3 })),
    );
    expect(beats).toContainEqual({ phase: 'deleted', after: null });
  });

  it('a page of repairs heartbeats after each one, so slow repairs (a tight rate limit) do not time the pass out', async () => {
    const accounts = await Promise.all([1, 3, 4].map(async (i) => (await byUserName(upn(i))) as ScimResource));
    for (const account of accounts) {
      await target('PATCH', `/Users/${account.id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'title', value: 'Edited by hand' }],
      });
    }
    const pass = await h.store.reconcile.createPass({ id: 'beating-pass', appId, mode: 'repair' });
    const handle = createFerryActivities({ store: h.store, allowInsecureLoopback: true });
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    try {
      await env.run(handle.activities.reconcileApp, { appId, passId: pass.id });
    } finally {
      await handle.close();
    }
    for (const account of accounts) expect((await byUserName(account.userName as string))?.title).toBe('Engineer');
    // All accounts fit one listing page: every repair beats that page's position before the next page's.
    const firstPage = beats.filter((b) => JSON.stringify(b) === JSON.stringify({ phase: 'list', startIndex: 1 }));
    expect(firstPage.length).toBeGreaterThanOrEqual(accounts.length);
  });

  it('answers 409 while a pass of the app is running, 404 for an unknown app, 400 for an unknown mode', async () => {
    // A task queue no worker polls: the first pass stays running for as long as the test needs.
    const stalled = createApi({
      apiKeys: [API_KEY],
      provisioning: recordingProvisioning().control,
      resources: { store: h.store, reconcile: createTemporalReconcileControl(h.env.client.workflow, 'nobody-polls') },
    });
    const first = await stalled.request(`/api/v1/apps/${appId}/reconcile`, json('POST', { mode: 'report' }));
    expect(first.status).toBe(202);
    try {
      const second = await stalled.request(`/api/v1/apps/${appId}/reconcile`, json('POST', { mode: 'report' }));
      expect(second.status).toBe(409);
      expect(((await second.json()) as { error: { code: string } }).error.code).toBe('conflict');
    } finally {
      await h.env.client.workflow.getHandle(reconcileWorkflowId(appId)).terminate('test over');
    }
    expect((await api.request('/api/v1/apps/nope/reconcile', json('POST', {}))).status).toBe(404);
    expect((await api.request(`/api/v1/apps/${appId}/reconcile`, json('POST', { mode: 'fix' }))).status).toBe(400);
  });

  it('shows a pass whose workflow was ended from outside as failed, not running, once the next pass starts', async () => {
    const stalled = createApi({
      apiKeys: [API_KEY],
      provisioning: recordingProvisioning().control,
      resources: { store: h.store, reconcile: createTemporalReconcileControl(h.env.client.workflow, 'nobody-polls') },
    });
    const res = await stalled.request(`/api/v1/apps/${appId}/reconcile`, json('POST', { mode: 'report' }));
    expect(res.status).toBe(202);
    const ended = (await res.json()) as { id: string };
    await h.env.client.workflow.getHandle(reconcileWorkflowId(appId)).terminate('an operator ended it');

    await reconcile({ mode: 'report' });
    const { pass } = await drift(`?passId=${ended.id}`);
    expect(pass).toMatchObject({ id: ended.id, status: 'failed' });
    expect(pass!.error).toMatch(/ended without finishing/);
    expect(pass!.finishedAt).not.toBeNull();
  });
});
