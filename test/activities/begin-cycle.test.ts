// A finished cycle is never begun again as a new one: a cycle workflow asking for the number of a
// finished cycle (a job that numbered from an older state, a reset) gets a new cycle with the app's
// next number, and its retries get that same cycle.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryActivityHandle } from '../../activities/index.ts';
import type { BeginCycleInput, BeginCycleResult } from '../../activities/types.ts';
import type { Store } from '../../store/index.ts';
import type { ScimPeer } from '../support/scim-peers.ts';
import { createApp, groupId, upn, userId } from '../provisioning/fixtures.ts';
import { runCycleDirect, openActivityTestbed, type ActivityTestbed } from './helpers.ts';

describe('beginning a cycle', () => {
  let bed: ActivityTestbed;
  let store: Store;
  let peer: ScimPeer;
  let handle: FerryActivityHandle;
  let appId: string;

  beforeAll(async () => {
    bed = await openActivityTestbed('begincycle');
    ({ store, peer, handle } = bed);
    await store.directory.createGroup({ id: groupId(1), displayName: 'Everyone' });
    await store.directory.createUser({ id: userId(1), userPrincipalName: upn(1), displayName: 'User 1' });
    await store.directory.addMember(groupId(1), userId(1));
    appId = await createApp(store, peer, { shape: { users: 1, groups: 1 } });
  });

  afterAll(async () => {
    await bed?.close();
  });

  /** beginCycle as the cycle workflow run `runId` calls it. */
  const beginIn = (runId: string, input: Partial<BeginCycleInput> = {}): Promise<BeginCycleResult> =>
    new MockActivityEnvironment({ workflowExecution: { workflowId: `provisioning:${appId}:cycle`, runId } }).run(
      handle.activities.beginCycle,
      { ...baseInput(), ...input },
    );
  const baseInput = (): BeginCycleInput => ({
    appId,
    cycleNumber: 1,
    kind: 'initial',
    watermark: null,
    deletionsApproved: false,
    deletionsRejected: false,
  });

  it('with the number of a finished cycle begins a new cycle with the next number, once per workflow run', async () => {
    const first = await runCycleDirect(handle.activities, { appId, cycleNumber: 1, kind: 'initial', watermark: null });
    expect(first).toMatchObject({ status: 'succeeded', cycleNumber: 1 });
    await store.directory.patchUser(userId(1), { displayName: 'Changed' });

    const run = '4d0c3b8e-0000-4000-8000-000000000001';
    const begun = await beginIn(run);
    expect(begun.cycleId).not.toBe(first.cycleId);
    expect(begun.cycleNumber).toBe(2);
    // A retry of the same activity (same workflow run) gets the same cycle.
    expect(await beginIn(run)).toEqual(begun);
    expect((await store.cycles.get(first.cycleId))?.status).toBe('succeeded');

    const summary = await handle.activities.finishCycle({
      appId,
      cycleId: begun.cycleId,
      failure: null,
      stopped: true,
    });
    expect(summary).toMatchObject({ cycleNumber: 2, status: 'stopped' });
    expect((await store.cycles.list(appId)).items.map((c) => c.number)).toEqual([2, 1]);
  });

  it('takes over a running cycle of that number (a cycle workflow reset or re-run)', async () => {
    const running = await beginIn('4d0c3b8e-0000-4000-8000-000000000002', { cycleNumber: 3, kind: 'incremental' });
    const again = await beginIn('4d0c3b8e-0000-4000-8000-000000000003', { cycleNumber: 3, kind: 'incremental' });
    expect(again).toMatchObject({ cycleId: running.cycleId, cycleNumber: 3 });
  });

  it('closes a cycle left running by a job that is gone when the next one begins', async () => {
    const next = await beginIn('4d0c3b8e-0000-4000-8000-000000000004', { cycleNumber: 4 });
    const history = await store.cycles.list(appId);
    expect(history.items.map((c) => [c.number, c.status])).toEqual([
      [4, 'running'],
      [3, 'stopped'],
      [2, 'stopped'],
      [1, 'succeeded'],
    ]);
    await handle.activities.finishCycle({ appId, cycleId: next.cycleId, failure: null, stopped: true });
  });
});
