// Directory → target through the real worker, the real activities and a third-party SCIM peer
// (scimmy), driven by the provisioning job workflow on the in-repo Temporal test service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobWorkflowId, runNowSignal } from '../../workflows/messages.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { createApp, expectedState, groupId, seedDirectory, targetState, upn, userId } from './fixtures.ts';
import { startProvisioningHarness, type ProvisioningHarness } from './harness.ts';

describe('provisioning a directory to a SCIM app', () => {
  let h: ProvisioningHarness;
  let peer: ScimPeer;
  let appId: string;
  let cycle = 0;

  beforeAll(async () => {
    h = await startProvisioningHarness();
    peer = await startScimmyPeer();
    await seedDirectory(h.store);
    appId = await createApp(h.store, peer);
  });

  afterAll(async () => {
    await h?.close();
    await peer?.close();
  });

  /** Runs the next cycle now and returns the requests the peer saw during it. */
  async function nextCycle() {
    const before = peer.requestLog.length;
    cycle += 1;
    if (cycle > 1) await h.env.client.workflow.getHandle(jobWorkflowId(appId)).signal(runNowSignal);
    const status = await h.waitForCycle(appId, cycle);
    return { status, requests: peer.requestLog.slice(before) };
  }

  const state = async () => targetState(await peer.users(), await peer.groups());

  it('the initial cycle gives exactly the expected target state, with one log entry per object', async () => {
    await h.startJob(appId);
    const { status } = await nextCycle();
    expect(status.lastCycle).toMatchObject({ kind: 'initial', status: 'succeeded' });
    expect(status.lastCycle?.counts).toMatchObject({ created: 220, failed: 0 });

    const actual = await state();
    const expected = expectedState();
    expect([...actual.users.keys()].sort()).toEqual([...expected.users.keys()].sort());
    for (const [name, facts] of expected.users) expect(actual.users.get(name), name).toMatchObject(facts);
    expect([...actual.groups.keys()].sort()).toEqual([...expected.groups.keys()].sort());
    for (const [name, members] of expected.groups) expect(actual.groups.get(name), name).toEqual(members);

    const cycleRow = await h.store.cycles.getByNumber(appId, 1);
    const logs = await h.store.logs.query({ appId, cycleId: cycleRow?.id, limit: 5000 });
    const creates = logs.items.filter((l) => l.action === 'Create');
    expect(creates).toHaveLength(220);
    expect(new Set(creates.map((l) => `${l.objectType}:${l.sourceId}`)).size).toBe(220);
    const alice = creates.find((l) => l.sourceId === userId(12));
    expect(alice?.status).toBe('Success');
    expect(alice?.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining(['import', 'scoping', 'matching', 'processing', 'export']),
    );
    expect(alice?.modifiedAttributes).toEqual(
      expect.arrayContaining([{ name: 'userName', oldValue: null, newValue: upn(12) }]),
    );
    // Managers that were created later in the cycle are set by the references pass.
    const references = logs.items.filter(
      (l) => l.steps.some((s) => s.name === 'referenceResolution' && s.status === 'Success') && l.objectType === 'user',
    );
    expect(references.length).toBeGreaterThan(0);
  });

  it('an incremental cycle with no directory change sends no request at all', async () => {
    const { status, requests } = await nextCycle();
    expect(status.lastCycle).toMatchObject({ kind: 'incremental', status: 'succeeded' });
    expect(requests).toEqual([]);
  });

  it('an attribute change is sent as a PATCH of just that attribute', async () => {
    await h.store.directory.patchUser(userId(10), { jobTitle: 'Head of Sales' });
    const { status, requests } = await nextCycle();
    expect(status.lastCycle?.counts).toMatchObject({ updated: 1, created: 0, failed: 0 });
    const writes = requests.filter((r) => r.method !== 'GET');
    expect(writes).toHaveLength(1);
    expect(writes[0].method).toBe('PATCH');
    const cycleRow = await h.store.cycles.getByNumber(appId, cycle);
    const logs = await h.store.logs.query({ appId, cycleId: cycleRow?.id, action: 'Update' });
    expect(logs.items.map((l) => l.modifiedAttributes)).toEqual([
      [{ name: 'title', oldValue: 'Engineer', newValue: 'Head of Sales' }],
    ]);
  });

  it('unassigning disables the users (never deletes them) and removes the groups', async () => {
    await h.store.assignments.unassign(appId, groupId(5));
    await h.store.assignments.unassign(appId, groupId(6));
    const { status, requests } = await nextCycle();
    expect(status.lastCycle?.counts).toMatchObject({ disabled: 20, deleted: 2, failed: 0 });
    expect(requests.filter((r) => r.method === 'DELETE')).toHaveLength(2);
    const actual = await state();
    for (let i = 41; i <= 60; i++) expect(actual.users.get(upn(i))?.active, upn(i)).toBe(false);
    expect(actual.users.get(upn(40))?.active).toBe(true);
    expect(actual.groups.has('Group 05')).toBe(false);
    expect(actual.users.size).toBe(200);
  });

  it('reassigning re-enables and updates the users', async () => {
    await h.store.assignments.assign(appId, groupId(5), 'User');
    await h.store.assignments.assign(appId, groupId(6), 'User');
    await h.store.directory.patchUser(userId(45), { displayName: 'User 045 (back)' });
    const { status } = await nextCycle();
    expect(status.lastCycle?.counts).toMatchObject({ updated: 20, created: 2, failed: 0 });
    const actual = await state();
    for (let i = 41; i <= 60; i++) expect(actual.users.get(upn(i))?.active, upn(i)).toBe(true);
    expect(actual.users.get(upn(45))?.displayName).toBe('User 045 (back)');
    expect(actual.groups.get('Group 06')).toEqual(expectedState().groups.get('Group 06'));
  });

  it('a hard delete in the directory deletes the account in the target', async () => {
    await h.store.directory.hardDeleteUser(userId(100));
    const { status, requests } = await nextCycle();
    expect(status.lastCycle?.counts).toMatchObject({ deleted: 1, failed: 0 });
    expect(requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    const actual = await state();
    expect(actual.users.has(upn(100))).toBe(false);
    expect(actual.groups.get('Group 10')?.has(upn(100))).toBe(false);
  });

  it('a membership change reaches the group and the groups nesting it, and nothing else', async () => {
    await h.store.directory.addMember(groupId(3), userId(1));
    const { status, requests } = await nextCycle();
    expect(status.lastCycle?.counts).toMatchObject({ failed: 0 });
    const writes = requests.filter((r) => r.method !== 'GET');
    expect(writes.map((r) => r.method)).toEqual(['PATCH', 'PATCH']);
    const actual = await state();
    expect(actual.groups.get('Group 03')?.has(upn(1))).toBe(true);
    expect(actual.groups.get('Group 04')?.has(upn(1))).toBe(true);
  });

  describe('on demand', () => {
    it('creates a new in-scope user and reports the five steps', async () => {
      await h.store.directory.createUser({
        id: 'od1',
        userPrincipalName: 'ondemand1@contoso.com',
        displayName: 'On Demand',
        department: 'Ops',
      });
      await h.store.directory.addMember(groupId(1), 'od1');
      const report = await h.onDemand(appId, 'user', 'od1');
      expect(report.steps.map((s) => s.name)).toEqual(['testConnection', 'import', 'scoping', 'matching', 'action']);
      expect(report).toMatchObject({ action: 'Create', status: 'Success' });
      expect(report.targetId).toBeTruthy();
      expect(report.requests.some((r) => r.method === 'POST')).toBe(true);
      expect((await state()).users.get('ondemand1@contoso.com')?.active).toBe(true);
    });

    it('updates only what changed', async () => {
      await h.store.directory.patchUser('od1', { department: 'Finance' });
      const report = await h.onDemand(appId, 'user', 'od1');
      expect(report).toMatchObject({ action: 'Update', status: 'Success' });
      expect(report.modifiedAttributes).toEqual([
        {
          name: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
          oldValue: 'Ops',
          newValue: 'Finance',
        },
      ]);
    });

    it('skips an unchanged user without writing', async () => {
      const report = await h.onDemand(appId, 'user', 'od1');
      expect(report).toMatchObject({ action: 'Skip', status: 'Skipped' });
      expect(report.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    });

    it('explains why a user is out of scope', async () => {
      await h.store.directory.createUser({ id: 'od2', userPrincipalName: 'ondemand2@contoso.com' });
      const report = await h.onDemand(appId, 'user', 'od2');
      expect(report).toMatchObject({ action: 'Skip' });
      const scoping = report.steps.find((s) => s.name === 'scoping');
      expect(scoping?.status).toBe('Skipped');
      expect(JSON.stringify(scoping?.details)).toContain('not assigned');
      expect((await state()).users.has('ondemand2@contoso.com')).toBe(false);
    });

    it('disables a user that left scope', async () => {
      await h.store.directory.removeMember(groupId(1), 'od1');
      const report = await h.onDemand(appId, 'user', 'od1');
      expect(report).toMatchObject({ action: 'Disable', status: 'Success' });
      expect((await state()).users.get('ondemand1@contoso.com')?.active).toBe(false);
    });

    it('provisions a group with its members', async () => {
      await h.store.directory.createGroup({ id: 'odg', displayName: 'On Demand Group' });
      await h.store.directory.createUser({ id: 'od3', userPrincipalName: 'ondemand3@contoso.com' });
      await h.store.directory.addMember('odg', 'od3');
      await h.store.directory.addMember('odg', userId(1));
      await h.store.assignments.assign(appId, 'odg', 'User');
      const report = await h.onDemand(appId, 'group', 'odg');
      expect(report).toMatchObject({ action: 'Create', status: 'Success' });
      expect(report.members?.map((m) => [m.objectId, m.action]).sort()).toEqual([
        ['od3', 'Create'],
        [userId(1), 'Skip'],
      ]);
      expect((await state()).groups.get('On Demand Group')).toEqual(new Set(['ondemand3@contoso.com', upn(1)]));
    });
  });
});
