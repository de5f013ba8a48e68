// The cycle child (batches, phases, continue-as-new of long cycles, failures) and on-demand provisioning
// as a child of the job, with what the status query shows while a cycle runs.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OnDemandReport } from '../../activities/types.ts';
import type { ProcessBatchInput } from '../../activities/types.ts';
import { cycleWorkflowId, provisionOnDemandSignal, runNowSignal } from '../../workflows/messages.ts';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.stopJobs();
});
afterAll(async () => {
  await h?.close();
});

describe('cycle', () => {
  it('exports phase by phase, one batch at a time, and a long cycle continues-as-new without losing its place', async () => {
    const { appId } = await h.startJob({ users: 10, groups: 3 }, { batchSize: 2, maxBatchesPerRun: 3 });
    const s = await h.waitForStatus(appId, (x) => x.lastCycle?.number === 1 && x.cycle === null, 'initial cycle');
    expect(s.lastCycle).toMatchObject({ kind: 'initial', status: 'succeeded' });
    expect(s.lastCycle?.counts.created).toBe(13);

    const batches = h.fakes.callsOf('processBatch', appId).map((c) => c.input as ProcessBatchInput);
    expect(batches.map((b) => `${b.phase}@${b.cursor}`)).toEqual([
      'users@0',
      'users@2',
      'users@4',
      'users@6',
      'users@8',
      'groups@0',
      'groups@2',
      'references@0',
    ]);
    expect(new Set(batches.map((b) => b.cycleId)).size).toBe(1);
    // staged once, finished once, although the cycle ran in three workflow runs
    expect(h.fakes.callsOf('beginCycle', appId)).toHaveLength(1);
    expect(h.fakes.callsOf('finishCycle', appId)).toHaveLength(1);
    const child = await h.client.workflow.getHandle(cycleWorkflowId(appId, 1)).describe();
    expect(child.runId).not.toBe(child.raw.workflowExecutionInfo?.firstRunId);
  });

  it('the status shows processed, total, percent and an ETA while the cycle exports', async () => {
    const { appId, handle } = await h.startJob({ users: 500, groups: 20 }, { batchSize: 100, progressIntervalMs: 0 });
    await h.waitForStatus(appId, (x) => x.lastCycle?.number === 1 && x.cycle === null);
    const gate = h.fakes.gate(appId, 2);
    try {
      await handle.signal(runNowSignal);
      const s = await h.waitForStatus(appId, (x) => x.cycle?.processed === 200, 'two batches done', { settle: false });
      expect(s.cycle).toMatchObject({ number: 2, kind: 'incremental', processed: 200, total: 520, percent: 38 });
      expect(s.cycle?.etaSeconds).toBeGreaterThanOrEqual(0);
    } finally {
      gate.release();
    }
    const done = await h.waitForStatus(appId, (x) => x.lastCycle?.number === 2 && x.cycle === null);
    expect(done.lastCycle?.counts.updated).toBe(520);
  });

  it('a target that fails mid-cycle stops the cycle there and the failure reaches the job', async () => {
    const { appId, app } = await h.startJob({ users: 10 }, { batchSize: 2 });
    await h.waitForStatus(appId, (x) => x.lastCycle?.number === 1 && x.cycle === null);
    const gate = h.fakes.gate(appId);
    await h.jobHandle(appId).signal(runNowSignal);
    await h.waitForStatus(appId, (x) => x.cycle?.number === 2 && x.cycle.total > 0, 'cycle 2 running', {
      settle: false,
    });
    app.target = 'unauthorized';
    gate.release();
    const s = await h.waitForStatus(appId, (x) => x.lastCycle?.number === 2 && x.cycle === null, 'cycle 2 end');
    expect(s.lastCycle).toMatchObject({ status: 'failed', failure: { code: 'Unauthorized' } });
    expect(s.state).toBe('quarantined');
    const second = h.fakes
      .callsOf('processBatch', appId)
      .map((c) => c.input as ProcessBatchInput)
      .filter((b) => b.cycleId.endsWith('#2'));
    expect(second).toHaveLength(1);
    const finish = h.fakes.callsOf('finishCycle', appId).at(-1)?.input as { failure: { code: string } | null };
    expect(finish.failure?.code).toBe('Unauthorized');
  });

  it('an activity that fails for good with a ConfigurationError ends the cycle with its code, without retries', async () => {
    const { appId } = await h.startJob({
      batchError: { type: 'ConfigurationError', code: 'NonScimResponse', status: 404 },
    });
    const s = await h.waitForStatus(appId, (x) => x.lastCycle?.number === 1 && x.cycle === null, 'failed cycle');
    expect(s.lastCycle).toMatchObject({ status: 'failed', failure: { code: 'NonScimResponse' } });
    expect(s.quarantine?.reason).toBe('NonScimResponse');
    expect(h.fakes.callsOf('processBatch', appId)).toHaveLength(1);
    expect(h.fakes.callsOf('finishCycle', appId)).toHaveLength(1);
  });
});

