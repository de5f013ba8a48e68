// processBatch works through several pages of `batchSize` in one call, reading the next page ahead
// while the current one is exported. What a user relies on: the same target state as one page per
// call, managers created on an earlier page are set in the first pass, and no claim outlives the call.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageSizeFor } from '../../activities/cycle.ts';
import { createFerryActivities, type FerryActivityHandle } from '../../activities/index.ts';
import { tryClaim } from '../../activities/object-locks.ts';
import { objectLocks } from '../../store/schema.ts';
import { openStore, type Store } from '../../store/index.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from '../support/postgres.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { buildMembershipIndex } from '../../engine/scoping/groupClosure.ts';
import { groupRequestEstimate, groupsWithinRequests } from '../../engine/planning/index.ts';
import { createApp, groupId, targetState, upn, userId } from '../provisioning/fixtures.ts';
import { beginInitialCycle, seedOrgChart } from './helpers.ts';

const USERS = 30;
/** Users 11–30 report to the user ten places before them: on the page before theirs at batchSize 10. */
const managerIndex = (i: number) => (i > 10 ? i - 10 : null);

describe('processBatch pages', () => {
  let db: TestDatabase;
  let store: Store;
  let peer: ScimPeer;
  const handles: FerryActivityHandle[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('batchpages');
    store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY, poolSize: 4 });
    await store.migrate();
  });

  afterAll(async () => {
    for (const h of handles) await h.close();
    await peer?.close();
    await store?.close();
    await db?.drop();
  });

  /** A fresh peer and app over the same directory (created once). */
  async function setup(
    options: {
      batchTimeBudgetMs?: number;
      lockWaitMs?: number;
      heartbeatIntervalMs?: number;
      pageSecondsAtRateLimit?: number;
    } = {},
    overrides: NonNullable<Parameters<typeof createApp>[2]>['overrides'] = {},
    groups = 1,
  ) {
    await peer?.close();
    peer = await startScimmyPeer();
    if (!(await store.directory.getUser(userId(1)))) await seedOrgChart(store, USERS, managerIndex);
    const appId = await createApp(store, peer, { shape: { users: USERS, groups }, overrides });
    const handle = createFerryActivities({ store, allowInsecureLoopback: true, ...options });
    handles.push(handle);
    const cycleId = await beginInitialCycle(handle.activities, appId);
    return { appId, cycleId, activities: handle.activities };
  }

  const managers = async () => {
    const state = targetState(await peer.users(), await peer.groups());
    return new Map([...state.users].map(([name, facts]) => [name, facts.manager]));
  };

  it('one call exports every page, with managers from earlier pages set in the first pass', async () => {
    // A budget no loaded machine runs out of: the call's pages are under test, not its speed.
    const { appId, cycleId, activities } = await setup({ batchTimeBudgetMs: 600_000 });
    const result = await activities.processBatch({ appId, cycleId, phase: 'users', cursor: 0, batchSize: 10 });
    expect(result).toMatchObject({ processed: USERS, done: true, failure: null });
    const byName = await managers();
    expect(byName.size).toBe(USERS);
    for (let i = 1; i <= USERS; i++) {
      const manager = managerIndex(i);
      expect(byName.get(upn(i)), upn(i)).toBe(manager === null ? null : upn(manager));
    }
    // Nothing was left for the references phase: no PATCH was needed for a manager.
    expect(await store.cycleWork.count(cycleId, { status: 'pendingRefs' })).toBe(0);
    expect(peer.requestLog.filter((r) => r.method === 'PATCH')).toHaveLength(0);
    expect(await store.db.select().from(objectLocks)).toEqual([]);
  });

  it('with no time budget a call exports one page and says where the next starts', async () => {
    const { appId, cycleId, activities } = await setup({ batchTimeBudgetMs: 0 });
    const first = await activities.processBatch({ appId, cycleId, phase: 'users', cursor: 0, batchSize: 10 });
    expect(first).toMatchObject({ processed: 10, done: false, failure: null });
    expect((await peer.users()).length).toBe(10);
    const second = await activities.processBatch({
      appId,
      cycleId,
      phase: 'users',
      cursor: first.nextCursor,
      batchSize: 10,
    });
    expect(second).toMatchObject({ processed: 10, done: false });
    expect(second.nextCursor).toBeGreaterThan(first.nextCursor);
    expect((await peer.users()).length).toBe(20);
  });

  it('a call that stops early gives back the claims of the page it read ahead', async () => {
    const { appId, cycleId, activities } = await setup({ lockWaitMs: 100 });
    const other = { name: 'ondemand:someone', fence: 1 };
    // User 15 is on the second page; the third page is read ahead while the second is exported.
    await tryClaim(store, appId, 'user', [userId(15)], other, 60_000);
    const error = await activities
      .processBatch({ appId, cycleId, phase: 'users', cursor: 0, batchSize: 10 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ type: 'TransientError' });
    const locks = await store.db.select().from(objectLocks);
    expect(locks.map((l) => [l.objectId, l.holder])).toEqual([[userId(15), other.name]]);
    // Pages one and two were exported (but user 15); nothing of the third page was.
    const names = new Set((await peer.users()).map((u) => String(u.userName)));
    expect(names.size).toBe(19);
    expect(names.has(upn(15))).toBe(false);
    expect(names.has(upn(21))).toBe(false);
  });

  it('heartbeats on a clock while a slow page is exported, not only when a chunk is written', async () => {
    // 10 requests a second, one at a time: 30 users take ~3 s and no chunk of 250 fills up.
    const { appId, cycleId, activities } = await setup(
      { heartbeatIntervalMs: 200, batchTimeBudgetMs: 60_000 },
      { rateLimit: { requestsPerSecond: 10, concurrency: 1 } },
    );
    const env = new MockActivityEnvironment();
    const beats: number[] = [];
    env.on('heartbeat', () => beats.push(Date.now()));
    const started = Date.now();
    const result = await env.run(activities.processBatch, {
      appId,
      cycleId,
      phase: 'users' as const,
      cursor: 0,
      batchSize: 10,
    });
    expect(result).toMatchObject({ processed: USERS, done: true });
    const gaps = [started, ...beats].slice(1).map((t, k) => t - [started, ...beats][k]);
    expect(Date.now() - started).toBeGreaterThan(2_000);
    expect(Math.max(...gaps)).toBeLessThan(1_000);
  });

  it('sizes pages to about a minute of requests when the rate limit is low', () => {
    expect(pageSizeFor(1000, 25)).toBe(1000);
    expect(pageSizeFor(1000, 1)).toBe(60);
    expect(pageSizeFor(1000, 0.1)).toBe(10);
    expect(pageSizeFor(5, 1)).toBe(5);
  });

  it('sizes a page of groups in requests (their members counted), so a few big groups fill a page', async () => {
    // Groups 1–4 each hold all 30 users: one write and one member PATCH (100 a request) each, 2
    // requests a group. At 3 requests a second and pages of one second, a page holds one group.
    for (const k of [2, 3, 4]) {
      if (await store.directory.getGroup(groupId(k))) continue;
      await store.directory.createGroup({ id: groupId(k), displayName: `Group ${k}` });
      for (let i = 1; i <= USERS; i++) await store.directory.addMember(groupId(k), userId(i));
    }
    const { appId, cycleId, activities } = await setup(
      { batchTimeBudgetMs: 0, pageSecondsAtRateLimit: 1 },
      { rateLimit: { requestsPerSecond: 3, concurrency: 1 } },
      4,
    );
    const pages: number[] = [];
    for (let cursor = 0, done = false; !done;) {
      const result = await activities.processBatch({ appId, cycleId, phase: 'groups', cursor, batchSize: 10 });
      expect(result.failure).toBeNull();
      pages.push(result.processed);
      ({ nextCursor: cursor, done } = result);
    }
    expect(pages.filter((n) => n > 0)).toEqual([1, 1, 1, 1]);
    expect((await peer.groups()).length).toBe(4);
  });

  it('counts a group’s nested members in its request estimate, and gives a group bigger than the budget a page of its own', () => {
    const index = buildMembershipIndex([
      { groupId: 'big', memberId: 'inner', memberType: 'group' },
      ...Array.from({ length: 250 }, (_, i) => ({ groupId: 'inner', memberId: `u${i}`, memberType: 'user' as const })),
      { groupId: 'small', memberId: 'u1', memberType: 'user' },
    ]);
    expect(groupRequestEstimate(index, 'big', 100)).toBe(4);
    expect(groupsWithinRequests(['big', 'small', 'small'], index, 100, 3)).toBe(1);
    expect(groupsWithinRequests(['small', 'small', 'big'], index, 100, 4)).toBe(2);
    expect(groupsWithinRequests(['small', 'small', 'big'], index, 100, 8)).toBe(3);
  });

  it('claims the next page only when the current one is nearly done, so on-demand waits less', async () => {
    const { appId, cycleId, activities } = await setup(
      { batchTimeBudgetMs: 60_000 },
      { rateLimit: { requestsPerSecond: 10, concurrency: 1 } },
    );
    const running = activities.processBatch({ appId, cycleId, phase: 'users', cursor: 0, batchSize: 20 });
    const posts = () => peer.requestLog.filter((r) => r.method === 'POST' && r.path.endsWith('/Users')).length;
    while (posts() < 5) await new Promise((r) => setTimeout(r, 20));
    const held = (await store.db.select().from(objectLocks))
      .filter((l) => l.appId === appId)
      .map((l) => l.objectId)
      .sort();
    expect(held).toEqual(Array.from({ length: 20 }, (_, n) => userId(n + 1)));
    expect(await running).toMatchObject({ processed: USERS, done: true });
  });
});
