// A failed object is escrowed on the engine's schedule, counted as failed, logged with its error
// code, and retried by the next cycle even when nothing else changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFerryActivities, type FerryActivityHandle } from '../../activities/index.ts';
import { PermanentError } from '../../engine/errors.ts';
import { createScimClient, type ScimClient, type ScimClientOptions } from '../../scim/index.ts';
import { openStore, type Store } from '../../store/index.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from '../support/postgres.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { createApp, seedDirectory, upn, userId } from '../provisioning/fixtures.ts';
import { runCycleDirect } from './helpers.ts';

describe('escrow', () => {
  const shape = { users: 20, groups: 2 };
  let db: TestDatabase;
  let store: Store;
  let peer: ScimPeer;
  let handle: FerryActivityHandle;
  let appId: string;
  let rejecting = true;
  let now = new Date('2026-11-23T08:00:00Z');

  beforeAll(async () => {
    db = await createTestDatabase('escrow');
    store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY, poolSize: 4 });
    await store.migrate();
    peer = await startScimmyPeer();
    // The target refuses one user with a 400 while `rejecting` holds.
    const factory = (options: ScimClientOptions): ScimClient => {
      const client = createScimClient(options);
      return {
        ...client,
        createOrAdopt: async (type, resource, match) => {
          if (rejecting && resource.userName === upn(3)) {
            throw new PermanentError('userName is not acceptable', {
              code: 'BadRequest',
              status: 400,
              scimType: 'invalidValue',
            });
          }
          return client.createOrAdopt(type, resource, match);
        },
      };
    };
    handle = createFerryActivities({ store, allowInsecureLoopback: true, createScimClient: factory, now: () => now });
    await seedDirectory(store, shape);
    appId = await createApp(store, peer, { shape });
  });

  afterAll(async () => {
    await handle?.close();
    await peer?.close();
    await store?.close();
    await db?.drop();
  });

  it('escrows the failed object, logs the failure and provisions the rest', async () => {
    const summary = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
    });
    expect(summary.status).toBe('succeeded');
    expect(summary.counts).toMatchObject({ created: 21, failed: 1, escrowed: 1 });
    const link = await store.links.get(appId, 'user', userId(3));
    expect(link?.failureCount).toBe(1);
    expect(link?.targetId).toBeNull();
    expect(link?.nextRetryAt).toBe(now.toISOString());
    const logs = await store.logs.query({ appId, cycleId: summary.cycleId, status: 'Failure' });
    expect(logs.items.map((l) => [l.sourceId, l.action, l.errorCode])).toEqual([[userId(3), 'Create', 'BadRequest']]);
  });

  it('a second failure waits 6 hours', async () => {
    now = new Date(now.getTime() + 40 * 60_000);
    const app = await store.apps.require(appId);
    const summary = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 2,
      kind: 'incremental',
      watermark: app.watermark,
    });
    expect(summary.counts).toMatchObject({ failed: 1, escrowed: 1 });
    const link = await store.links.get(appId, 'user', userId(3));
    expect(link?.failureCount).toBe(2);
    expect(link?.nextRetryAt).toBe(new Date(now.getTime() + 6 * 3_600_000).toISOString());
  });

  it('nothing is retried before the retry is due; then it is provisioned and the escrow cleared', async () => {
    rejecting = false;
    now = new Date(now.getTime() + 40 * 60_000);
    let app = await store.apps.require(appId);
    const early = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 3,
      kind: 'incremental',
      watermark: app.watermark,
    });
    expect(early.counts.created).toBe(0);
    now = new Date(now.getTime() + 6 * 3_600_000);
    app = await store.apps.require(appId);
    const due = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 4,
      kind: 'incremental',
      watermark: app.watermark,
    });
    expect(due.counts).toMatchObject({ created: 1, failed: 0 });
    const link = await store.links.get(appId, 'user', userId(3));
    expect(link).toMatchObject({ failureCount: 0, nextRetryAt: null, lastError: null });
    expect((await peer.users()).some((u) => String(u.userName).toLowerCase() === upn(3))).toBe(true);
    // Group 01 now has its missing member.
    const group = (await peer.groups()).find((g) => g.displayName === 'Group 01');
    const user3 = (await peer.users()).find((u) => String(u.userName).toLowerCase() === upn(3));
    expect((group?.members as { value: string }[]).map((m) => m.value)).toContain(user3?.id);
  });
});
