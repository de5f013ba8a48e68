// A job re-created on the same database (npm start after a restart, or an operator who terminates the
// job) continues the app's cycle history: its first cycle is a new one, not an old finished cycle
// reported again, and the next directory change reaches the target in the next cycle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobWorkflowId, runNowSignal } from '../../workflows/messages.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { createApp, seedDirectory, upn, userId } from './fixtures.ts';
import { startProvisioningHarness, type ProvisioningHarness } from './harness.ts';

const SHAPE = { users: 4, groups: 1 };

describe('a provisioning job re-created on the same database', () => {
  let h: ProvisioningHarness;
  let peer: ScimPeer;
  let appId: string;

  beforeAll(async () => {
    h = await startProvisioningHarness();
    peer = await startScimmyPeer();
    await seedDirectory(h.store, SHAPE);
    appId = await createApp(h.store, peer, { shape: SHAPE });
  });

  afterAll(async () => {
    await h?.close();
    await peer?.close();
  });

  const job = () => h.env.client.workflow.getHandle(jobWorkflowId(appId));

  it('numbers its cycles after the ones in the database and provisions the next change in its next cycle', async () => {
    await h.startJob(appId);
    await h.waitForCycle(appId, 1);
    await job().signal(runNowSignal);
    await h.waitForCycle(appId, 2);

    // The restart: the job is gone (terminated, or lost with an in-memory Temporal), the database stays.
    await job().terminate('restart');
    await h.startJob(appId);
    const first = await h.waitFor(
      appId,
      (s) => s.lastCycle !== null && s.cycle === null,
      'the first cycle after the restart',
    );
    expect(first.lastCycle).toMatchObject({ number: 3, kind: 'initial', status: 'succeeded' });

    await h.store.directory.patchUser(userId(1), { displayName: 'Renamed after the restart' });
    await job().signal(runNowSignal);
    const next = await h.waitForCycle(appId, 4);
    expect(next.lastCycle).toMatchObject({ number: 4, status: 'succeeded', counts: { updated: 1 } });
    const account = (await peer.users()).find((u) => String(u.userName).toLowerCase() === upn(1));
    expect(account?.displayName).toBe('Renamed after the restart');
    const history = await h.store.cycles.list(appId);
    expect(history.items.map((c) => [c.number, c.status])).toEqual([
      [4, 'succeeded'],
      [3, 'succeeded'],
      [2, 'succeeded'],
      [1, 'succeeded'],
    ]);
  });
});
