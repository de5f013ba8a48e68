import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TimeoutFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proceedSignal } from '../fixtures/temporal-workflows/index.ts';
import { eventTypes, startWorld, type TestWorld } from './worker.ts';
import { itNeedsVirtualTime, temporalBackends } from '../support/temporal-backends.ts';

describe.each(temporalBackends)('on the $name Temporal server', (backend) => {
  let world: TestWorld;

  beforeAll(async () => {
    world = await startWorld({ timeSkipping: true, backend });
  });
  afterAll(() => world?.stop());
  const itWithVirtualTime = itNeedsVirtualTime(backend);

  const start = (workflowType: string, args: unknown[] = [], options: Record<string, unknown> = {}) =>
    world.env.client.workflow.start(workflowType, {
      taskQueue: world.taskQueue,
      workflowId: world.id(workflowType),
      args,
      ...options,
    });

  async function failureOf(promise: Promise<unknown>): Promise<WorkflowFailedError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    return error as WorkflowFailedError;
  }

  describe('workflow commands', () => {
    it('cancels a timer', async () => {
      const handle = await start('cancelTimerWorkflow');
      expect(await handle.result()).toBe('timer cancelled');
      expect(await eventTypes(world.env, handle.workflowId)).toContain('TIMER_CANCELED');
    });

    it('fails a workflow with the application failure', async () => {
      const handle = await start('failingWorkflow', ['broken']);
      const error = await failureOf(handle.result());
      expect(error.cause).toBeInstanceOf(ApplicationFailure);
      expect(error.cause).toMatchObject({ message: 'broken', type: 'FixtureError' });
    });

    it('cancels a workflow on request', async () => {
      const handle = await start('waitForeverWorkflow');
      await handle.cancel();
      const error = await failureOf(handle.result());
      expect(error.cause).toBeInstanceOf(CancelledFailure);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
    });

    it('loses no signal that arrives while a run hands over to the next (continue-as-new)', async () => {
      const expected = 40;
      const handle = await start('signalCounterWorkflow', [0, expected]);
      // Sent in bursts so that many arrive while a run is closing.
      for (let burst = 0; burst < expected / 8; burst++) {
        await Promise.all(Array.from({ length: 8 }, (_, i) => handle.signal(proceedSignal, `s${burst}-${i}`)));
      }
      expect(await handle.result()).toBe(expected);
    });

    it('signals another workflow', async () => {
      const receiver = await start('signalReceiverWorkflow');
      const sender = await start('signalExternalWorkflow', [receiver.workflowId]);
      expect(await sender.result()).toBe('signalled');
      expect(await receiver.result()).toBe('from-external');
    });

    it('reports a signal to a missing workflow as a failure in the sender', async () => {
      const sender = await start('signalExternalWorkflow', [`missing-${world.id()}`]);
      const error = await failureOf(sender.result());
      expect(String(error.cause?.message)).toMatch(/not found/i);
    });

    it('requests cancellation of another workflow', async () => {
      const target = await start('waitForeverWorkflow');
      const canceller = await start('cancelExternalWorkflow', [target.workflowId]);
      expect(await canceller.result()).toBe('cancel requested');
      const error = await failureOf(target.result());
      expect(error.cause).toBeInstanceOf(CancelledFailure);
    });

    it('records markers for local activities and patches', async () => {
      const handle = await start('markersWorkflow');
      expect(await handle.result()).toBe('local+patched');
      const markers = (await eventTypes(world.env, handle.workflowId)).filter((e) => e === 'MARKER_RECORDED');
      expect(markers.length).toBeGreaterThanOrEqual(2);
    });

    it('upserts search attributes and modifies the memo', async () => {
      const handle = await start('upsertWorkflow', [], { memo: { owner: 'ferry' } });
      await expect
        .poll(async () => (await handle.describe()).searchAttributes.FerryTag, { timeout: 10_000 })
        .toEqual(['upserted']);
      const description = await handle.describe();
      expect(await description.memo).toEqual({ owner: 'ferry', note: 'modified' });
      await handle.signal(proceedSignal, 'done');
      expect(await handle.result()).toBe('done');
    });

    it('retries a failed workflow task and the workflow then completes', async () => {
      const handle = await start('failsFirstTaskWorkflow');
      expect(await handle.result()).toBe('recovered');
      const events = await eventTypes(world.env, handle.workflowId);
      expect(events).toContain('WORKFLOW_TASK_FAILED');
    });

    itWithVirtualTime('retries a failed workflow as a new run under its retry policy', async () => {
      const handle = await start('failsUntilAttemptWorkflow', [3], {
        retry: { initialInterval: '1 minute', maximumAttempts: 5 },
      });
      expect(await handle.result()).toBe(3);
      const runs = [];
      for await (const info of world.env.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
        runs.push(info.status.name);
      }
      expect(runs.sort()).toEqual(['COMPLETED', 'FAILED', 'FAILED']);
    });

    itWithVirtualTime('times out a run after its run timeout', async () => {
      const handle = await start('sleeper', [24 * 3600_000], { workflowRunTimeout: '1 hour' });
      const error = await failureOf(handle.result());
      expect(error.cause).toBeInstanceOf(TimeoutFailure);
      expect((await handle.describe()).status.name).toBe('TIMED_OUT');
    });

    itWithVirtualTime('times out an execution after its execution timeout', async () => {
      const handle = await start('sleeper', [24 * 3600_000], { workflowExecutionTimeout: '2 hours' });
      const error = await failureOf(handle.result());
      expect(error.cause).toBeInstanceOf(TimeoutFailure);
    });
  });

  describe('child workflows', () => {
    it('completes a child and returns its result', async () => {
      const handle = await start('concurrentChildren', [3]);
      expect(await handle.result()).toBe(3);
    });

    it('reports a failed child to the parent', async () => {
      expect(await (await start('childOutcomeWorkflow', ['fail'])).result()).toBe('ApplicationFailure: child failed');
    });

    it('cancels a child from the parent', async () => {
      const result = await (await start('childOutcomeWorkflow', ['cancel'])).result();
      expect(result).toMatch(/^CancelledFailure/);
    });

    it('reports a terminated child to the parent', async () => {
      const parent = await start('childOutcomeWorkflow', ['terminate']);
      const child = world.env.client.workflow.getHandle(`${parent.workflowId}-child`);
      await expect.poll(async () => (await child.describe().catch(() => undefined))?.status.name).toBe('RUNNING');
      await child.terminate('from the test');
      expect(await parent.result()).toMatch(/^TerminatedFailure/);
    });

    it('applies parent-close policies: terminate, request cancel, abandon', async () => {
      const statuses: Record<string, string> = {};
      for (const policy of ['TERMINATE', 'REQUEST_CANCEL', 'ABANDON']) {
        const parent = await start('parentClosePolicyWorkflow', [policy]);
        const childId = await parent.result();
        const child = world.env.client.workflow.getHandle(childId);
        await expect
          .poll(async () => (await child.describe()).status.name)
          .toBe(policy === 'TERMINATE' ? 'TERMINATED' : policy === 'REQUEST_CANCEL' ? 'CANCELLED' : 'RUNNING');
        statuses[policy] = (await child.describe()).status.name;
        if (policy === 'ABANDON') await child.terminate();
      }
      expect(statuses).toEqual({ TERMINATE: 'TERMINATED', REQUEST_CANCEL: 'CANCELLED', ABANDON: 'RUNNING' });
    });
  });
});
