// An escrowed object whose retry ends in a Skip (nothing to send any more: here creates were turned
// off) leaves escrow: it is not staged again by every later cycle, and its retry reports no failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, seedDirectory, upn, userId } from '../provisioning/fixtures.ts';
import { openActivityTestbed, refusingCreates, runCycleDirect, type ActivityTestbed } from './helpers.ts';

describe('escrow ends when the retry has nothing to send', () => {
  const shape = { users: 3, groups: 1 };
  let t: ActivityTestbed;
  let appId: string;

  beforeAll(async () => {
    t = await openActivityTestbed('escrowskip', {
      deps: { createScimClient: refusingCreates((userName) => userName === upn(2)) },
    });
    await seedDirectory(t.store, shape);
    appId = await createApp(t.store, t.peer, { shape });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a retry on demand that skips clears the escrow', async () => {
    const first = await runCycleDirect(t.handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
    });
    expect(first.counts).toMatchObject({ escrowed: 1 });
    expect((await t.store.links.get(appId, 'user', userId(2)))?.failureCount).toBe(1);

    const app = await t.store.apps.require(appId);
    const configuration = structuredClone(app.configuration) as { objectTypes: { user: Record<string, unknown> } };
    configuration.objectTypes.user.actions = { create: false, update: true, disable: true, delete: true };
    await t.store.apps.update(appId, { configuration });

    const report = await t.handle.activities.provisionOnDemand({
      appId,
      requestId: 'retry-u2',
      objectType: 'user',
      objectId: userId(2),
    });
    expect(report).toMatchObject({ action: 'Skip', status: 'Skipped' });
    const link = await t.store.links.get(appId, 'user', userId(2));
    expect(link).toMatchObject({ failureCount: 0, nextRetryAt: null, lastError: null });
  });
});
