// What leaves an activity is typed: a Temporal failure whose type names the error class, retryable
// only when a retry can help. These two once left as plain Errors (type "Error", always retried).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFerryActivities, type FerryActivityHandle } from '../../activities/index.ts';
import { newLockHolder, releaseClaims, tryClaim } from '../../activities/object-locks.ts';
import { openStore, type Store } from '../../store/index.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from '../support/postgres.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { createApp } from '../provisioning/fixtures.ts';

describe('typed activity failures', () => {
  let db: TestDatabase;
  let store: Store;
  let peer: ScimPeer;
  let handle: FerryActivityHandle;
  let appId: string;

  beforeAll(async () => {
    db = await createTestDatabase('typederrors');
    store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY, poolSize: 4 });
    await store.migrate();
    peer = await startScimmyPeer();
    handle = createFerryActivities({ store, allowInsecureLoopback: true, lockWaitMs: 100 });
    await store.directory.createUser({ id: 'u1', userPrincipalName: 'u1@contoso.com', displayName: 'U One' });
    appId = await createApp(store, peer, { shape: { users: 0, groups: 0 } });
  });

  afterAll(async () => {
    await handle?.close();
    await peer?.close();
    await store?.close();
    await db?.drop();
  });

  it('a batch of a cycle that is not in the database fails as NotFoundError, not retried', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const error = await handle.activities
      .processBatch({ appId, cycleId: missing, phase: 'users', cursor: 0, batchSize: 10 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ type: 'NotFoundError', nonRetryable: true });
    expect(String((error as Error).message)).toBe(`Cycle ${missing} does not exist`);
  });

  it('on-demand for an object a cycle holds past the wait fails as ObjectBusy, not retried (the API answers 409 object_busy)', async () => {
    const holder = await newLockHolder(store, 'cycle:someone');
    expect(await tryClaim(store, appId, 'user', ['u1'], holder, 60_000)).toEqual(new Set(['u1']));
    try {
      const error = await handle.activities
        .provisionOnDemand({ appId, requestId: 'held', objectType: 'user', objectId: 'u1' })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ type: 'ObjectBusy', nonRetryable: true });
      expect(String((error as Error).message)).toMatch(/user u1 is being provisioned by a cycle; try again shortly/);
    } finally {
      await releaseClaims(store, appId, 'user', ['u1'], holder);
    }
    expect(peer.requestLog.some((r) => r.method === 'POST')).toBe(false);
  });
});
