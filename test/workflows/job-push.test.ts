// Change-driven push in the provisioning job, through the real Worker and Client, on the in-repo test
// service and on the real server: `directoryChanged` signals (sent by api/change-push.ts) coalesce into
// one incremental cycle after the push window, never beside a running cycle, and never in a paused job.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BeginCycleInput, ProcessBatchInput } from '../../activities/types.ts';
import { directoryChangedSignal, pauseSignal, resumeSignal, type JobStatus } from '../../workflows/messages.ts';
import { itNeedsVirtualTime, temporalBackends } from '../support/temporal-backends.ts';
import { startHarness, type Harness } from './harness.ts';

const MINUTE = 60_000;

const idleAfter = (n: number) => (s: JobStatus) =>
  s.lastCycle?.number === n && s.cycle === null && s.nextCycleAt !== null;

describe.each(temporalBackends)('on the $name Temporal server', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ backend });
  });
  afterEach(async () => {
    await h.stopJobs();
  });
  afterAll(async () => {
    await h?.close();
  });

  const itWithVirtualTime = itNeedsVirtualTime(backend);
  const beginCalls = (appId: string) => h.fakes.callsOf('beginCycle', appId).map((c) => c.input as BeginCycleInput);
  /** Position among all recorded calls of the cycle's beginCycle or finishCycle (-1: none). */
  const callAt = (appId: string, name: 'beginCycle' | 'finishCycle', cycle: number) => {
    const call = h.fakes.callsOf(name, appId).find((c) => {
      const input = c.input as { cycleId?: string; cycleNumber?: number };
      return name === 'beginCycle' ? input.cycleNumber === cycle : input.cycleId === `${appId}#${cycle}`;
    });
    return call?.at ?? -1;
  };

  /** Polls (real time) until the cycle's first processBatch has started. */
  async function batchStarted(appId: string, cycle: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    const started = () =>
      h.fakes
        .callsOf('processBatch', appId)
        .some((c) => (c.input as ProcessBatchInput).cycleId === `${appId}#${cycle}`);
    while (!started()) {
      if (Date.now() > deadline) throw new Error(`cycle ${cycle} did not reach its first batch`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('a burst of directoryChanged signals during a cycle is one incremental cycle after it, and the cadence goes on from that', async () => {
    const { appId, handle } = await h.startJob({}, { paused: true });
    const gate = h.fakes.gate(appId);
    await handle.signal(resumeSignal);
    await batchStarted(appId, 1);
    await Promise.all(Array.from({ length: 20 }, () => handle.signal(directoryChangedSignal)));
    gate.release();

    const s = await h.waitForStatus(appId, idleAfter(2), 'push cycle');
    expect(beginCalls(appId).map((c) => c.kind)).toEqual(['initial', 'incremental']);
    expect(callAt(appId, 'beginCycle', 2)).toBeGreaterThan(callAt(appId, 'finishCycle', 1));
    expect(s.state).toBe('steady');
    // The safety net: the next cycle of the cadence, 40 minutes after the push cycle.
    expect(Date.parse(s.nextCycleAt!) - Date.parse(s.lastCycle!.endedAt)).toBe(40 * MINUTE);
    if (backend.skipsTime) {
      await h.env.skipTime(10 * MINUTE);
      expect(beginCalls(appId)).toHaveLength(2);
    }
  });

  it('a change signalled while a cycle runs is pushed by one more cycle after that one ends, not beside it', async () => {
    const { appId, handle } = await h.startJob();
    await h.waitForStatus(appId, idleAfter(1), 'initial cycle');
    const gate = h.fakes.gate(appId);
    await handle.signal(directoryChangedSignal);
    const held = await h.waitForStatus(appId, (x) => x.cycle?.number === 2, 'push cycle running', { settle: false });
    expect(held.cycle).toMatchObject({ kind: 'incremental' });
    await batchStarted(appId, 2);
    await handle.signal(directoryChangedSignal);
    gate.release();

    await h.waitForStatus(appId, idleAfter(3), 'the next push cycle');
    expect(beginCalls(appId).map((c) => c.kind)).toEqual(['initial', 'incremental', 'incremental']);
    expect(callAt(appId, 'finishCycle', 2)).toBeGreaterThan(-1);
    expect(callAt(appId, 'beginCycle', 3)).toBeGreaterThan(callAt(appId, 'finishCycle', 2));
  });

  itWithVirtualTime('a paused job pushes nothing; the change it kept is pushed once it is resumed', async () => {
    const { appId, handle } = await h.startJob();
    await h.waitForStatus(appId, idleAfter(1), 'initial cycle');
    await handle.signal(pauseSignal);
    await h.waitForStatus(appId, (x) => x.state === 'paused', 'paused');
    await handle.signal(directoryChangedSignal);
    await h.env.skipTime(10 * MINUTE);
    expect(beginCalls(appId)).toHaveLength(1);

    await handle.signal(resumeSignal);
    await h.waitForStatus(appId, idleAfter(2), 'push cycle after resume');
    expect(beginCalls(appId).map((c) => c.kind)).toEqual(['initial', 'incremental']);
  });
});
