// Object locks are per attempt (fencing): when Temporal gives up on a processBatch attempt (heartbeat
// timeout) that in fact still runs, its retry takes the claims over at once, and the old attempt
// exports nothing more once it notices — no object is sent twice by two attempts side by side.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFerryActivities, type FerryActivityHandle } from '../../activities/index.ts';
import {
  assertClaimHeld,
  ClaimFence,
  ClaimLostError,
  newLockHolder,
  releaseClaims,
  tryClaim,
} from '../../activities/object-locks.ts';
import { objectLocks } from '../../store/schema.ts';
import { createApp, upn, userId } from '../provisioning/fixtures.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { beginInitialCycle, seedOrgChart } from './helpers.ts';
import { openStore, type Store } from '../../store/index.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from '../support/postgres.ts';

const USERS = 8;

/** A proxy in front of the peer that holds the first request until `release()`, and logs the rest. */
async function startGate(target: string) {
  const base = new URL(target);
  let held: (() => void) | null = null;
  let heldOnce = false;
  let onHeld: () => void = () => {};
  const heldNow = new Promise<void>((resolve) => (onHeld = resolve));
  const log: { method: string; path: string; body: string }[] = [];
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const upstream = httpRequest(
      { host: base.hostname, port: base.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.end(body);
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      log.push({ method: req.method ?? '', path: req.url ?? '', body: body.toString('utf8') });
      if (!heldOnce && req.method === 'POST') {
        heldOnce = true;
        held = () => forward(req, res, body);
        onHeld();
        return;
      }
      forward(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}${base.pathname}`,
    log,
    heldNow,
    release: () => {
      const go = held;
      held = null;
      go?.();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('object locks per attempt', () => {
  let db: TestDatabase;
  let store: Store;
  let peer: ScimPeer;
  const handles: FerryActivityHandle[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('objectlocks');
    store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY, poolSize: 6 });
    await store.migrate();
    await seedOrgChart(store, USERS, () => null);
    peer = await startScimmyPeer();
  });

  afterAll(async () => {
    for (const h of handles) await h.close();
    await peer?.close();
    await store?.close();
    await db?.drop();
  });

  it('a timed-out attempt still running cannot export after its retry took the lock', async () => {
    const gate = await startGate(peer.baseUrl);
    try {
      const appId = await createApp(
        store,
        { baseUrl: gate.baseUrl, token: peer.token },
        { shape: { users: USERS, groups: 1 } },
      );
      // Two workers: the attempt Temporal gave up on, and the one running its retry.
      const timedOut = createFerryActivities({ store, allowInsecureLoopback: true, exportConcurrency: 1 });
      const retry = createFerryActivities({ store, allowInsecureLoopback: true, exportConcurrency: 1 });
      handles.push(timedOut, retry);
      const cycleId = await beginInitialCycle(timedOut.activities, appId);
      const batch = { appId, cycleId, phase: 'users' as const, cursor: 0, batchSize: 100 };

      // The first attempt read its page and hangs in its first create (the target holds the request).
      const first = timedOut.activities.processBatch(batch).then(
        () => null,
        (error: unknown) => error,
      );
      await gate.heldNow;
      // Meanwhile the directory changes, and the retry exports every user as the directory now has them.
      for (let i = 2; i <= USERS; i++) await store.directory.patchUser(userId(i), { displayName: `Renamed ${i}` });
      const second = await retry.activities.processBatch(batch);
      expect(second).toMatchObject({ done: true, failure: null });
      const writesBefore = gate.log.filter((r) => r.method !== 'GET').length;

      // The first attempt wakes up with the names it read before: it must not write them over the retry's.
      gate.release();
      const error = await first;
      expect(error).toBeInstanceOf(Error);
      expect(String((error as Error).message)).toMatch(/no longer claimed by this attempt/);
      expect(gate.log.filter((r) => r.method !== 'GET').length).toBe(writesBefore);
      const names = new Map((await peer.users()).map((u) => [String(u.userName), u.displayName]));
      expect(names.size).toBe(USERS);
      for (let i = 2; i <= USERS; i++) expect(names.get(upn(i)), upn(i)).toBe(`Renamed ${i}`);
      // The retry gave its claims back; the old attempt could neither release nor keep any.
      expect(await store.db.select().from(objectLocks)).toEqual([]);
    } finally {
      gate.release();
      await gate.close();
    }
  });

  it('an earlier attempt can neither take back nor release what a later attempt of the same holder holds', async () => {
    const appId = 'locks-app';
    const earlier = await newLockHolder(store, 'cycle:c1');
    const later = await newLockHolder(store, 'cycle:c1');
    expect(later.fence).toBeGreaterThan(earlier.fence);
    expect(await tryClaim(store, appId, 'user', [userId(1)], earlier, 60_000)).toEqual(new Set([userId(1)]));
    expect(await tryClaim(store, appId, 'user', [userId(1)], later, 60_000)).toEqual(new Set([userId(1)]));
    expect(await tryClaim(store, appId, 'user', [userId(1)], earlier, 60_000)).toEqual(new Set());
    await expect(assertClaimHeld(store, appId, 'user', userId(1), earlier)).rejects.toBeInstanceOf(ClaimLostError);
    await expect(assertClaimHeld(store, appId, 'user', userId(1), later)).resolves.toBeUndefined();
    await releaseClaims(store, appId, 'user', [userId(1)], earlier);
    await expect(assertClaimHeld(store, appId, 'user', userId(1), later)).resolves.toBeUndefined();
    // Another holder still waits for it (until it expires).
    const onDemand = await newLockHolder(store, 'ondemand:r1');
    expect(await tryClaim(store, appId, 'user', [userId(1)], onDemand, 60_000)).toEqual(new Set());
    await releaseClaims(store, appId, 'user', [userId(1)], later);
    expect(await tryClaim(store, appId, 'user', [userId(1)], onDemand, 60_000)).toEqual(new Set([userId(1)]));
    await releaseClaims(store, appId, 'user', [userId(1)], onDemand);
  });

  it('a batch fences the objects it is about to write together, and still refuses each one a later attempt took', async () => {
    const appId = 'fence-app';
    const ids = [1, 2, 3, 4, 5].map(userId);
    const earlier = await newLockHolder(store, 'cycle:c2');
    expect(await tryClaim(store, appId, 'user', ids, earlier, 60_000)).toEqual(new Set(ids));
    const fence = new ClaimFence(store, appId, 'user', earlier);
    // Checks asked together are answered by one query.
    await Promise.all(ids.map((id) => fence.check(id)));
    expect(fence.queries).toBe(1);
    // A later attempt takes two of them over: exactly those two are refused, from the next check on.
    const later = await newLockHolder(store, 'cycle:c2');
    await tryClaim(store, appId, 'user', [ids[1], ids[3]], later, 60_000);
    const results = await Promise.allSettled(ids.map((id) => fence.check(id)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ClaimLostError);
    expect(fence.queries).toBe(2);
    await releaseClaims(store, appId, 'user', ids, earlier);
    await releaseClaims(store, appId, 'user', ids, later);
  });
  it('checks asked one after another while the fence gathers are answered by one query, each still refused once a later attempt took its object', async () => {
    const appId = 'fence-gather-app';
    const ids = [1, 2, 3].map(userId);
    const earlier = await newLockHolder(store, 'cycle:c3');
    await tryClaim(store, appId, 'user', ids, earlier, 60_000);
    const later = await newLockHolder(store, 'cycle:c3');
    await tryClaim(store, appId, 'user', [ids[2]], later, 60_000);
    // The first gathering lasts until the test ends it; later ones end at once.
    let gathered!: () => void;
    const first = new Promise<void>((resolve) => (gathered = resolve));
    let gatherings = 0;
    const fence = new ClaimFence(
      store,
      appId,
      'user',
      earlier,
      () => new Date(),
      () => (gatherings++ === 0 ? first : Promise.resolve()),
    );
    // Asked on different turns of the event loop, as objects reach their write one by one.
    const checks: Promise<void>[] = [];
    for (const id of ids) {
      checks.push(fence.check(id));
      await new Promise((resolve) => setImmediate(resolve));
    }
    gathered();
    const results = await Promise.allSettled(checks);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(fence.queries).toBe(1);
    await releaseClaims(store, appId, 'user', ids, earlier);
    await releaseClaims(store, appId, 'user', ids, later);
  });
  it("a create's fencing check records its intent in the same query, and only while the claim is held", async () => {
    const appId = await createApp(store, peer, { assignGroups: false });
    const ids = [1, 2, 3].map(userId);
    const earlier = await newLockHolder(store, `cycle:${appId}`);
    await tryClaim(store, appId, 'user', ids, earlier, 60_000);
    const later = await newLockHolder(store, `cycle:${appId}`);
    await tryClaim(store, appId, 'user', [ids[2]], later, 60_000);
    const at = new Date('2026-01-02T03:04:05.000Z');
    const fence = new ClaimFence(store, appId, 'user', earlier, () => at);
    const results = await Promise.allSettled([
      fence.check(ids[0], { recordCreate: true }),
      fence.check(ids[1]),
      fence.check(ids[2], { recordCreate: true }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(fence.queries).toBe(1);
    // The held create is marked as Ferry's (a retry that finds the account adopts it as its own);
    // the plain check writes nothing, nor does the create whose claim a later attempt took.
    expect((await store.links.get(appId, 'user', ids[0]))?.createRequestedAt).toBe(at.toISOString());
    expect(await store.links.get(appId, 'user', ids[1])).toBeNull();
    expect(await store.links.get(appId, 'user', ids[2])).toBeNull();
    await releaseClaims(store, appId, 'user', ids, earlier);
    await releaseClaims(store, appId, 'user', ids, later);
  });
});
