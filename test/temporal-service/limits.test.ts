// History and payload limits as the real server enforces them, on both backends with lowered limits
// (the real server through dynamic config): a run past its event count or byte size is terminated
// by the next change and the caller gets INVALID_ARGUMENT with the server's reason; a payload over
// the blob limit is refused (client call) or fails the task and terminates the run (command).
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  BLOB_SIZE_EXCEEDS_LIMIT,
  DEFAULT_LIMITS,
  HISTORY_COUNT_EXCEEDS_LIMIT,
  HISTORY_SIZE_EXCEEDS_LIMIT,
} from '../../dev/temporal-service/limits.ts';
import type { Msg } from '../../dev/temporal-service/proto.ts';
import { temporalBackends } from '../support/temporal-backends.ts';
import type { TemporalBackend } from '../support/temporal.ts';
import { rawClient, type RawClient } from './raw-client.ts';
import { eventTypes, startWorld, type TestWorld } from './worker.ts';

const namespace = 'default';
const json = (value: unknown): Msg => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(value)),
});

it('defaults to the real server limits: continue-as-new suggested from 4,096 events, warn at 10,240 events / 10 MB, end at 51,200 / 50 MB, 2 MB per payload', () => {
  expect(DEFAULT_LIMITS).toEqual({
    historyCountSuggestContinueAsNew: 4096,
    historyCountWarn: 10_240,
    historyCountError: 51_200,
    historySizeWarn: 10 * 1024 * 1024,
    historySizeError: 50 * 1024 * 1024,
    blobSizeWarn: 512 * 1024,
    blobSizeError: 2 * 1024 * 1024,
  });
});

/** Signals a workflow until a signal is refused; returns that error and how many went through. */
async function signalUntilRefused(raw: RawClient, workflowId: string, input: Msg[] = []): Promise<[Msg, number]> {
  for (let sent = 0; sent < 500; sent++) {
    try {
      await raw.call('SignalWorkflowExecution', {
        namespace,
        workflowExecution: { workflowId },
        signalName: 'poke',
        input: { payloads: input },
        identity: 'limits-test',
        requestId: randomUUID(),
      });
    } catch (error) {
      return [error as Msg, sent];
    }
  }
  throw new Error('no signal was refused');
}

/**
 * The change that meets the limit is refused with the reason; when the worker's task completion was
 * that change (it got the INVALID_ARGUMENT), the next signal finds the run closed: NOT_FOUND.
 */
function expectRefusal(error: Msg, reason: string): void {
  if (error.code === status.NOT_FOUND) return;
  expect(error.code).toBe(status.INVALID_ARGUMENT);
  expect(error.details).toBe(reason);
}

async function closeEvent(world: TestWorld, workflowId: string): Promise<Msg | undefined> {
  const history = await world.env.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events?.at(-1);
}

