// The activities against a real Postgres and the scimmy peer, called directly (no workflow).
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryActivityHandle } from '../../activities/index.ts';
import type { Store } from '../../store/index.ts';
import type { ScimPeer } from '../support/scim-peers.ts';
import { createApp, expectedState, seedDirectory, targetState, upn, userId } from '../provisioning/fixtures.ts';
import { runCycleDirect, openActivityTestbed, type ActivityTestbed } from './helpers.ts';

describe('cycle activities', () => {
  let bed: ActivityTestbed;
  let store: Store;
  let peer: ScimPeer;
  let handle: FerryActivityHandle;
  let appId: string;

  beforeAll(async () => {
    bed = await openActivityTestbed('activities', { poolSize: 6 });
    ({ store, peer, handle } = bed);
    await seedDirectory(store);
    appId = await createApp(store, peer);
  });

  afterAll(async () => {
    await bed?.close();
  });

  const requestsSince = (from: number) => peer.requestLog.slice(from).filter((r) => !r.path.includes('filter=id'));

  it('an initial cycle creates every user and group with managers and flattened nested members', async () => {
    const summary = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
    });
    expect(summary.status).toBe('succeeded');
    expect(summary.counts.created).toBe(220);
    expect(summary.counts.failed).toBe(0);
    const state = targetState(await peer.users(), await peer.groups());
    const expected = expectedState();
    expect(state.users.size).toBe(200);
    for (const [name, facts] of expected.users) {
      expect(state.users.get(name), name).toMatchObject({
        active: true,
        displayName: facts.displayName,
        manager: facts.manager,
      });
    }
    expect(state.groups.size).toBe(20);
    for (const [name, members] of expected.groups) expect(state.groups.get(name), name).toEqual(members);
    const logs = await store.logs.query({ appId, cycleId: summary.cycleId, action: 'Create', limit: 1000 });
    expect(logs.items).toHaveLength(220);
    const entry = logs.items.find((l) => l.sourceId === userId(5));
    expect(entry?.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining(['import', 'scoping', 'matching', 'processing', 'export']),
    );
    expect(entry?.modifiedAttributes.find((m) => m.name === 'userName')?.newValue).toBe(upn(5));
  });

  it('an incremental cycle without directory changes sends no request', async () => {
    const before = peer.requestLog.length;
    const app = await store.apps.require(appId);
    const summary = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 2,
      kind: 'incremental',
      watermark: app.watermark,
    });
    expect(summary.status).toBe('succeeded');
    // checkTarget's test connection is the only request (a filter on a random id).
    expect(requestsSince(before)).toEqual([]);
  });

  it('an attribute change is sent as a PATCH of just that attribute', async () => {
    await store.directory.patchUser(userId(7), { jobTitle: 'Director' });
    const app = await store.apps.require(appId);
    const before = peer.requestLog.length;
    const summary = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 3,
      kind: 'incremental',
      watermark: app.watermark,
    });
    expect(summary.counts.updated).toBe(1);
    const writes = requestsSince(before).filter((r) => r.method !== 'GET');
    expect(writes.map((r) => r.method)).toEqual(['PATCH']);
    const logs = await store.logs.query({ appId, cycleId: summary.cycleId, limit: 100 });
    const update = logs.items.find((l) => l.action === 'Update');
    expect(update?.modifiedAttributes).toEqual([{ name: 'title', oldValue: 'Engineer', newValue: 'Director' }]);
  });

  it('processBatch run twice writes the same links and logs and sends nothing the second time', async () => {
    await store.directory.patchUser(userId(8), { jobTitle: 'Architect' });
    const app = await store.apps.require(appId);
    const begun = await handle.activities.beginCycle({
      appId,
      cycleNumber: 4,
      kind: 'incremental',
      watermark: app.watermark,
      deletionsApproved: false,
      deletionsRejected: false,
    });
    const env = new MockActivityEnvironment();
    const input = { appId, cycleId: begun.cycleId, phase: 'users' as const, cursor: 0, batchSize: 100 };
    const first = await env.run(handle.activities.processBatch, input);
    const afterFirst = peer.requestLog.length;
    const linksFirst = await store.links.get(appId, 'user', userId(8));
    const logsFirst = await store.logs.query({ appId, cycleId: begun.cycleId, limit: 100 });
    const second = await env.run(handle.activities.processBatch, input);
    expect(second).toEqual(first);
    expect(peer.requestLog.length).toBe(afterFirst);
    expect((await store.links.get(appId, 'user', userId(8)))?.exportedHash).toBe(linksFirst?.exportedHash);
    const logsSecond = await store.logs.query({ appId, cycleId: begun.cycleId, limit: 100 });
    expect(logsSecond.items.map((l) => l.id)).toEqual(logsFirst.items.map((l) => l.id));
    await handle.activities.finishCycle({ appId, cycleId: begun.cycleId, failure: null });
  });

  it('hard-deleting a manager removes the manager of its reports at the target in the next incremental cycle', async () => {
    // managerOf(2) is user 15 (fixtures); user 2 is its only report.
    expect(targetState(await peer.users(), await peer.groups()).users.get(upn(2))?.manager).toBe(upn(15));
    await store.directory.hardDeleteUser(userId(15));
    const app = await store.apps.require(appId);
    const before = peer.requestLog.length;
    const summary = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 5,
      kind: 'incremental',
      watermark: app.watermark,
    });
    expect(summary.counts.failed).toBe(0);
    expect(targetState(await peer.users(), await peer.groups()).users.get(upn(2))?.manager).toBeNull();
    const report = await store.links.get(appId, 'user', userId(2));
    expect(
      requestsSince(before).some((r) => r.method === 'PATCH' && r.path.endsWith(`/Users/${report?.targetId}`)),
    ).toBe(true);
    const logs = await store.logs.query({ appId, cycleId: summary.cycleId, objectId: userId(2), limit: 10 });
    expect(logs.items.find((l) => l.action === 'Update')?.modifiedAttributes.map((m) => [m.name, m.newValue])).toEqual([
      ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager', null],
    ]);
  });

  it('a stopped cycle is recorded as stopped and keeps the old watermark, so its changes are staged again', async () => {
    await store.directory.patchUser(userId(9), { jobTitle: 'Analyst' });
    const before = (await store.apps.require(appId)).watermark;
    const begun = await handle.activities.beginCycle({
      appId,
      cycleNumber: 6,
      kind: 'incremental',
      watermark: before,
      deletionsApproved: false,
      deletionsRejected: false,
    });
    const stop = { appId, cycleId: begun.cycleId, failure: null, stopped: true };
    const summary = await handle.activities.finishCycle(stop);
    expect(summary).toMatchObject({ status: 'stopped', failure: null });
    expect((await store.cycles.get(begun.cycleId))?.status).toBe('stopped');
    expect((await store.apps.require(appId)).watermark).toBe(before);
    // A retried finishCycle answers the same.
    expect((await handle.activities.finishCycle(stop)).status).toBe('stopped');

    const next = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 7,
      kind: 'incremental',
      watermark: before,
    });
    expect(next).toMatchObject({ status: 'succeeded', counts: { updated: 1 } });
  });
});
