// Every provisioning-log entry names the object it is about (source id and display name), also when
// the object was hard-deleted from the directory before the cycle saw it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryActivityHandle } from '../../activities/index.ts';
import type { Store } from '../../store/index.ts';
import type { ScimPeer } from '../support/scim-peers.ts';
import { createApp, groupId } from '../provisioning/fixtures.ts';
import { runCycleDirect, openActivityTestbed, type ActivityTestbed } from './helpers.ts';

describe('log entries of hard-deleted users', () => {
  let bed: ActivityTestbed;
  let store: Store;
  let peer: ScimPeer;
  let handle: FerryActivityHandle;
  let appId: string;

  beforeAll(async () => {
    bed = await openActivityTestbed('harddelete');
    ({ store, peer, handle } = bed);
    await store.directory.createGroup({ id: groupId(1), displayName: 'Everyone' });
    await store.directory.createUser({
      id: 'linked',
      userPrincipalName: 'linked@contoso.com',
      displayName: 'Linked Lee',
    });
    await store.directory.addMember(groupId(1), 'linked');
    appId = await createApp(store, peer, { shape: { users: 1, groups: 1 } });
  });

  afterAll(async () => {
    await bed?.close();
  });

  it('carry the object id and its last known display name, whether it was provisioned or not', async () => {
    const first = await runCycleDirect(handle.activities, { appId, cycleNumber: 1, kind: 'initial', watermark: null });
    expect(first.counts.created).toBe(2);
    await store.directory.createUser({ id: 'brief', userPrincipalName: 'brief@contoso.com', displayName: 'Brief Bo' });
    await store.directory.addMember(groupId(1), 'brief');
    await store.directory.hardDeleteUser('brief');
    await store.directory.hardDeleteUser('linked');

    const app = await store.apps.require(appId);
    const summary = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 2,
      kind: 'incremental',
      watermark: app.watermark,
    });
    expect(summary.status).toBe('succeeded');
    const logs = await store.logs.query({ appId, cycleId: summary.cycleId, objectType: 'user', limit: 100 });
    expect(logs.items.map((l) => [l.sourceId, l.sourceDisplayName, l.action]).sort()).toEqual([
      ['brief', 'Brief Bo', 'Skip'],
      ['linked', 'Linked Lee', 'Delete'],
    ]);
    // The deleted account's link goes with it.
    expect(await store.links.get(appId, 'user', 'linked')).toBeNull();
    expect((await peer.users()).map((u) => u.userName)).toEqual([]);
  });
});
