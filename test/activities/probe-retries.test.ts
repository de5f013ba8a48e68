// A cycle's first request (the test connection) follows the retry and Retry-After rules of every other
// request: one 429, 5xx or reset does not fail the whole cycle; only a configuration failure does.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFerryActivities, type FerryActivityHandle } from '../../activities/index.ts';
import { openStore, type Store } from '../../store/index.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from '../support/postgres.ts';
import { startFaultProxy, startScimmyPeer, type FaultProxy, type ScimPeer } from '../support/scim-peers.ts';
import { createApp, groupId, upn, userId } from '../provisioning/fixtures.ts';
import { runCycleDirect } from './helpers.ts';

describe('the test connection that starts a cycle', () => {
  let db: TestDatabase;
  let store: Store;
  let peer: ScimPeer;
  let proxy: FaultProxy | null = null;
  let handle: FerryActivityHandle;

  beforeEach(async () => {
    db = await createTestDatabase('probe');
    store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY, poolSize: 4 });
    await store.migrate();
    peer = await startScimmyPeer();
    handle = createFerryActivities({ store, allowInsecureLoopback: true });
    await store.directory.createGroup({ id: groupId(1), displayName: 'Everyone' });
    await store.directory.createUser({ id: userId(1), userPrincipalName: upn(1), displayName: 'User 1' });
    await store.directory.addMember(groupId(1), userId(1));
  });

  afterEach(async () => {
    await handle?.close();
    await proxy?.close();
    await peer?.close();
    await store?.close();
    await db?.drop();
  });

  it('is retried after a 429 (Retry-After), a 503 and a reset, and the cycle succeeds', async () => {
    proxy = await startFaultProxy({
      target: peer.baseUrl,
      faultRate: 0,
      seed: 1,
      faults: [],
      faultFirst: [429, 503, 'reset'],
      retryAfterSeconds: 1,
    });
    const appId = await createApp(
      store,
      { baseUrl: proxy.baseUrl, token: peer.token },
      { shape: { users: 1, groups: 1 } },
    );
    expect(await handle.activities.checkTarget({ appId })).toBeNull();
    expect(proxy.counts).toEqual({ '429': 1, '503': 1, reset: 1 });
    const summary = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
    });
    expect(summary).toMatchObject({ status: 'succeeded', failure: null, counts: { created: 2 } });
  });

  it('still fails the cycle as a configuration failure when the target refuses the credentials', async () => {
    const appId = await createApp(
      store,
      { baseUrl: peer.baseUrl, token: 'wrong-token' },
      { shape: { users: 1, groups: 1 } },
    );
    const before = peer.requestLog.length;
    expect(await handle.activities.checkTarget({ appId })).toMatchObject({
      kind: 'configuration',
      code: 'Unauthorized',
    });
    // A 401 is believed at once (no retries for a bearer token).
    expect(peer.requestLog.length - before).toBe(1);
  });
});
