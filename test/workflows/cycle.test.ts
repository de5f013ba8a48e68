// The cycle child (batches, phases, continue-as-new of long cycles, failures) and on-demand provisioning
// as a child of the job, with what the status query shows while a cycle runs. Every test runs on the
// in-repo test service and on the real server (test/support/temporal.ts): none needs time skipping.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OnDemandReport } from '../../activities/types.ts';
import type { ProcessBatchInput } from '../../activities/types.ts';
import { ApiError } from '../../api/errors.ts';
import { createTemporalProvisioningControl } from '../../api/temporal.ts';
import {
  cycleWorkflowId,
  JOB_WORKFLOW_TYPE,
  jobWorkflowId,
  ON_DEMAND_MAX_GROUP_MEMBERS,
  onDemandUpdate,
  provisionOnDemandSignal,
  runNowSignal,
} from '../../workflows/messages.ts';
import { root } from '../../dev/temporal-service/proto.ts';
import { temporalBackends } from '../support/temporal-backends.ts';
import { Worker } from '@temporalio/worker';
import { startHarness, workflowsPath, type Harness } from './harness.ts';

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
        const s = await h.waitForStatus(appId, (x) => x.cycle?.processed === 200, 'two batches done', {
          settle: false,
        });
        expect(s.cycle).toMatchObject({ number: 2, kind: 'incremental', processed: 200, total: 520, percent: 38 });
        expect(s.cycle?.etaSeconds).toBeGreaterThanOrEqual(0);
      } finally {
        gate.release();
      }
      const done = await h.waitForStatus(appId, (x) => x.lastCycle?.number === 2 && x.cycle === null);
      expect(done.lastCycle?.counts.updated).toBe(520);
    });

    it('a long cycle signals nothing to the job: the job run is as small for 60 batches as for 4, and the status shows the progress', async () => {
      // At 5 requests/s a page is 300 objects (a minute): 18,000 users are 60 batches, an hour. Cycles
      // begun before the patch progress-in-store signalled the job after each (progressIntervalMs 0).
      const eventsOfRun = async (users: number): Promise<{ events: string[]; cycleSignals: number }> => {
        const { appId, handle } = await h.startJob({ users, groups: 0 }, { batchSize: 300, progressIntervalMs: 0 });
        const gate = h.fakes.gate(appId, Math.floor(users / 600));
        try {
          const half = await h.waitForStatus(appId, (x) => x.cycle?.processed === users / 2, 'half the cycle', {
            settle: false,
          });
          expect(half.cycle).toMatchObject({
            number: 1,
            kind: 'initial',
            processed: users / 2,
            total: users,
            percent: 50,
          });
          expect(half.cycle?.etaSeconds).toBeGreaterThanOrEqual(0);
        } finally {
          gate.release();
        }
        const done = await h.waitForStatus(appId, (x) => x.lastCycle?.number === 1 && x.cycle === null, 'cycle end');
        expect(done.lastCycle?.counts.created).toBe(users);
        const job = await h.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
        const cycle = await h.client.workflow.getHandle(cycleWorkflowId(appId, 1)).fetchHistory();
        return {
          events: (job.events ?? []).map(
            (e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? String(e.eventType),
          ),
          cycleSignals: (cycle.events ?? []).filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes)
            .length,
        };
      };
      const short = await eventsOfRun(1200);
      const long = await eventsOfRun(18_000);
      expect(long.events.filter((e) => e === 'cycleProgress')).toEqual([]);
      expect(long.cycleSignals).toBe(0);
      expect(long.events.length).toBe(short.events.length);
      expect(long.events.length).toBeLessThan(40);
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
      expect(batches.map((b) => b.phase)).toEqual([
        'users',
        'users',
        'users',
        'users',
        'users',
        'groups',
        'references',
      ]);
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

  describe('on-demand as an Update on the job (what the API does)', () => {
    const EventType = root.lookupEnum('temporal.api.enums.v1.EventType');
    const control = () => createTemporalProvisioningControl({ client: h.client.workflow, taskQueue: h.taskQueue });
    const jobEvents = async (appId: string): Promise<string[]> => {
      const history = await h.client.workflow.getHandle(jobWorkflowId(appId)).fetchHistory();
      return (history.events ?? []).map((e) => EventType.valuesById[Number(e.eventType)].replace('EVENT_TYPE_', ''));
    };
    const codeOf = (error: unknown) => [(error as ApiError).code, (error as ApiError).status];

    it('answers with the report; the update id is the request id, so a repeated call provisions once', async () => {
      const { appId } = await h.startJob();
      await h.waitForStatus(appId, (s) => s.lastCycle?.number === 1 && s.cycle === null);
      const request = { requestId: 'upd-1', objectType: 'user' as const, objectId: 'u-9' };
      const report = await control().provisionOnDemand(appId, request);
      expect(report).toMatchObject({ requestId: 'upd-1', objectId: 'u-9', action: 'Create', logId: 'log-upd-1' });
      expect(report.counts).toEqual({ requests: 1, members: 0, membersFailed: 0 });
      expect(JSON.stringify(report)).not.toContain('"body"');
      expect(await control().provisionOnDemand(appId, request)).toEqual(report);
      expect(h.fakes.callsOf('provisionOnDemand', appId)).toHaveLength(1);
      const history = await h.client.workflow.getHandle(jobWorkflowId(appId)).fetchHistory();
      const accepted = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      expect(accepted.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.protocolInstanceId)).toEqual([
        'upd-1',
      ]);
      // The history with the Update replays against the current code (no determinism error).
      await Worker.runReplayHistory({ workflowsPath, replayName: 'on-demand-update' }, history);
    });

    it("an update that arrives with the run's first workflow task is answered (the job just started or continued-as-new)", async () => {
      // No worker polls this queue yet: the start and the update reach the job's first activation together.
      const appId = `app-first-${Date.now().toString(36)}`;
      const fake = h.fakes.addApp(appId, {});
      const taskQueue = `${h.taskQueue}-first`;
      const handle = await h.client.workflow.start(JOB_WORKFLOW_TYPE, {
        workflowId: jobWorkflowId(appId),
        taskQueue,
        args: [{ appId, appName: fake.appName }],
      });
      const request = { requestId: 'upd-first', objectType: 'user' as const, objectId: 'u-1' };
      const answer = handle
        .executeUpdate(onDemandUpdate, { args: [request], updateId: request.requestId })
        .catch((error: unknown) => error);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const worker = await Worker.create({
        connection: h.env.nativeConnection,
        namespace: 'default',
        taskQueue,
        workflowsPath,
        activities: h.fakes.activities,
      });
      try {
        await worker.runUntil(async () => {
          const report = await answer;
          expect(report).toMatchObject({ requestId: 'upd-first', objectId: 'u-1', action: 'Create' });
          await handle.terminate('test done');
        });
      } finally {
        await handle.terminate('test done').catch(() => undefined);
      }
    });

    it("a request id that ran in an earlier run of the job answers with that child's report", async () => {
      const { appId, handle } = await h.startJob();
      await h.waitForStatus(appId, (s) => s.lastCycle?.number === 1 && s.cycle === null);
      const request = { requestId: 'upd-2', objectType: 'user' as const, objectId: 'u-2' };
      const first = await control().provisionOnDemand(appId, request);
      const runBefore = (await handle.describe()).runId;
      await handle.signal(runNowSignal);
      await h.waitForStatus(appId, (s) => s.lastCycle?.number === 2 && s.cycle === null);
      expect((await h.client.workflow.getHandle(jobWorkflowId(appId)).describe()).runId).not.toBe(runBefore);
      expect(await control().provisionOnDemand(appId, request)).toEqual(first);
      expect(h.fakes.callsOf('provisionOnDemand', appId)).toHaveLength(1);
    });

    it('failures come back typed: busy 409, too many members 422, target down 503, configuration 422', async () => {
      const { appId } = await h.startJob();
      await h.waitForStatus(appId, (s) => s.lastCycle?.number === 1 && s.cycle === null);
      const attempt = (requestId: string, objectType: 'user' | 'group', objectId: string) =>
        control()
          .provisionOnDemand(appId, { requestId, objectType, objectId })
          .catch((e: unknown) => e);
      expect(codeOf(await attempt('f-1', 'user', 'busy-user'))).toEqual(['object_busy', 409]);
      const big = await attempt('f-2', 'group', 'big-group');
      expect(codeOf(big)).toEqual(['too_many_members', 422]);
      expect((big as ApiError).message).toContain(`at most ${ON_DEMAND_MAX_GROUP_MEMBERS}`);
      expect(codeOf(await attempt('f-3', 'user', 'down-user'))).toEqual(['unavailable', 503]);
      expect(codeOf(await attempt('f-4', 'user', 'config-user'))).toEqual(['on_demand_failed', 422]);
      // The job goes on: the next request works.
      expect(
        (await control().provisionOnDemand(appId, { requestId: 'f-5', objectType: 'user', objectId: 'u-5' })).action,
      ).toBe('Create');
    });

    it('the validator rejects a malformed request (422) and the job history keeps no trace of it', async () => {
      const { appId } = await h.startJob();
      await h.waitForStatus(appId, (s) => s.lastCycle?.number === 1 && s.cycle === null);
      // The job's next run loads its app first: compare the history once it waits on its cadence timer.
      let before = await jobEvents(appId);
      for (let i = 0; i < 100 && before.at(-1) !== 'TIMER_STARTED'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        before = await jobEvents(appId);
      }
      expect(before.at(-1)).toBe('TIMER_STARTED');
      const error = await control()
        .provisionOnDemand(appId, { requestId: 'bad-1', objectType: 'robot' as 'user', objectId: 'u-1' })
        .catch((e: unknown) => e);
      expect(codeOf(error)).toEqual(['on_demand_failed', 422]);
      expect((error as ApiError).message).toContain('objectType must be user or group');
      expect(await jobEvents(appId)).toEqual(before);
      expect(h.fakes.callsOf('provisionOnDemand', appId)).toHaveLength(0);
    });

    it('no job: 409 job_not_running', async () => {
      const error = await control()
        .provisionOnDemand('app-without-job', { requestId: 'n-1', objectType: 'user', objectId: 'u-1' })
        .catch((e: unknown) => e);
      expect(codeOf(error)).toEqual(['job_not_running', 409]);
    });
  });
});
