// Initial cycles stage users managers first: in a directory whose ids sort reports before their
// managers (Entra's object ids are random), every create already carries its manager, and the
// references phase has nothing left to PATCH.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryActivityHandle } from '../../activities/index.ts';
import type { Store } from '../../store/index.ts';
import type { ScimPeer } from '../support/scim-peers.ts';
import { createApp, targetState, upn } from '../provisioning/fixtures.ts';
import { runCycleDirect, seedOrgChart, openActivityTestbed, type ActivityTestbed } from './helpers.ts';

/** u030 leads; u021–u029 report to it; u001–u020 report to one of u021–u029; u031 ↔ u032 manage each other. */
function managerIndex(i: number): number | null {
  if (i === 30) return null;
  if (i > 20 && i < 30) return 30;
  if (i === 31) return 32;
  if (i === 32) return 31;
  return 21 + ((i - 1) % 9);
}
const USERS = 32;

describe('initial cycle order', () => {
  let bed: ActivityTestbed;
  let store: Store;
  let peer: ScimPeer;
  let handle: FerryActivityHandle;
  let appId: string;

  beforeAll(async () => {
    bed = await openActivityTestbed('managerorder');
    ({ store, peer, handle } = bed);
    await seedOrgChart(store, USERS, managerIndex);
    // One request at a time: a report is never exported while its manager's create is in flight.
    appId = await createApp(store, peer, {
      shape: { users: USERS, groups: 1 },
      overrides: { rateLimit: { requestsPerSecond: 1000, concurrency: 1 } },
    });
  });

  afterAll(async () => {
    await bed?.close();
  });

  it('stages managers before their reports, so no manager needs a second request', async () => {
    const summary = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
      batchSize: 5,
    });
    expect(summary.status).toBe('succeeded');
    const state = targetState(await peer.users(), await peer.groups());
    for (let i = 1; i <= USERS; i++) {
      const manager = managerIndex(i);
      expect(state.users.get(upn(i))?.manager, upn(i)).toBe(manager === null ? null : upn(manager));
    }
    // Only the two users managing each other need the references phase (one of them is created first).
    const userPatches = peer.requestLog.filter((r) => r.method === 'PATCH' && r.path.includes('/Users/'));
    expect(userPatches).toHaveLength(1);
  });
});
