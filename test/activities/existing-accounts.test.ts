// An app whose target already holds the users (stale, disabled, a userName in other case): the initial
// cycle matches them, brings them up to date (re-enabled), links them and creates no duplicate; later
// directory changes still reach them. The same through on-demand provisioning.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFerryActivities, type FerryActivityHandle } from '../../activities/index.ts';
import { SCIM_USER_SCHEMA } from '../../engine/types.ts';
import type { Store } from '../../store/index.ts';
import type { ScimPeer } from '../support/scim-peers.ts';
import { createApp, groupId, upn, userId } from '../provisioning/fixtures.ts';
import { runCycleDirect, openActivityTestbed, type ActivityTestbed } from './helpers.ts';

const USERS = 4;

/** Creates an account at the target directly, as the app held it before Ferry was connected. */
async function seedTargetUser(peer: ScimPeer, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${peer.baseUrl}/Users`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${peer.token}`, 'Content-Type': 'application/scim+json' },
    body: JSON.stringify({ schemas: [SCIM_USER_SCHEMA], ...body }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe('an app whose target already holds the accounts', () => {
  let bed: ActivityTestbed;
  let store: Store;
  let peer: ScimPeer;
  let handle: FerryActivityHandle;
  let appId: string;
  let existing: { stale: string; disabled: string; otherCase: string };

  beforeEach(async () => {
    bed = await openActivityTestbed('existing');
    ({ store, peer, handle } = bed);
    await store.directory.createGroup({ id: groupId(1), displayName: 'Everyone' });
    for (let i = 1; i <= USERS; i++) {
      await store.directory.createUser({ id: userId(i), userPrincipalName: upn(i), displayName: `User ${i}` });
      await store.directory.addMember(groupId(1), userId(i));
    }
    appId = await createApp(store, peer, { shape: { users: USERS, groups: 1 } });
    existing = {
      stale: await seedTargetUser(peer, { userName: upn(1), displayName: 'Old name', active: true }),
      disabled: await seedTargetUser(peer, { userName: upn(2), displayName: 'User 2', active: false }),
      otherCase: await seedTargetUser(peer, { userName: upn(3).toUpperCase(), displayName: 'User 3', active: true }),
    };
  });

  afterEach(async () => {
    await bed?.close();
  });

  const account = async (id: string) => (await peer.users()).find((u) => u.id === id);

  // Created: user 4 and the group.
  it('the initial cycle updates matched accounts (re-enabling disabled ones), links them, and creates no duplicate', async () => {
    const summary = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
    });
    expect(summary).toMatchObject({ status: 'succeeded', counts: { created: 2, updated: 3, failed: 0 } });
    expect(await peer.users()).toHaveLength(USERS);
    expect(await account(existing.stale)).toMatchObject({ displayName: 'User 1', active: true });
    expect(await account(existing.disabled)).toMatchObject({ active: true });
    expect((await account(existing.otherCase))?.displayName).toBe('User 3');
    expect(peer.requestLog.some((r) => r.path.includes('/null'))).toBe(false);
    for (const [i, targetId] of [
      [1, existing.stale],
      [2, existing.disabled],
      [3, existing.otherCase],
    ] as const) {
      expect((await store.links.get(appId, 'user', userId(i)))?.targetId).toBe(targetId);
    }
    const logs = await store.logs.query({ appId, cycleId: summary.cycleId, action: 'Update', limit: 10 });
    expect(logs.items.map((l) => [l.sourceId, l.status, l.targetId]).sort()).toEqual([
      [userId(1), 'Success', existing.stale],
      [userId(2), 'Success', existing.disabled],
      [userId(3), 'Success', existing.otherCase],
    ]);

    // A later change reaches the matched account.
    await store.directory.patchUser(userId(2), { displayName: 'Renamed' });
    const app = await store.apps.require(appId);
    const next = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 2,
      kind: 'incremental',
      watermark: app.watermark,
    });
    expect(next).toMatchObject({ status: 'succeeded', counts: { updated: 1, failed: 0 } });
    expect((await account(existing.disabled))?.displayName).toBe('Renamed');
  });

  it('the initial cycle matching through a bulk listing updates and links the accounts too', async () => {
    const bulk = createFerryActivities({ store, allowInsecureLoopback: true, bulkMatchThreshold: 1 });
    try {
      const summary = await runCycleDirect(bulk.activities, {
        appId,
        cycleNumber: 1,
        kind: 'initial',
        watermark: null,
      });
      expect(summary).toMatchObject({ status: 'succeeded', counts: { created: 2, updated: 3, failed: 0 } });
      expect(await peer.users()).toHaveLength(USERS);
      expect(await account(existing.stale)).toMatchObject({ displayName: 'User 1', active: true });
      expect(await account(existing.disabled)).toMatchObject({ active: true });
      expect((await store.links.get(appId, 'user', userId(3)))?.targetId).toBe(existing.otherCase);
    } finally {
      await bulk.close();
    }
  });

  it('a group the target already holds is matched, linked and given its members', async () => {
    const res = await fetch(`${peer.baseUrl}/Groups`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${peer.token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Everyone' }),
    });
    expect(res.status).toBe(201);
    const groupTargetId = ((await res.json()) as { id: string }).id;
    const summary = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
    });
    expect(summary).toMatchObject({ status: 'succeeded', counts: { created: 1, updated: 4, failed: 0 } });
    const groups = await peer.groups();
    expect(groups.map((g) => g.id)).toEqual([groupTargetId]);
    const members = ((groups[0].members as { value: string }[] | undefined) ?? []).map((m) => m.value).sort();
    const users = await peer.users();
    expect(members).toEqual(users.map((u) => u.id as string).sort());
    expect((await store.links.get(appId, 'group', groupId(1)))?.targetId).toBe(groupTargetId);
  });

  it('on-demand provisioning updates a matched account and links it', async () => {
    const report = await handle.activities.provisionOnDemand({
      appId,
      requestId: 'existing-1',
      objectType: 'user',
      objectId: userId(2),
    });
    expect(report).toMatchObject({ action: 'Update', status: 'Success', targetId: existing.disabled });
    expect(await account(existing.disabled)).toMatchObject({ active: true });
    expect((await store.links.get(appId, 'user', userId(2)))?.targetId).toBe(existing.disabled);
    expect(await peer.users()).toHaveLength(3);
  });
});
