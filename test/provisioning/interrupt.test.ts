// Pause and restart do not wait for a long cycle: through the real worker and activities against a
// third-party SCIM peer, a rate-limited cycle stops after its batch in flight, sends nothing more, and
// the cycle that follows finishes the target exactly, creating and updating nothing twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cycleWorkflowId,
  jobWorkflowId,
  pauseSignal,
  restartSignal,
  resumeSignal,
  runNowSignal,
} from '../../workflows/messages.ts';
import { until as waitUntil } from '../support/net.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { createApp, expectedState, seedDirectory, targetState, userId } from './fixtures.ts';
import { startProvisioningHarness, type ProvisioningHarness } from './harness.ts';

const shape = { users: 60, groups: 4 };

describe('interrupting a running cycle', () => {
  let h: ProvisioningHarness;
  let peer: ScimPeer;
  let appId: string;

  beforeAll(async () => {
    // A processBatch call starts pages for 0.3 s (default 2 s), so a stop lands mid-cycle here.
    h = await startProvisioningHarness({ deps: { batchTimeBudgetMs: 300 } });
    peer = await startScimmyPeer();
    await seedDirectory(h.store, shape);
    // 20 requests a second and 5 objects a batch: a cycle lasts seconds, a batch a fraction of one.
    appId = await createApp(h.store, peer, {
      shape,
      overrides: { rateLimit: { requestsPerSecond: 20, concurrency: 2 } },
    });
  });

  afterAll(async () => {
    await h?.close();
    await peer?.close();
  });

  const job = () => h.env.client.workflow.getHandle(jobWorkflowId(appId));
  const requests = (method: string, resource: 'Users' | 'Groups') =>
    peer.requestLog.filter((r) => r.method === method && r.path.includes(`/${resource}`));
  const until = (done: () => boolean, what: string) => waitUntil(done, what, { timeoutMs: 60_000, pollMs: 10 });
  /** Activities the cycle scheduled after the job's stopCycle reached it. */
  async function scheduledAfterStop(cycle: number): Promise<string[]> {
    const history = await h.env.client.workflow.getHandle(cycleWorkflowId(appId, cycle)).fetchHistory();
    const events = history.events ?? [];
    const stop = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'stopCycle');
    expect(stop).toBeGreaterThan(0);
    return events
      .slice(stop)
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((name): name is string => name !== undefined && name !== null);
  }
  /** Waits until the peer has seen no request for `quietMs` of real time. */
  async function quiet(quietMs: number): Promise<number> {
    let seen = peer.requestLog.length;
    for (;;) {
      await new Promise((r) => setTimeout(r, quietMs));
      if (peer.requestLog.length === seen) return seen;
      seen = peer.requestLog.length;
    }
  }

  it('pause stops the initial cycle after its batch in flight; resume finishes the target with no duplicate create', async () => {
    await h.startJob(appId, { batchSize: 5 });
    await until(() => requests('POST', 'Users').length >= 10, 'ten users created');
    await job().signal(pauseSignal);

    const stopped = await h.waitFor(
      appId,
      (s) => s.lastCycle?.number === 1 && s.cycle === null,
      'the initial cycle to stop',
    );
    expect(stopped.state).toBe('paused');
    expect(stopped.lastCycle).toMatchObject({ kind: 'initial', status: 'stopped', failure: null });
    expect(stopped.backoffLevel).toBe(0);
    expect(await scheduledAfterStop(1)).toEqual(['finishCycle']);
    const row = await h.store.cycles.getByNumber(appId, 1);
    expect(row?.status).toBe('stopped');
    expect((await h.store.apps.get(appId))?.watermark).toBeNull();

    // Nothing more reaches the target while paused.
    const sent = await quiet(500);
    const createdBeforeResume = requests('POST', 'Users').length;
    expect(createdBeforeResume).toBeLessThan(shape.users);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(peer.requestLog.length).toBe(sent);

    await job().signal(resumeSignal);
    const done = await h.waitForCycle(appId, 2);
    expect(done.lastCycle).toMatchObject({ number: 2, kind: 'initial', status: 'succeeded' });
    expect(done.state).toBe('steady');
    expect(requests('POST', 'Users')).toHaveLength(shape.users);
    expect(requests('POST', 'Groups')).toHaveLength(shape.groups);
    expect(done.lastCycle?.counts.created).toBe(shape.users + shape.groups - createdBeforeResume);

    const actual = targetState(await peer.users(), await peer.groups());
    const expected = expectedState(shape);
    expect([...actual.users.keys()].sort()).toEqual([...expected.users.keys()].sort());
    for (const [name, facts] of expected.users) expect(actual.users.get(name), name).toMatchObject(facts);
    expect([...actual.groups.keys()].sort()).toEqual([...expected.groups.keys()].sort());
    for (const [name, members] of expected.groups) expect(actual.groups.get(name), name).toEqual(members);
  });

  it('restart stops an incremental cycle, then an initial cycle sends each remaining update once', async () => {
    for (let i = 1; i <= shape.users; i++) await h.store.directory.patchUser(userId(i), { jobTitle: 'Director' });
    const before = peer.requestLog.length;
    await job().signal(runNowSignal);
    await until(
      () => peer.requestLog.slice(before).filter((r) => r.method === 'PATCH').length >= 10,
      'ten users updated',
    );
    await job().signal(restartSignal, { reset: 'watermark' });

    const stopped = await h.waitFor(appId, (s) => s.lastCycle?.number === 3, 'the incremental cycle to stop');
    expect(stopped.lastCycle).toMatchObject({ kind: 'incremental', status: 'stopped' });
    expect(await scheduledAfterStop(3)).toEqual(['finishCycle']);
    const done = await h.waitForCycle(appId, 4);
    expect(done.lastCycle).toMatchObject({ number: 4, kind: 'initial', status: 'succeeded' });
    expect((await h.store.cycles.getByNumber(appId, 3))?.status).toBe('stopped');

    const patched = peer.requestLog
      .slice(before)
      .filter((r) => r.method === 'PATCH' && r.path.includes('/Users/'))
      .map((r) => r.path);
    expect(patched).toHaveLength(shape.users);
    expect(new Set(patched).size).toBe(shape.users);
    expect(peer.requestLog.slice(before).filter((r) => r.method === 'POST')).toEqual([]);
    const titles = (await peer.users()).map((u) => u.title);
    expect(titles.every((t) => t === 'Director')).toBe(true);
  });
});