describe.each(temporalBackends)('limits on the $name Temporal server', (backend: TemporalBackend) => {
  describe('history event count (error limit 40, warning 20)', () => {
    let world: TestWorld;
    let raw: RawClient;
    beforeAll(async () => {
      world = await startWorld({
        timeSkipping: false,
        backend,
        limits: { historyCountWarn: 20, historyCountError: 40 },
      });
      raw = rawClient(world.env.address);
    });
    afterAll(async () => {
      raw?.close();
      await world?.stop();
    });

    it('terminates a run past the count with "Workflow history count exceeds limit." and refuses the change', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      try {
        const handle = await world.env.client.workflow.start('waitForeverWorkflow', {
          taskQueue: world.taskQueue,
          workflowId: world.id('count'),
        });
        const [error, sent] = await signalUntilRefused(raw, handle.workflowId);
        expectRefusal(error, HISTORY_COUNT_EXCEEDS_LIMIT);
        expect(sent).toBeGreaterThan(5);
        const last = await closeEvent(world, handle.workflowId);
        expect(last?.workflowExecutionTerminatedEventAttributes).toMatchObject({
          reason: HISTORY_COUNT_EXCEEDS_LIMIT,
          identity: 'history-service',
        });
        const events = await eventTypes(world.env, handle.workflowId);
        // Ended by a change after passing 40 (signals buffered during a task are written with it, so
        // how far past 40 depends on timing), never before.
        expect(events.length).toBeGreaterThan(40);
        expect(events.at(-1)).toBe('WORKFLOW_EXECUTION_TERMINATED');
        expect((await handle.describe()).status.name).toBe('TERMINATED');
        if (backend.name === 'in-repo') {
          // The real server logs this line; the in-repo service writes it to console.warn once per run.
          const lines = warn.mock.calls.map((call) => String(call[0]));
          expect(lines.filter((l) => l.includes('history count exceeds warn limit.'))).toHaveLength(1);
        }
      } finally {
        warn.mockRestore();
      }
    });
  });

  describe('history size (error limit 40 KB)', () => {
    let world: TestWorld;
    let raw: RawClient;
    beforeAll(async () => {
      world = await startWorld({
        timeSkipping: false,
        backend,
        limits: { historySizeWarn: 20_000, historySizeError: 40_000 },
      });
      raw = rawClient(world.env.address);
    });
    afterAll(async () => {
      raw?.close();
      await world?.stop();
    });

    it('terminates a run past the size with "Workflow history size exceeds limit."', async () => {
      const handle = await world.env.client.workflow.start('waitForeverWorkflow', {
        taskQueue: world.taskQueue,
        workflowId: world.id('size'),
      });
      const [error, sent] = await signalUntilRefused(raw, handle.workflowId, [json('s'.repeat(4000))]);
      expectRefusal(error, HISTORY_SIZE_EXCEEDS_LIMIT);
      // About 10 signals of 4 KB fill 40 KB: never refused before that.
      expect(sent).toBeGreaterThanOrEqual(9);
      const history = await world.env.client.workflow.getHandle(handle.workflowId).fetchHistory();
      const signaled = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length;
      // The signals' 4 KB inputs plus the other events pass 40 KB from the 10th signal on.
      expect(signaled * 4000).toBeGreaterThanOrEqual(40_000);
      const last = await closeEvent(world, handle.workflowId);
      expect(last?.workflowExecutionTerminatedEventAttributes?.reason).toBe(HISTORY_SIZE_EXCEEDS_LIMIT);
    });
  });

  describe('payloads (blob error limit 10 KB)', () => {
    let world: TestWorld;
    let raw: RawClient;
    beforeAll(async () => {
      world = await startWorld({ timeSkipping: false, backend, limits: { blobSizeWarn: 2048, blobSizeError: 10_240 } });
      raw = rawClient(world.env.address);
    });
    afterAll(async () => {
      raw?.close();
      await world?.stop();
    });

    it('refuses a start or a signal carrying a larger payload with "Blob data size exceeds limit."', async () => {
      const big = json('b'.repeat(11_000));
      const workflowId = world.id('blob');
      await expect(
        raw.call('StartWorkflowExecution', {
          namespace,
          workflowId,
          workflowType: { name: 'waitForeverWorkflow' },
          taskQueue: { name: world.taskQueue },
          input: { payloads: [big] },
          requestId: randomUUID(),
        }),
      ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: BLOB_SIZE_EXCEEDS_LIMIT });
      const handle = await world.env.client.workflow.start('waitForeverWorkflow', {
        taskQueue: world.taskQueue,
        workflowId,
      });
      await expect(
        raw.call('SignalWorkflowExecution', {
          namespace,
          workflowExecution: { workflowId },
          signalName: 'poke',
          input: { payloads: [big] },
          requestId: randomUUID(),
        }),
      ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: BLOB_SIZE_EXCEEDS_LIMIT });
      // A payload under the limit passes.
      await handle.signal('poke', 'small');
      await handle.terminate();
    });

    it('a command with a larger payload fails the task and terminates the run, naming the command', async () => {
      const handle = await world.env.client.workflow.start('bigActivityInputWorkflow', {
        taskQueue: world.taskQueue,
        workflowId: world.id('big-input'),
        args: [11_000],
      });
      await expect(handle.result()).rejects.toThrow();
      const last = await closeEvent(world, handle.workflowId);
      expect(last?.workflowExecutionTerminatedEventAttributes?.reason).toMatch(
        /^BadScheduleActivityAttributes: ScheduleActivityTaskCommandAttributes\.Input exceeds size limit\.?$/,
      );
      expect(await eventTypes(world.env, handle.workflowId)).toEqual([
        'WORKFLOW_EXECUTION_STARTED',
        'WORKFLOW_TASK_SCHEDULED',
        'WORKFLOW_TASK_STARTED',
        'WORKFLOW_TASK_FAILED',
        'WORKFLOW_EXECUTION_TERMINATED',
      ]);

      const result = await world.env.client.workflow.start('bigResultWorkflow', {
        taskQueue: world.taskQueue,
        workflowId: world.id('big-result'),
        args: [11_000],
      });
      await expect(result.result()).rejects.toThrow();
      const closed = await closeEvent(world, result.workflowId);
      expect(closed?.workflowExecutionTerminatedEventAttributes?.reason).toMatch(
        // Sic: the real server names the activity cause here too.
        /^BadScheduleActivityAttributes: CompleteWorkflowExecutionCommandAttributes\.Result exceeds size limit\.?$/,
      );
    });
  });
});
