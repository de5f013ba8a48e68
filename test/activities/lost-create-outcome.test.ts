// The provisioning log says what Ferry did: accounts Ferry created in an attempt whose outcomes were
// never saved (the worker died between the POSTs and the write) are logged as Creates when the retry
// finds them, not as pre-existing accounts matched and skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFerryActivities, type FerryActivityHandle } from '../../activities/index.ts';
import type { Store } from '../../store/index.ts';
import type { ScimPeer } from '../support/scim-peers.ts';
import { createApp, groupId, upn, userId } from '../provisioning/fixtures.ts';
import { beginInitialCycle, runCycleDirect, openActivityTestbed, type ActivityTestbed } from './helpers.ts';

const USERS = 30;

describe('creates whose outcome an interrupted attempt lost', () => {
  let bed: ActivityTestbed;
  let store: Store;
  let peer: ScimPeer;
  let handle: FerryActivityHandle;
  let appId: string;

  beforeAll(async () => {
    bed = await openActivityTestbed('lostcreate', { deps: { bulkMatchThreshold: 1 } });
    ({ store, peer, handle } = bed);
    await store.directory.createGroup({ id: groupId(1), displayName: 'Everyone' });
    for (let i = 1; i <= USERS; i++) {
      await store.directory.createUser({ id: userId(i), userPrincipalName: upn(i), displayName: `User ${i}` });
      await store.directory.addMember(groupId(1), userId(i));
    }
    appId = await createApp(store, peer, { shape: { users: USERS, groups: 1 } });
  });

  afterAll(async () => {
    await bed?.close();
  });

  it('are logged as Creates by the retry that adopts them', async () => {
    const cycleId = await beginInitialCycle(handle.activities, appId);
    // The first attempt sends its POSTs, then cannot save anything (as when the worker is killed).
    const dying = createFerryActivities({
      store: { ...store, transaction: () => Promise.reject(new Error('the worker was killed')) },
      allowInsecureLoopback: true,
    });
    try {
      const batch = { appId, cycleId, phase: 'users' as const, cursor: 0, batchSize: 100 };
      await expect(dying.activities.processBatch(batch)).rejects.toThrow();
    } finally {
      await dying.close();
    }
    expect(await peer.users()).toHaveLength(USERS);
    expect((await store.logs.query({ appId, cycleId })).items).toEqual([]);

    const summary = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
    });
    expect(summary).toMatchObject({ cycleId, status: 'succeeded', counts: { created: USERS + 1, skipped: 0 } });
    expect(await peer.users()).toHaveLength(USERS);
    const logs = await store.logs.query({ appId, cycleId, objectType: 'user', limit: 100 });
    expect(logs.items).toHaveLength(USERS);
    expect(new Set(logs.items.map((l) => `${l.action} ${l.status}`))).toEqual(new Set(['Create Success']));
    const entry = logs.items.find((l) => l.sourceId === userId(7));
    expect(entry?.modifiedAttributes).toEqual(
      expect.arrayContaining([{ name: 'userName', oldValue: null, newValue: upn(7) }]),
    );
    expect(entry?.steps.find((s) => s.name === 'export')?.details.detail).toMatch(/created by Ferry/);
    // Saved now: the next cycle has nothing to adopt.
    expect((await store.links.get(appId, 'user', userId(7)))?.createRequestedAt).toBeNull();
  });
});
