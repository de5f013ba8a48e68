import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityOutcome } from '../fixtures/temporal-workflows/index.ts';
import { proceedSignal } from '../fixtures/temporal-workflows/index.ts';
import { ApplicationFailure } from '@temporalio/common';
import { eventTypes, startWorld, type TestWorld } from './worker.ts';
import { itNeedsVirtualTime, temporalBackends } from '../support/temporal-backends.ts';

describe.each(temporalBackends)('on the $name Temporal server', (backend) => {
  let world: TestWorld;

  beforeAll(async () => {
    world = await startWorld({ timeSkipping: true, backend });
  });
  afterAll(() => world?.stop());
  const itWithVirtualTime = itNeedsVirtualTime(backend);

  function runActivity(name: string, args: unknown[], options: Record<string, unknown>): Promise<ActivityOutcome> {
    return world.env.client.workflow.execute('runActivity', {
      taskQueue: world.taskQueue,
      workflowId: world.id(name),
      args: [name, args, options],
    });
  }

  const historyOf = (workflowId: string): Promise<string[]> => eventTypes(world.env, workflowId);

  describe('activities', () => {
    itWithVirtualTime('retries on the server with exponential backoff and keeps retries out of history', async () => {
      const workflowId = world.id('retry');
      const startClock = world.env.now().getTime();
      const outcome: ActivityOutcome = await world.env.client.workflow.execute('runActivity', {
        taskQueue: world.taskQueue,
        workflowId,
        args: [
          'flaky',
          [{ failures: 3 }],
          {
            startToCloseTimeout: '10s',
            retry: { initialInterval: '10s', backoffCoefficient: 3, maximumInterval: '60s' },
          },
        ],
      });
      expect(outcome.result).toBe(4);
      // Backoffs 10 s, 30 s, 60 s (capped) were skipped on the virtual clock.
      expect(world.env.now().getTime() - startClock).toBeGreaterThanOrEqual(100_000);
      const events = await historyOf(workflowId);
      expect(events.filter((e) => e === 'ACTIVITY_TASK_STARTED')).toHaveLength(1);
    });

    it('stops at maximumAttempts', async () => {
      const outcome = await runActivity('flaky', [{ failures: 10 }], {
        startToCloseTimeout: '10s',
        retry: { initialInterval: '1s', maximumAttempts: 2 },
      });
      expect(outcome.failure).toMatchObject({
        causeMessage: 'attempt 2 failed',
        retryState: 'MAXIMUM_ATTEMPTS_REACHED',
      });
    });

    it('does not retry a nonRetryable failure or a non-retryable error type', async () => {
      const nonRetryable = await runActivity('flaky', [{ failures: 5, nonRetryable: true }], {
        startToCloseTimeout: '10s',
      });
      expect(nonRetryable.failure).toMatchObject({
        causeMessage: 'attempt 1 failed',
        retryState: 'NON_RETRYABLE_FAILURE',
      });
      const byType = await runActivity('flaky', [{ failures: 5, type: 'Fatal' }], {
        startToCloseTimeout: '10s',
        retry: { nonRetryableErrorTypes: ['Fatal'] },
      });
      expect(byType.failure).toMatchObject({ causeMessage: 'attempt 1 failed', retryState: 'NON_RETRYABLE_FAILURE' });
    });

    itWithVirtualTime('honours nextRetryDelay from the failure', async () => {
      const start = world.env.now().getTime();
      const outcome = await runActivity('flaky', [{ failures: 1, nextRetryDelayMs: 3_600_000 }], {
        startToCloseTimeout: '10s',
        retry: { initialInterval: '1s' },
      });
      expect(outcome.result).toBe(2);
      expect(world.env.now().getTime() - start).toBeGreaterThanOrEqual(3_600_000);
    });

    it('times out start-to-close and reports the timeout type', async () => {
      const outcome = await runActivity('sleepy', [5_000], {
        startToCloseTimeout: '300ms',
        retry: { maximumAttempts: 1 },
      });
      expect(outcome.failure).toMatchObject({ causeType: 'TimeoutFailure', timeoutType: 'START_TO_CLOSE' });
    });

    it('times out schedule-to-start when no worker takes the task', async () => {
      const outcome = await runActivity('echo', ['x'], {
        taskQueue: `nobody-${world.id()}`,
        scheduleToStartTimeout: '300ms',
        startToCloseTimeout: '10s',
      });
      expect(outcome.failure).toMatchObject({ causeType: 'TimeoutFailure', timeoutType: 'SCHEDULE_TO_START' });
    });

    itWithVirtualTime('times out schedule-to-close across retries', async () => {
      const outcome = await runActivity('flaky', [{ failures: 100 }], {
        scheduleToCloseTimeout: '1 minute',
        startToCloseTimeout: '10s',
        retry: { initialInterval: '20s', backoffCoefficient: 1 },
      });
      expect(outcome.failure?.retryState).toBe('TIMEOUT');
    });

    it('times out a silent heartbeat and returns the last heartbeat details', async () => {
      const outcome = await runActivity('heartbeatOnceThenHang', ['progress-42'], {
        startToCloseTimeout: '1 minute',
        heartbeatTimeout: '500ms',
        retry: { maximumAttempts: 1 },
      });
      expect(outcome.failure).toMatchObject({
        causeType: 'TimeoutFailure',
        timeoutType: 'HEARTBEAT',
        lastHeartbeatDetails: 'progress-42',
      });
    });

    it('delivers cancellation to a running activity through its heartbeat', async () => {
      const handle = await world.env.client.workflow.start('cancelActivityWorkflow', {
        taskQueue: world.taskQueue,
        workflowId: world.id('cancel-activity'),
      });
      await expect
        .poll(async () => (await handle.describe()).raw.pendingActivities?.[0]?.state, { timeout: 10_000 })
        .toBeTruthy();
      await handle.signal(proceedSignal, 'cancel');
      expect(await handle.result()).toBe('cancelled');
      const events = await historyOf(handle.workflowId);
      expect(events.some((e) => e === 'ACTIVITY_TASK_CANCEL_REQUESTED')).toBe(true);
      expect(events.some((e) => e === 'ACTIVITY_TASK_CANCELED')).toBe(true);
    });

    it('accepts completion from outside by task token and by activity id', async () => {
      const { fixtures, env } = world;
      const byToken = env.client.workflow.execute('runActivity', {
        taskQueue: world.taskQueue,
        workflowId: world.id('async-token'),
        args: ['completeAsync', [], { startToCloseTimeout: '1 minute' }],
      });
      await expect.poll(() => fixtures.asyncTokens.length, { timeout: 10_000 }).toBe(1);
      await env.client.activity.complete(fixtures.asyncTokens[0], 'done by token');
      expect(await byToken).toEqual({ result: 'done by token' });

      const byId = env.client.workflow.execute('runActivity', {
        taskQueue: world.taskQueue,
        workflowId: world.id('async-id'),
        args: ['completeAsync', [], { startToCloseTimeout: '1 minute' }],
      });
      await expect.poll(() => fixtures.activityIds.length, { timeout: 10_000 }).toBe(2);
      await env.client.activity.fail(
        fixtures.activityIds[1],
        ApplicationFailure.create({ message: 'failed by id', nonRetryable: true }),
      );
      const failed = await byId;
      expect(failed.failure?.causeMessage).toBe('failed by id');
    });
  });
});