describe('on-demand', () => {
  it('the job starts the on-demand child on the signal and the API gets the step report by its id', async () => {
    const { appId, handle } = await h.startJob();
    await h.waitForStatus(appId, (s) => s.lastCycle?.number === 1 && s.cycle === null);
    await handle.signal(provisionOnDemandSignal, { requestId: 'req-1', objectType: 'user', objectId: 'u-42' });
    const report = await h.onDemandResult(appId, 'req-1');
    expect(report).toMatchObject<Partial<OnDemandReport>>({
      requestId: 'req-1',
      objectType: 'user',
      objectId: 'u-42',
      action: 'Create',
      targetId: 'target-u-42',
    });
    expect(report.steps.map((s) => s.name)).toEqual(['testConnection', 'import', 'scoping', 'matching', 'action']);
    expect(h.fakes.callsOf('provisionOnDemand', appId)).toHaveLength(1);
  });

  it('runs immediately even while a cycle is running, and the status shows that cycle in progress', async () => {
    const { appId, handle } = await h.startJob({ users: 500, groups: 20 }, { batchSize: 100 });
    await h.waitForStatus(appId, (s) => s.lastCycle?.number === 1 && s.cycle === null);
    const gate = h.fakes.gate(appId);
    try {
      await handle.signal(runNowSignal);
      const running = await h.waitForStatus(appId, (s) => s.cycle !== null && s.cycle.total > 0, 'running cycle', {
        settle: false,
      });
      expect(running.cycle).toMatchObject({ kind: 'incremental', number: 2, total: 520, processed: 0, percent: 0 });
      expect(running.nextCycleAt).toBeNull();
      expect(running.state).toBe('steady');

      await handle.signal(provisionOnDemandSignal, { requestId: 'req-2', objectType: 'group', objectId: 'g-7' });
      const report = await h.onDemandResult(appId, 'req-2');
      expect(report).toMatchObject({ requestId: 'req-2', objectType: 'group', objectId: 'g-7' });
      expect((await h.status(appId)).cycle?.number).toBe(2);
    } finally {
      gate.release();
    }
    const done = await h.waitForStatus(appId, (s) => s.lastCycle?.number === 2 && s.cycle === null, 'cycle end');
    expect(done.lastCycle?.counts.updated).toBe(520);
    // one batch at a time: users in 5 batches, groups in 1, references in 1
    const batches = h.fakes
      .callsOf('processBatch', appId)
      .map((c) => c.input as { cycleId: string; phase: string })
      .filter((b) => b.cycleId.endsWith('#2'));
    expect(batches.map((b) => b.phase)).toEqual(['users', 'users', 'users', 'users', 'users', 'groups', 'references']);
  });

  it('a repeated signal for the same request starts one child only', async () => {
    const { appId, handle } = await h.startJob();
    await h.waitForStatus(appId, (s) => s.lastCycle?.number === 1 && s.cycle === null);
    const request = { requestId: 'req-3', objectType: 'user' as const, objectId: 'u-1' };
    await handle.signal(provisionOnDemandSignal, request);
    await h.onDemandResult(appId, 'req-3');
    await handle.signal(provisionOnDemandSignal, request);
    await handle.signal(runNowSignal);
    await h.waitForStatus(appId, (s) => s.lastCycle?.number === 2 && s.cycle === null);
    expect(h.fakes.callsOf('provisionOnDemand', appId)).toHaveLength(1);
  });
});
