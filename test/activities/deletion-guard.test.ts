// The deletion guard called directly: a retried attempt decides as its first attempt did, holding
// the same disables once, even when the first attempt died after holding only some of them.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryActivityHandle } from '../../activities/index.ts';
import type { Store } from '../../store/index.ts';
import { createApp, groupId, upn, userId } from '../provisioning/fixtures.ts';
import { runCycleDirect, openActivityTestbed, seedOrgChart, type ActivityTestbed } from './helpers.ts';

const USERS = 12;

describe('the deletion guard', () => {
  let bed: ActivityTestbed;
  let store: Store;
  let handle: FerryActivityHandle;
  let appId: string;

  beforeAll(async () => {
    bed = await openActivityTestbed('deletionguard');
    ({ store, handle } = bed);
    await seedOrgChart(store, USERS, () => null);
    appId = await createApp(store, bed.peer, {
      shape: { users: USERS, groups: 1 },
      overrides: { deletionThreshold: { count: 5 } },
    });
    const initial = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
    });
    expect(initial).toMatchObject({ status: 'succeeded', counts: { created: USERS + 1 } });
  });

  afterAll(async () => {
    await bed?.close();
  });

  it('a retried guard holds the same disables once and stays over the threshold, also after a partial first attempt', async () => {
    await store.assignments.unassign(appId, groupId(1));
    const { watermark } = await store.apps.require(appId);
    const begun = await handle.activities.beginCycle({
      appId,
      cycleNumber: 2,
      kind: 'incremental',
      watermark,
      deletionsApproved: false,
      deletionsRejected: false,
    });
    // A first attempt that died after holding its first three disables (their log entries, written in
    // the same transaction, are not what this test reads).
    const work = await store.cycleWork.readBatch(begun.cycleId, { afterSeq: 0, limit: 100, objectType: 'user' });
    await store.cycleWork.mark(
      begun.cycleId,
      work.slice(0, 3).map((w) => w.seq),
      { status: 'staged', action: 'StagedDelete' },
    );

    const guard = () =>
      new MockActivityEnvironment().run(handle.activities.deletionGuard, {
        appId,
        cycleId: begun.cycleId,
        deletionsApproved: false,
      });
    // Twelve users and their group leave scope: 13 removals against a threshold of 5.
    expect(await guard()).toEqual({ pendingDeletions: USERS + 1, exceeded: true });
    expect(await guard()).toEqual({ pendingDeletions: USERS + 1, exceeded: true });
    expect(await store.cycleWork.count(begun.cycleId, { status: 'staged' })).toBe(USERS + 1);
    const logs = await store.logs.query({ appId, cycleId: begun.cycleId, action: 'StagedDelete', limit: 100 });
    const heldEarlier = new Set(work.slice(0, 3).map((w) => w.objectId));
    expect(logs.items.map((e) => e.sourceId).sort()).toEqual(
      [groupId(1), ...Array.from({ length: USERS }, (_, i) => userId(i + 1))]
        .filter((id) => !heldEarlier.has(id))
        .sort(),
    );
    expect(logs.items.find((e) => e.sourceId === userId(USERS))?.errorMessage).toBe(
      `${USERS + 1} disables/deletes exceed the deletion threshold of 5; held for approval`,
    );
    expect(await store.cycles.get(begun.cycleId)).toMatchObject({
      pendingDeletions: USERS + 1,
      deletionThresholdExceeded: true,
    });
    // Nothing reached the target: every account is still active.
    const active = (await bed.peer.users()).filter((u) => u.active !== false).map((u) => String(u.userName));
    expect(active).toContain(upn(1));
    expect(active).toHaveLength(USERS);
  });
});
