// The provisioning job's orchestration, through the real Worker and Client, on the in-repo test service
// and on the real server (test/support/temporal.ts). Activities are recording fakes
// (test/workflows/fake-activities.ts). Tests that need hours or days of workflow time run only where
// time can be skipped (the in-repo service); their real-time variants, with intervals of a second,
// run on both.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import type { BeginCycleInput, NotifyInput, ProcessBatchInput } from '../../activities/types.ts';
import {
  approveDeletionsSignal,
  configChangedSignal,
  cycleWorkflowId,
  JOB_WORKFLOW_TYPE,
  jobWorkflowId,
  pauseSignal,
  quarantineSignal,
  rejectDeletionsSignal,
  releaseSignal,
  restartSignal,
  resumeSignal,
  runNowSignal,
  type JobStatus,
} from '../../workflows/messages.ts';
import { until } from '../support/net.ts';
import { itNeedsVirtualTime, temporalBackends } from '../support/temporal-backends.ts';
import { SUGGEST_CONTINUE_AS_NEW_EVENTS, startHarness, workflowsPath, type Harness } from './harness.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const gapToNext = (s: JobStatus) => Date.parse(s.nextCycleAt!) - Date.parse(s.lastCycle!.endedAt);
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

  const beginCalls = (appId: string) => h.fakes.callsOf('beginCycle', appId).map((c) => c.input as BeginCycleInput);
  /** Tests that need hours or days of workflow time: only where time can be skipped. */
  const itWithVirtualTime = itNeedsVirtualTime(backend);

  describe('restarts', () => {
    it('a job re-created on a database that holds 6 cycles runs cycle 7 next, as its own child workflow', async () => {
      const { appId } = await h.startJob({ storedCycles: 6 });
      const first = await h.waitForStatus(appId, idleAfter(7), 'first cycle after the restart');
      expect(first.lastCycle).toMatchObject({ number: 7, kind: 'initial', status: 'succeeded' });
      expect(beginCalls(appId).map((c) => c.cycleNumber)).toEqual([7]);
      const child = await h.client.workflow.getHandle(cycleWorkflowId(appId, 7)).describe();
      expect(child.status.name).toBe('COMPLETED');
    });
  });

  describe('cadence', () => {
    // Real-time variants of the two tests below: an interval of 0.02 minutes (1.2 s) stands for 40.
    it('runs the initial cycle at once, then an incremental cycle every interval, each cycle a child and each wait a new run with the memo and search attributes', async () => {
      const { appId, handle } = await h.startJob({ cycleIntervalMinutes: 0.02 });
      // Not settled: the next cycle is due 1.2 s after each one, maybe before the job has settled.
      const noSettle = { settle: false };
      const first = await h.waitForStatus(appId, idleAfter(1), 'initial cycle', noSettle);
      expect(first.lastCycle).toMatchObject({ number: 1, kind: 'initial', status: 'succeeded' });
      expect(first.state).toBe('steady');
      expect(gapToNext(first)).toBe(1_200);
      const third = await h.waitForStatus(appId, idleAfter(3), 'third cycle', noSettle);
      expect(gapToNext(third)).toBe(1_200);
      expect(
        beginCalls(appId)
          .slice(0, 3)
          .map((c) => c.kind),
      ).toEqual(['initial', 'incremental', 'incremental']);
      expect(beginCalls(appId)[1].watermark).toBe(1);

      const child = await h.client.workflow.getHandle(cycleWorkflowId(appId, 2)).describe();
      expect(child.status.name).toBe('COMPLETED');
      expect(child.type).toBe('provisioningCycleWorkflow');
      const job = await handle.describe();
      expect(job.runId).not.toBe(handle.firstExecutionRunId);
      expect(job.status.name).toBe('RUNNING');
      expect(job.memo?.appName).toBe(h.fakes.apps.get(appId)!.appName);
      expect(job.searchAttributes.FerryJobState).toEqual(['steady']);
      expect(job.searchAttributes.FerryAppId).toEqual([appId]);
    });

    it('doubles the wait after each whole-cycle failure, and a healthy cycle brings back the interval', async () => {
      const { appId, app, handle } = await h.startJob({ target: 'down', cycleIntervalMinutes: 0.01 });
      // Not settled: with waits of about a second, the next cycle may already run once the job settles.
      const noSettle = { settle: false };
      let s = await h.waitForStatus(appId, idleAfter(1), 'failed initial cycle', noSettle);
      expect(s.lastCycle?.status).toBe('failed');
      const gaps: number[] = [];
      const levels: number[] = [];
      for (let n = 1; n <= 2; n++) {
        gaps.push(gapToNext(s));
        levels.push(s.backoffLevel);
        s = await h.waitForStatus(appId, idleAfter(n + 1), `cycle ${n + 1}`, noSettle);
      }
      gaps.push(gapToNext(s));
      levels.push(s.backoffLevel);
      expect(gaps).toEqual([1_200, 2_400, 4_800]);
      expect(levels).toEqual([1, 2, 3]);
      expect(s.quarantine).toBeNull();
      expect(beginCalls(appId).every((c) => c.kind === 'initial')).toBe(true);

      app.target = 'healthy';
      await handle.signal(runNowSignal);
      // Not settled either: the interval is back to 0.6 s, so by the time the job settled cycle 5 may run.
      s = await h.waitForStatus(appId, idleAfter(4), 'healthy cycle', noSettle);
      expect(s.lastCycle?.status).toBe('succeeded');
      expect(s.backoffLevel).toBe(0);
      expect(s.state).toBe('steady');
      expect(gapToNext(s)).toBe(600);
    });

    itWithVirtualTime(
      'runs the initial cycle at once, then an incremental cycle every 40 minutes of workflow time',
      async () => {
        const { appId, handle } = await h.startJob();
        const first = await h.waitForStatus(appId, idleAfter(1), 'initial cycle');
        expect(first.lastCycle).toMatchObject({ number: 1, kind: 'initial', status: 'succeeded' });
        expect(first.state).toBe('steady');
        expect(gapToNext(first)).toBe(40 * MINUTE);

        await h.env.skipTime(39 * MINUTE);
        expect(beginCalls(appId)).toHaveLength(1);
        await h.env.skipTime(MINUTE);
        await h.waitForStatus(appId, idleAfter(2), 'second cycle');
        await h.env.skipTime(80 * MINUTE);
        const after = await h.waitForStatus(appId, idleAfter(4), 'fourth cycle');

        const kinds = beginCalls(appId).map((c) => c.kind);
        expect(kinds).toEqual(['initial', 'incremental', 'incremental', 'incremental']);
        // the watermark saved by a cycle is where the next incremental cycle starts
        expect(beginCalls(appId)[1].watermark).toBe(1);
        expect(after.lastCycle?.counts.updated).toBe(4);

        // each cycle is its own child workflow, visible by its id
        const child = await h.client.workflow.getHandle(cycleWorkflowId(appId, 3)).describe();
        expect(child.status.name).toBe('COMPLETED');
        expect(child.type).toBe('provisioningCycleWorkflow');

        // continue-as-new after every cycle: a later run, same workflow id, state carried over
        const job = await handle.describe();
        expect(job.runId).not.toBe(handle.firstExecutionRunId);
        expect(job.status.name).toBe('RUNNING');
        expect(job.memo?.appName).toBe(h.fakes.apps.get(appId)!.appName);
        expect(job.searchAttributes.FerryJobState).toEqual(['steady']);
        expect(job.searchAttributes.FerryAppId).toEqual([appId]);
      },
    );

    itWithVirtualTime(
      'doubles the wait after each whole-cycle failure up to 24 hours, and returns to 40 minutes after a healthy cycle',
      async () => {
        const { appId, app } = await h.startJob({ target: 'down' });
        let s = await h.waitForStatus(appId, idleAfter(1), 'failed initial cycle');
        expect(s.lastCycle?.status).toBe('failed');
        expect(s.state).toBe('initial');

        const gaps: number[] = [];
        const levels: number[] = [];
        for (let n = 1; n <= 6; n++) {
          gaps.push(gapToNext(s));
          levels.push(s.backoffLevel);
          await h.env.skipTime(gapToNext(s));
          s = await h.waitForStatus(appId, idleAfter(n + 1), `cycle ${n + 1}`);
        }
        expect(gaps).toEqual([80, 160, 320, 640, 1280, 1440].map((m) => m * MINUTE));
        expect(levels).toEqual([1, 2, 3, 4, 5, 6]);
        // a target that is down is not a reason for quarantine
        expect(s.quarantine).toBeNull();
        // until a cycle succeeds, the next one is still initial
        expect(beginCalls(appId).every((c) => c.kind === 'initial')).toBe(true);

        app.target = 'healthy';
        await h.env.skipTime(gapToNext(s));
        s = await h.waitForStatus(appId, idleAfter(8), 'healthy cycle');
        expect(s.lastCycle?.status).toBe('succeeded');
        expect(s.backoffLevel).toBe(0);
        expect(s.state).toBe('steady');
        expect(gapToNext(s)).toBe(40 * MINUTE);
      },
    );
  });

  describe('quarantine', () => {
    itWithVirtualTime('quarantines on 401, e-mails once, runs daily, and a healthy cycle releases it', async () => {
      const { appId, app } = await h.startJob({ target: 'unauthorized' });
      let s = await h.waitForStatus(appId, (x) => idleAfter(1)(x) && x.state === 'quarantined', 'quarantine');
      expect(s.quarantine?.reason).toBe('Unauthorized');
      expect(gapToNext(s)).toBe(DAY);

      await h.env.skipTime(DAY);
      s = await h.waitForStatus(appId, idleAfter(2), 'second quarantined cycle');
      expect(s.state).toBe('quarantined');
      const notices = h.fakes.callsOf('notify', appId).map((c) => c.input as NotifyInput);
      expect(notices).toHaveLength(1);
      expect(notices[0].to).toBe('ops@example.com');
      expect(notices[0].subject).toContain('Unauthorized');

      app.target = 'healthy';
      await h.env.skipTime(DAY);
      s = await h.waitForStatus(appId, idleAfter(3), 'healthy cycle');
      expect(s.state).toBe('steady');
      expect(s.quarantine).toBeNull();
      expect(gapToNext(s)).toBe(40 * MINUTE);
    });

    itWithVirtualTime('e-mails again when the quarantine reason changes, keeping the time it began', async () => {
      const { appId, app } = await h.startJob({ target: 'unauthorized' });
      const first = await h.waitForStatus(appId, (x) => idleAfter(1)(x) && x.state === 'quarantined');
      app.target = 'healthy';
      app.batchError = { type: 'ConfigurationError', code: 'NonScimResponse', status: 404 };
      await h.env.skipTime(DAY);
      const s = await h.waitForStatus(appId, idleAfter(2), 'second cycle');
      expect(s.quarantine).toEqual({ reason: 'NonScimResponse', since: first.quarantine?.since });
      const subjects = h.fakes.callsOf('notify', appId).map((c) => (c.input as NotifyInput).subject);
      expect(subjects).toHaveLength(2);
      expect(subjects[1]).toContain('NonScimResponse');
    });

    itWithVirtualTime('disables the job after 4 weeks in quarantine and runs no more cycles', async () => {
      const { appId } = await h.startJob({ target: 'unauthorized' });
      await h.waitForStatus(appId, (x) => idleAfter(1)(x) && x.state === 'quarantined', 'quarantine');
      await h.env.skipTime(27 * DAY);
      let s = await h.status(appId);
      expect(s.state).toBe('quarantined');
      await h.env.skipTime(DAY);
      s = await h.waitForStatus(appId, (x) => x.state === 'disabled', 'disabled');
      expect(s.nextCycleAt).toBeNull();
      const cycles = beginCalls(appId).length;
      await h.env.skipTime(3 * DAY);
      expect(beginCalls(appId)).toHaveLength(cycles);
      expect(h.fakes.callsOf('notify', appId)).toHaveLength(1);
    });

    it('a manual quarantine holds until release; release runs the overdue cycle', async () => {
      // The app's interval: 40 minutes of virtual time, or 5 seconds of real time on the real server.
      const intervalMinutes = backend.skipsTime ? 40 : 5 / 60;
      const { appId, handle } = await h.startJob({ cycleIntervalMinutes: intervalMinutes });
      const first = await h.waitForStatus(appId, idleAfter(1));
      await handle.signal(quarantineSignal, { reason: 'Maintenance' });
      let s = await h.waitForStatus(appId, (x) => x.state === 'quarantined', 'manual quarantine');
      expect(s.quarantine).toMatchObject({ reason: 'Manual', message: 'Maintenance' });
      expect(gapToNext(s)).toBe(DAY);
      expect(h.fakes.callsOf('notify', appId)).toHaveLength(1);

      // The app's own cycle falls due while the job is quarantined; it does not run.
      if (backend.skipsTime) await h.env.skipTime(2 * HOUR);
      else await until(() => Date.now() > Date.parse(first.nextCycleAt!) + 1_000, 'the cycle to be overdue');
      expect(beginCalls(appId)).toHaveLength(1);
      await handle.signal(releaseSignal);
      s = await h.waitForStatus(appId, (x) => idleAfter(2)(x) && x.state === 'steady', 'release');
      expect(s.quarantine).toBeNull();
    });

    it('release runs a cycle at once, also when the next cycle is not yet due', async () => {
      const { appId, handle } = await h.startJob();
      const first = await h.waitForStatus(appId, idleAfter(1));
      await handle.signal(quarantineSignal, { reason: 'Maintenance' });
      await h.waitForStatus(appId, (x) => x.state === 'quarantined', 'manual quarantine');
      // No time is skipped: without the release running it, the next cycle would be a day away.
      await handle.signal(releaseSignal);
      const s = await h.waitForStatus(appId, (x) => idleAfter(2)(x) && x.state === 'steady', 'cycle after release');
      expect(Date.parse(s.lastCycle!.startedAt) - Date.parse(first.lastCycle!.endedAt)).toBeLessThan(40 * MINUTE);
      expect(beginCalls(appId).map((c) => c.kind)).toEqual(['initial', 'incremental']);
    });
  });

  describe('signals', () => {
    itWithVirtualTime('pause stops the timer, resume runs the overdue cycle, runNow runs one at once', async () => {
      const { appId, handle } = await h.startJob();
      await h.waitForStatus(appId, idleAfter(1));
      await handle.signal(pauseSignal);
      let s = await h.waitForStatus(appId, (x) => x.state === 'paused', 'paused');
      expect(s.nextCycleAt).toBeNull();
      await h.env.skipTime(3 * HOUR);
      expect(beginCalls(appId)).toHaveLength(1);

      await handle.signal(resumeSignal);
      s = await h.waitForStatus(appId, (x) => idleAfter(2)(x) && x.state === 'steady', 'resumed cycle');
      expect(gapToNext(s)).toBe(40 * MINUTE);

      await handle.signal(runNowSignal);
      await h.waitForStatus(appId, idleAfter(3), 'runNow cycle');
      expect(beginCalls(appId).map((c) => c.kind)).toEqual(['initial', 'incremental', 'incremental']);
    });

    it('restart resets the app and runs an initial cycle from no watermark', async () => {
      const { appId, handle } = await h.startJob();
      await h.waitForStatus(appId, idleAfter(1));
      await handle.signal(restartSignal, { reset: 'full' });
      const s = await h.waitForStatus(appId, idleAfter(2), 'restart cycle');
      expect(h.fakes.callsOf('resetApp', appId).map((c) => c.input)).toEqual([{ appId, reset: 'full' }]);
      expect(beginCalls(appId)[1]).toMatchObject({ kind: 'initial', watermark: null });
      expect(s.lastCycle?.kind).toBe('initial');
      expect(s.state).toBe('steady');
    });

    it('configChanged reloads the app and runs an initial cycle', async () => {
      const { appId, app, handle } = await h.startJob();
      await h.waitForStatus(appId, idleAfter(1));
      app.cycleIntervalMinutes = 15;
      app.configVersion = 'v2';
      await handle.signal(configChangedSignal);
      const s = await h.waitForStatus(appId, idleAfter(2), 'config cycle');
      expect(beginCalls(appId)[1].kind).toBe('initial');
      expect(gapToNext(s)).toBe(15 * MINUTE);
    });
  });

  describe('deletion threshold', () => {
    it('stages deletions above the threshold, quarantines TooManyDeletes, and approval sends them', async () => {
      const { appId, app, handle } = await h.startJob();
      await h.waitForStatus(appId, idleAfter(1));
      app.deletions = 600;
      await handle.signal(runNowSignal);
      let s = await h.waitForStatus(appId, (x) => idleAfter(2)(x) && x.state === 'quarantined', 'TooManyDeletes');
      expect(s.quarantine?.reason).toBe('TooManyDeletes');
      expect(s.pendingDeletions).toBe(600);
      expect(s.lastCycle?.counts.stagedDeletes).toBe(600);
      expect(h.fakes.callsOf('notify', appId)).toHaveLength(1);

      await handle.signal(approveDeletionsSignal);
      s = await h.waitForStatus(appId, (x) => idleAfter(3)(x) && x.state === 'steady', 'approved cycle');
      const guards = h.fakes.callsOf('deletionGuard', appId).map((c) => c.input as { deletionsApproved: boolean });
      expect(guards.map((g) => g.deletionsApproved)).toEqual([false, false, true]);
      expect(beginCalls(appId)[2].deletionsApproved).toBe(true);
      expect(s.pendingDeletions).toBe(0);
      expect(s.lastCycle?.counts.disabled).toBe(600);
    });

    itWithVirtualTime(
      'rejection drops the staged deletions, releases the job, and the next cycle is told',
      async () => {
        const { appId, app, handle } = await h.startJob();
        await h.waitForStatus(appId, idleAfter(1));
        app.deletions = 600;
        await handle.signal(runNowSignal);
        await h.waitForStatus(appId, (x) => idleAfter(2)(x) && x.state === 'quarantined', 'TooManyDeletes');
        await handle.signal(rejectDeletionsSignal);
        let s = await h.waitForStatus(appId, (x) => x.state === 'steady', 'rejected');
        expect(s.pendingDeletions).toBe(0);
        expect(s.quarantine).toBeNull();
        await h.env.skipTime(gapToNext(s));
        s = await h.waitForStatus(appId, idleAfter(3), 'cycle after rejection');
        expect(beginCalls(appId)[2]).toMatchObject({ deletionsRejected: true, deletionsApproved: false });
        expect(s.lastCycle?.counts.disabled).toBe(0);
        expect(s.state).toBe('steady');
      },
    );
  });

  describe('continue-as-new', () => {
    it('continues-as-new while waiting when Temporal suggests it, keeping the schedule and the state', async () => {
      const { appId, handle } = await h.startJob();
      const before = await h.waitForStatus(appId, idleAfter(1));
      const runBefore = (await handle.describe()).runId;
      // Signals that change nothing still grow the history until the server suggests continue-as-new
      // (from SUGGEST_CONTINUE_AS_NEW_EVENTS events on both backends in these tests).
      for (
        let sent = 0;
        sent < 2 * SUGGEST_CONTINUE_AS_NEW_EVENTS && (await handle.describe()).runId === runBefore;
        sent += 25
      ) {
        await Promise.all(Array.from({ length: 25 }, () => handle.signal(approveDeletionsSignal)));
      }
      const after = await h.waitForStatus(appId, (x) => x.lastCycle?.number === 1, 'after the signals');
      const runAfter = (await handle.describe()).runId;
      expect(runAfter).not.toBe(runBefore);
      expect(after.nextCycleAt).toBe(before.nextCycleAt);
      expect(after.lastCycle).toEqual(before.lastCycle);
      expect(beginCalls(appId)).toHaveLength(1);
      if (backend.skipsTime) {
        await h.env.skipTime(40 * MINUTE);
        await h.waitForStatus(appId, idleAfter(2), 'next cycle on time');
      }
    });
  });

  describe('resilience', () => {
    itWithVirtualTime(
      'a mail server that is down does not stop the job: it stays quarantined and keeps its daily cycle',
      async () => {
        const { appId, handle } = await h.startJob({ target: 'unauthorized', notifyFails: true });
        let s = await h.waitForStatus(appId, (x) => idleAfter(1)(x) && x.state === 'quarantined', 'quarantine');
        expect(h.fakes.callsOf('notify', appId)).toHaveLength(1);
        await h.env.skipTime(DAY);
        s = await h.waitForStatus(appId, idleAfter(2), 'daily cycle');
        expect(s.state).toBe('quarantined');
        expect((await handle.describe()).status.name).toBe('RUNNING');
      },
    );

    it('an app that cannot be reloaded keeps the last settings and the cadence', async () => {
      const { appId, app, handle } = await h.startJob({ cycleIntervalMinutes: 30 });
      await h.waitForStatus(appId, idleAfter(1));
      app.loadFails = true;
      await handle.signal(runNowSignal);
      const s = await h.waitForStatus(appId, idleAfter(2), 'cycle with a failing loadApp');
      expect(gapToNext(s)).toBe(30 * MINUTE);
      expect(s.appName).toBe(app.appName);
      expect((await handle.describe()).status.name).toBe('RUNNING');
    });

    it('a job whose app was deleted ends, disabled, instead of running failing cycles', async () => {
      const { appId, handle } = await h.startJob();
      await h.waitForStatus(appId, idleAfter(1));
      h.fakes.apps.delete(appId);
      await handle.signal(configChangedSignal);
      await expect(h.client.workflow.getHandle(handle.workflowId).result()).resolves.toBeUndefined();
      const job = await handle.describe();
      expect(job.status.name).toBe('COMPLETED');
      expect(job.searchAttributes.FerryJobState).toEqual(['disabled']);
      // No cycle ran after the app was gone, and none comes on the timer (a day of virtual time).
      if (backend.skipsTime) await h.env.skipTime(DAY);
      expect(beginCalls(appId)).toHaveLength(1);
      // The new path is deterministic: its history (with the patch marker) replays.
      const history = await h.client.workflow.getHandle(handle.workflowId).fetchHistory();
      await expect(
        Worker.runReplayHistory({ workflowsPath, replayName: 'app-gone' }, history, handle.workflowId),
      ).resolves.toBeUndefined();
    });

    it('a job (re-)created for an app that no longer exists ends at once, running no cycle', async () => {
      const appId = `app-gone-${randomUUID().slice(0, 8)}`;
      const job = await h.client.workflow.start(JOB_WORKFLOW_TYPE, {
        workflowId: jobWorkflowId(appId),
        taskQueue: h.taskQueue,
        args: [{ appId }],
      });
      await expect(job.result()).resolves.toBeUndefined();
      expect((await job.describe()).status.name).toBe('COMPLETED');
      expect(h.fakes.callsOf('loadApp', appId)).toHaveLength(1);
      expect(beginCalls(appId)).toHaveLength(0);
    });
  });

  describe('a job started paused (npm start re-creating a paused app)', () => {
    it('runs no cycle until resumed', async () => {
      const { appId, handle } = await h.startJob({}, { paused: true });
      const s = await h.waitForStatus(appId, (x) => x.state === 'paused', 'paused from the start');
      expect(s.nextCycleAt).toBeNull();
      // A day passes without a cycle (virtual time only).
      if (backend.skipsTime) await h.env.skipTime(DAY);
      expect(beginCalls(appId)).toHaveLength(0);
      await handle.signal(resumeSignal);
      const resumed = await h.waitForStatus(appId, idleAfter(1), 'initial cycle after resume');
      expect(resumed.lastCycle?.kind).toBe('initial');
    });
  });

  describe('interrupting a running cycle', () => {
    const batchesOf = (appId: string, cycle: number) =>
      h.fakes
        .callsOf('processBatch', appId)
        .map((c) => c.input as ProcessBatchInput)
        .filter((b) => b.cycleId === `${appId}#${cycle}`);
    const finishOf = (appId: string, cycle: number) =>
      h.fakes
        .callsOf('finishCycle', appId)
        .map((c) => c.input as { cycleId: string; stopped?: boolean })
        .filter((f) => f.cycleId === `${appId}#${cycle}`);
    /** Polls (real time) until `n` batches of the cycle have started; the gate holds the last one. */
    async function batchesStarted(appId: string, cycle: number, n: number): Promise<void> {
      const deadline = Date.now() + 30_000;
      while (batchesOf(appId, cycle).length < n) {
        if (Date.now() > deadline) throw new Error(`cycle ${cycle} did not start batch ${n}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    /** Polls (real time) until the cycle child has received `stopCycle` from the job. */
    async function stopDelivered(appId: string, cycle: number): Promise<void> {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const history = await h.client.workflow.getHandle(cycleWorkflowId(appId, cycle)).fetchHistory();
        const signals = (history.events ?? []).map((e) => e.workflowExecutionSignaledEventAttributes?.signalName);
        if (signals.includes('stopCycle')) return;
        if (Date.now() > deadline) throw new Error(`cycle ${cycle} was not told to stop`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    it('pause stops a long initial cycle after the batch in flight; resume runs the initial cycle again at once', async () => {
      // Two batches a run: the stop reaches the cycle after its own continue-as-new.
      const { appId, handle } = await h.startJob(
        { users: 100, groups: 0 },
        { batchSize: 10, maxBatchesPerRun: 2, paused: true },
      );
      const gate = h.fakes.gate(appId, 2);
      await handle.signal(resumeSignal);
      await batchesStarted(appId, 1, 3);
      await handle.signal(pauseSignal);
      // The intent shows at once; the cycle is still there until its batch in flight ends.
      const stopping = await h.waitForStatus(appId, (x) => x.state === 'paused', 'pause recorded', { settle: false });
      expect(stopping.cycle).toMatchObject({ number: 1, kind: 'initial' });
      expect(stopping.nextCycleAt).toBeNull();
      await stopDelivered(appId, 1);
      gate.release();

      const s = await h.waitForStatus(appId, (x) => x.lastCycle?.number === 1 && x.cycle === null, 'stopped cycle');
      expect(s.lastCycle).toMatchObject({ number: 1, kind: 'initial', status: 'stopped', failure: null });
      expect(s.state).toBe('paused');
      expect(s.nextCycleAt).toBeNull();
      expect(s.backoffLevel).toBe(0);
      expect(finishOf(appId, 1)).toEqual([expect.objectContaining({ stopped: true })]);
      // No batch after the one in flight, however long the job stays paused (virtual time only).
      if (backend.skipsTime) await h.env.skipTime(3 * HOUR);
      expect(batchesOf(appId, 1)).toHaveLength(3);
      expect(beginCalls(appId)).toHaveLength(1);

      await handle.signal(resumeSignal);
      const resumed = await h.waitForStatus(appId, idleAfter(2), 'initial cycle after resume');
      // An interrupted initial cycle leaves an initial cycle due, from no watermark.
      expect(beginCalls(appId).map((c) => c.kind)).toEqual(['initial', 'initial']);
      expect(beginCalls(appId)[1].watermark).toBeNull();
      expect(resumed.lastCycle).toMatchObject({ kind: 'initial', status: 'succeeded' });
      expect(resumed.state).toBe('steady');
      expect(gapToNext(resumed)).toBe(40 * MINUTE);
    });

    it('a stopped cycle is not a failure: the backoff level stays, and the cycle still due runs at once on resume', async () => {
      const { appId, app, handle } = await h.startJob({ target: 'down', users: 100, groups: 0 }, { batchSize: 10 });
      const failed = await h.waitForStatus(appId, idleAfter(1), 'failed initial cycle');
      expect(failed.backoffLevel).toBe(1);
      app.target = 'healthy';
      const gate = h.fakes.gate(appId, 1);
      await handle.signal(runNowSignal);
      await batchesStarted(appId, 2, 2);
      await handle.signal(pauseSignal);
      await h.waitForStatus(appId, (x) => x.state === 'paused', 'pause recorded', { settle: false });
      await stopDelivered(appId, 2);
      gate.release();
      const stopped = await h.waitForStatus(appId, (x) => x.lastCycle?.number === 2 && x.cycle === null, 'stopped');
      expect(stopped.lastCycle?.status).toBe('stopped');
      // A failure would have doubled the wait (level 2); a stop leaves it and the quarantine alone.
      expect(stopped.backoffLevel).toBe(1);
      expect(stopped.quarantine).toBeNull();

      await handle.signal(resumeSignal);
      const resumed = await h.waitForStatus(appId, idleAfter(3), 'the cycle still due');
      expect(resumed.lastCycle).toMatchObject({ kind: 'initial', status: 'succeeded' });
      expect(resumed.backoffLevel).toBe(0);
      expect(gapToNext(resumed)).toBe(40 * MINUTE);
    });

    it('restart stops the running cycle, resets the app and runs an initial cycle', async () => {
      const { appId, handle } = await h.startJob({ users: 50, groups: 0 }, { batchSize: 10 });
      await h.waitForStatus(appId, idleAfter(1));
      const gate = h.fakes.gate(appId, 1);
      await handle.signal(runNowSignal);
      await batchesStarted(appId, 2, 2);
      await handle.signal(restartSignal, { reset: 'watermark' });
      const stopping = await h.waitForStatus(appId, (x) => x.state === 'initial', 'restart recorded', {
        settle: false,
      });
      expect(stopping.cycle).toMatchObject({ number: 2, kind: 'incremental' });
      expect(h.fakes.callsOf('resetApp', appId)).toHaveLength(0); // never under a running batch
      await stopDelivered(appId, 2);
      gate.release();

      const s = await h.waitForStatus(appId, idleAfter(3), 'initial cycle after restart');
      expect(batchesOf(appId, 2)).toHaveLength(2);
      expect(finishOf(appId, 2)).toEqual([expect.objectContaining({ stopped: true })]);
      expect(h.fakes.callsOf('resetApp', appId).map((c) => c.input)).toEqual([{ appId, reset: 'watermark' }]);
      expect(beginCalls(appId).map((c) => c.kind)).toEqual(['initial', 'incremental', 'initial']);
      expect(beginCalls(appId)[2].watermark).toBeNull();
      expect(s.lastCycle).toMatchObject({ number: 3, kind: 'initial', status: 'succeeded' });
    });

    it('configChanged and a manual quarantine stop the cycle too; runNow and approveDeletions do not', async () => {
      const { appId, app, handle } = await h.startJob({ users: 50, groups: 0 }, { batchSize: 10 });
      await h.waitForStatus(appId, idleAfter(1));

      // runNow and approveDeletions while a cycle runs: it runs to its end.
      let gate = h.fakes.gate(appId, 1);
      await handle.signal(runNowSignal);
      await batchesStarted(appId, 2, 2);
      await handle.signal(runNowSignal);
      await handle.signal(approveDeletionsSignal);
      gate.release();
      let s = await h.waitForStatus(appId, idleAfter(3), 'cycle 2, then the cycle of the second runNow');
      expect(finishOf(appId, 2)).toEqual([expect.objectContaining({ stopped: undefined })]);
      expect(batchesOf(appId, 2)).toHaveLength(7); // 5 user batches, the (empty) groups and references phases
      expect(s.lastCycle?.status).toBe('succeeded');

      // configChanged: stopped, then an initial cycle with the new settings.
      gate = h.fakes.gate(appId, 1);
      await handle.signal(runNowSignal);
      await batchesStarted(appId, 4, 2);
      app.configVersion = 'v2';
      app.cycleIntervalMinutes = 15;
      await handle.signal(configChangedSignal);
      await stopDelivered(appId, 4);
      gate.release();
      s = await h.waitForStatus(appId, idleAfter(5), 'initial cycle after configChanged');
      expect(batchesOf(appId, 4)).toHaveLength(2);
      expect(beginCalls(appId)[4].kind).toBe('initial');
      expect(gapToNext(s)).toBe(15 * MINUTE);

      // A manual quarantine: stopped, quarantined, the daily cadence counts from the stop.
      gate = h.fakes.gate(appId, 1);
      await handle.signal(runNowSignal);
      await batchesStarted(appId, 6, 2);
      await handle.signal(quarantineSignal, { reason: 'Maintenance' });
      const stopping = await h.waitForStatus(appId, (x) => x.state === 'quarantined', 'quarantine recorded', {
        settle: false,
      });
      expect(stopping.cycle?.number).toBe(6);
      // The reason reads with the state, so a release sent now is not refused as "not quarantined".
      expect(stopping.quarantine).toMatchObject({ reason: 'Manual', message: 'Maintenance' });
      await stopDelivered(appId, 6);
      gate.release();
      s = await h.waitForStatus(
        appId,
        (x) => x.lastCycle?.number === 6 && x.cycle === null && x.nextCycleAt !== null,
        'quarantined after the stop',
      );
      expect(s.lastCycle?.status).toBe('stopped');
      expect(s.quarantine).toMatchObject({ reason: 'Manual', message: 'Maintenance' });
      expect(gapToNext(s)).toBe(DAY);
      expect(batchesOf(appId, 6)).toHaveLength(2);
    });
  });
});
