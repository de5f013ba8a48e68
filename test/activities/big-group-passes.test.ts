// A group too big for one page's request budget is written over several passes: each pass sends at
// most the budget's member PATCHes and saves the group's link, its work item stays pending, and the
// next processBatch call goes on from what the target then holds. What a user relies on: at a low
// rate limit a huge group never outlasts one batch, and every member reaches the target exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFerryActivities, type FerryActivityHandle } from '../../activities/index.ts';
import { startScimTarget, type ScimTarget } from '../../dev/scim-target/index.ts';
import { memberPassWithin, memberResult, nextMemberProgress } from '../../engine/planning/index.ts';
import { logEntryId, openStore, type Store } from '../../store/index.ts';
import { createApp, groupId } from '../provisioning/fixtures.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from '../support/postgres.ts';
import { beginInitialCycle, seedOneGroup } from './helpers.ts';

const MEMBERS = 2_500;

describe('a group bigger than a page’s request budget', () => {
  let db: TestDatabase;
  let store: Store;
  let target: ScimTarget;
  const handles: FerryActivityHandle[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('biggroup');
    store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY, poolSize: 4 });
    await store.migrate();
    target = await startScimTarget();
  });

  afterAll(async () => {
    for (const h of handles) await h.close();
    await target?.close();
    await store?.close();
    await db?.drop();
  });

  it('plans one pass within the budget: adds first, then removes, in whole chunks', () => {
    const plan = { add: ['a1', 'a2', 'a3', 'a4', 'a5'], remove: ['r1', 'r2', 'r3'] };
    expect(memberPassWithin(plan, 2, 2)).toEqual({
      add: ['a1', 'a2', 'a3', 'a4'],
      remove: [],
      requests: 2,
      complete: false,
    });
    expect(memberPassWithin(plan, 2, 4)).toEqual({ add: plan.add, remove: ['r1', 'r2'], requests: 4, complete: false });
    expect(memberPassWithin(plan, 2, 5)).toEqual({ ...plan, requests: 5, complete: true });
    expect(memberPassWithin({ add: [], remove: [] }, 2, 1)).toEqual({
      add: [],
      remove: [],
      requests: 0,
      complete: true,
    });
  });

  it('counts a group’s member writes over its passes from the plans, without member ids', () => {
    // 25 to add: 7 sent, then the next pass finds 18 left and sends 7 of them.
    const first = nextMemberProgress(null, { add: 25, remove: 2 }, { added: 7, removed: 0 });
    expect(memberResult(first)).toEqual({ added: 7, removed: 0, left: 20 });
    const second = nextMemberProgress(first, { add: 18, remove: 2 }, { added: 7, removed: 0 });
    expect(second).toMatchObject({ passes: 2, toAdd: 25, toRemove: 2 });
    expect(memberResult(second)).toEqual({ added: 14, removed: 0, left: 13 });
    // An attempt lost after writing 3 of them, unrecorded: the next plan is smaller, the total stays.
    const afterLoss = nextMemberProgress(second, { add: 8, remove: 2 }, { added: 8, removed: 2 });
    expect(memberResult(afterLoss)).toEqual({ added: 25, removed: 2, left: 0 });
    // A member who joined between two passes counts too.
    const grown = nextMemberProgress(second, { add: 12, remove: 2 }, { added: 12, removed: 2 });
    expect(memberResult(grown)).toEqual({ added: 26, removed: 2, left: 0 });
  });

  it('finishes a group of 2,500 members over several batches, each member sent once', async () => {
    await seedOneGroup(store, MEMBERS);
    const appId = await createApp(store, target, { shape: { users: MEMBERS, groups: 1 } });
    const users = createFerryActivities({ store, allowInsecureLoopback: true });
    // 2,000 requests a second for 4 ms: a page may cost 8 requests, the group's write and 7 member PATCHes.
    const groups = createFerryActivities({
      store,
      allowInsecureLoopback: true,
      pageSecondsAtRateLimit: 0.004,
      batchTimeBudgetMs: 0,
    });
    handles.push(users, groups);
    const cycleId = await beginInitialCycle(users.activities, appId);
    for (let cursor = 0; ;) {
      const r = await users.activities.processBatch({ appId, cycleId, phase: 'users', cursor, batchSize: 1000 });
      cursor = r.nextCursor;
      if (r.done) break;
    }
    expect(target.users()).toHaveLength(MEMBERS);

    const before = target.stats().byRoute['PATCH /Groups/{id}'] ?? 0;
    let batches = 0;
    for (let cursor = 0; ;) {
      const r = await groups.activities.processBatch({ appId, cycleId, phase: 'groups', cursor, batchSize: 50 });
      expect(r.failure).toBeNull();
      batches++;
      cursor = r.nextCursor;
      if (r.done) break;
      expect(batches).toBeLessThan(20);
    }
    // 25 chunks of 100 at 7 a pass: four passes, and no chunk sent twice.
    expect(batches).toBeGreaterThanOrEqual(4);
    expect((target.stats().byRoute['PATCH /Groups/{id}'] ?? 0) - before).toBe(Math.ceil(MEMBERS / 100));
    const [group] = target.groups();
    const members = (group.members as { value: string }[]).map((m) => m.value);
    expect(members).toHaveLength(MEMBERS);
    expect(new Set(members).size).toBe(MEMBERS);
    const summary = await groups.activities.finishCycle({ appId, cycleId, failure: null });
    expect(summary.counts).toMatchObject({ created: MEMBERS + 1, failed: 0 });
    // The group's one log entry tells the whole group's result, not its last pass's.
    const entry = await store.logs.get(logEntryId(cycleId, 'group', groupId(1), 'export'));
    expect(entry?.action).toBe('Create');
    expect(entry?.steps.find((s) => s.name === 'referenceResolution')?.details).toEqual({
      members: MEMBERS,
      added: MEMBERS,
      removed: 0,
      passes: 4,
    });
    // The link holds the whole member set now: a second cycle sends nothing.
    const again = await groups.activities.beginCycle({
      appId,
      cycleNumber: 2,
      kind: 'incremental',
      watermark: summary.watermarkTo,
      deletionsApproved: false,
      deletionsRejected: false,
    });
    const requests = target.stats().requests;
    for (const phase of ['users', 'groups'] as const) {
      const r = await groups.activities.processBatch({
        appId,
        cycleId: again.cycleId,
        phase,
        cursor: 0,
        batchSize: 50,
      });
      expect(r.done).toBe(true);
    }
    expect(target.stats().requests).toBe(requests);
  });
});
