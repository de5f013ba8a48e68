// Orphans (target accounts no link points at) under the app's `orphanPolicy`, end to end: the real
// Ferry worker on the in-repo Temporal service, a scimmy peer as the target, the API's settings and
// POST /apps/{id}/reconcile. `report` leaves them alone; `adopt` links the one an in-scope user
// matches, and the next cycle updates that account instead of creating a second one; `disable` sends
// active=false once to the one nobody matches and says so in the provisioning log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// First: the API's modules extend zod with OpenAPI before engine/config builds its schemas.
import {
  apiJson,
  provisionedThenStopped,
  type ReconcileApi,
  reconcileThroughApi,
  targetRequest,
  USER_SCHEMA,
} from './reconcile-fixture.ts';
import type { ScimResource } from '../../engine/types.ts';
import { auth } from '../api/helpers.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { createApp, seedDirectory, upn, userId } from './fixtures.ts';
import { startProvisioningHarness, type ProvisioningHarness } from './harness.ts';

interface Finding {
  kind: string;
  sourceId: string | null;
  targetId: string;
  outcome: string;
  logId: string | null;
}

describe('reconcile orphan policy', () => {
  let h: ProvisioningHarness;
  let peer: ScimPeer;
  let appId: string;
  let api: ReconcileApi;
  /** Made by hand with user 4's userName; user 4 is assigned later, so no link points at it. */
  let matching: ScimResource;
  /** Made by hand for nobody in the directory. */
  let stranger: ScimResource;

  const json = apiJson;
  const createAccount = async (body: Record<string, unknown>) =>
    (await targetRequest(peer, 'POST', '/Users', { schemas: [USER_SCHEMA], active: true, ...body })) as ScimResource;
  const accountsNamed = async (userName: string) => (await peer.users()).filter((u) => u.userName === userName);
  const settings = async (body: Record<string, unknown>) =>
    api.request(`/api/v1/apps/${appId}`, json('PATCH', { settings: body }));

  /** Runs a pass in the app's configured mode; answers its orphan findings by target id and the writes it sent. */
  async function reconcile() {
    const { requests } = await reconcileThroughApi(h, api, peer, appId);
    const drift = await api.request(`/api/v1/apps/${appId}/drift?kind=orphan`, { headers: auth() });
    const { items } = (await drift.json()) as { items: Finding[] };
    return {
      orphans: new Map(items.map((f) => [f.targetId, f])),
      writes: requests.filter((r) => r.method !== 'GET'),
    };
  }

  beforeAll(async () => {
    h = await startProvisioningHarness();
    peer = await startScimmyPeer();
    await seedDirectory(h.store, { users: 6, groups: 1 });
    appId = await createApp(h.store, peer, { assignGroups: false });
    for (let i = 1; i <= 3; i++) await h.store.assignments.assign(appId, userId(i), 'User');
    api = await provisionedThenStopped(h, appId);
    matching = await createAccount({ userName: upn(4), title: 'Visitor' });
    stranger = await createAccount({ userName: 'stranger@contoso.com', title: 'Visitor' });
    await h.store.assignments.assign(appId, userId(4), 'User');
    expect((await settings({ driftRepair: 'repair' })).status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await peer?.close();
  });

  it('report (the default) only records the orphans, even in a repair pass', async () => {
    const app = (await (await api.request(`/api/v1/apps/${appId}`, { headers: auth() })).json()) as {
      settings: { orphanPolicy: string };
    };
    expect(app.settings.orphanPolicy).toBe('report');
    const { orphans, writes } = await reconcile();
    expect(writes).toEqual([]);
    expect(orphans.get(matching.id as string)).toMatchObject({ outcome: 'reported', sourceId: null });
    expect(orphans.get(stranger.id as string)).toMatchObject({ outcome: 'reported', sourceId: null });
    expect(await h.store.links.get(appId, 'user', userId(4))).toBeNull();
  });

  it('refuses an unknown policy with an error naming the setting and the value', async () => {
    const res = await settings({ orphanPolicy: 'delete' });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toContain('orphanPolicy');
    expect(error.message).toContain('delete');
  });

  it('adopt links the orphan an in-scope user matches; the next cycle updates that account, no duplicate', async () => {
    expect((await settings({ orphanPolicy: 'adopt' })).status).toBe(200);
    const { orphans, writes } = await reconcile();
    expect(writes).toEqual([]);
    const adopted = orphans.get(matching.id as string);
    expect(adopted).toMatchObject({ outcome: 'adopted', sourceId: userId(4) });
    expect(orphans.get(stranger.id as string)).toMatchObject({ outcome: 'reported', sourceId: null });
    expect((await h.store.links.get(appId, 'user', userId(4)))?.targetId).toBe(matching.id);
    expect(await h.store.logs.get(adopted?.logId as string)).toMatchObject({
      action: 'Other',
      status: 'Success',
      sourceId: userId(4),
      targetId: matching.id,
    });

    const job = await h.startJob(appId);
    await h.waitForCycle(appId, 1);
    await job.terminate('cycle seen');
    const accounts = await accountsNamed(upn(4));
    expect(accounts.map((a) => a.id)).toEqual([matching.id]);
    expect(accounts[0].title).toBe('Engineer');
  });

  it('disable sends active=false once to an orphan nobody matches and logs it; never deletes', async () => {
    expect((await settings({ orphanPolicy: 'disable' })).status).toBe(200);
    // An account an unlinked in-scope user matches is left for that user's next cycle.
    const claimed = await createAccount({ userName: upn(5) });
    await h.store.assignments.assign(appId, userId(5), 'User');

    const first = await reconcile();
    expect(first.writes.map((w) => `${w.method} ${new URL(w.path, 'http://x').pathname}`)).toEqual([
      expect.stringMatching(new RegExp(`^PATCH .*/Users/${stranger.id}$`)),
    ]);
    const disabled = first.orphans.get(stranger.id as string);
    expect(disabled?.outcome).toBe('disabled');
    expect(first.orphans.get(claimed.id as string)).toMatchObject({ outcome: 'reported', sourceId: userId(5) });
    expect(await accountsNamed('stranger@contoso.com')).toEqual([expect.objectContaining({ active: false })]);
    expect((await accountsNamed(upn(5)))[0].active).toBe(true);
    expect(await h.store.logs.get(disabled?.logId as string)).toMatchObject({
      action: 'Disable',
      status: 'Success',
      targetId: stranger.id,
      modifiedAttributes: [{ name: 'active', oldValue: true, newValue: false }],
    });

    const second = await reconcile();
    expect(second.writes).toEqual([]);
    expect(second.orphans.get(stranger.id as string)?.outcome).toBe('reported');
  });
});
