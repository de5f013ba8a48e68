// Workflow Updates end to end: the real SDK Client (executeUpdate / startUpdate / getUpdateHandle)
// and Worker (handlers, validators) on the in-repo service and on the real server, plus the update
// protocol driven with raw RPCs where the SDK hides it (a task that only rejects, continue-as-new).
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Msg } from '../../dev/temporal-service/proto.ts';
import { decodeAny, encodeAny } from '../../dev/temporal-service/updates.ts';
import { addUpdate, nextRunSignal, releaseSignal, totalQuery } from '../fixtures/temporal-workflows/index.ts';
import { until } from '../support/net.ts';
import { temporalBackends } from '../support/temporal-backends.ts';
import { rawClient, type RawClient } from './raw-client.ts';
import { eventTypes, startWorld, type TestWorld } from './worker.ts';

const namespace = 'default';
const json = (value: unknown): Msg => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(value)),
});

describe.each(temporalBackends)('workflow updates on the $name Temporal server', (backend) => {
  let world: TestWorld;
  let raw: RawClient;

  beforeAll(async () => {
    world = await startWorld({ timeSkipping: false, backend });
    raw = rawClient(world.env.address);
  });
  afterAll(async () => {
    raw?.close();
    await world?.stop();
  });

  const startUpdatable = (start = 0) =>
    world.env.client.workflow.start('updatableWorkflow', {
      taskQueue: world.taskQueue,
      workflowId: world.id('updatable'),
      args: [start],
    });

  describe('with the SDK', () => {
    it('executeUpdate runs the handler and answers with its result; history has Accepted and Completed', async () => {
      const handle = await startUpdatable(10);
      expect(await handle.executeUpdate(addUpdate, { args: [5] })).toBe(15);
      expect(await handle.query(totalQuery)).toBe(15);
      const events = await eventTypes(world.env, handle.workflowId);
      expect(events).toContain('WORKFLOW_EXECUTION_UPDATE_ACCEPTED');
      expect(events).toContain('WORKFLOW_EXECUTION_UPDATE_COMPLETED');
      const history = await handle.fetchHistory();
      const accepted = history.events?.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      expect(accepted?.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name).toBe('add');
      await handle.terminate();
    });

    it('a validator rejection fails the call and leaves no event in the history', async () => {
      const handle = await startUpdatable();
      expect(await handle.executeUpdate(addUpdate, { args: [1] })).toBe(1);
      const before = await eventTypes(world.env, handle.workflowId);
      const error = await handle.executeUpdate(addUpdate, { args: [-5] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((error as WorkflowUpdateFailedError).cause?.message).toContain('cannot add -5: negative');
      expect(await eventTypes(world.env, handle.workflowId)).toEqual(before);
      // The worker rolled back to the last real task: the workflow goes on.
      expect(await handle.executeUpdate(addUpdate, { args: [2] })).toBe(3);
      await handle.terminate();
    });

    it('an update id is handled once: a repeated call answers with the first result', async () => {
      const handle = await startUpdatable();
      const updateId = `same-${randomUUID()}`;
      expect(await handle.executeUpdate(addUpdate, { args: [7], updateId })).toBe(7);
      expect(await handle.executeUpdate(addUpdate, { args: [7], updateId })).toBe(7);
      expect(await handle.query(totalQuery)).toBe(7);
      const events = await eventTypes(world.env, handle.workflowId);
      expect(events.filter((e) => e === 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED')).toHaveLength(1);
      await handle.terminate();
    });

    it('startUpdate answers at ACCEPTED; the result comes later through the handle (PollWorkflowExecutionUpdate)', async () => {
      const handle = await startUpdatable(1);
      const updateId = `held-${randomUUID()}`;
      const update = await handle.startUpdate(addUpdate, {
        args: [1000],
        updateId,
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      const events = await eventTypes(world.env, handle.workflowId);
      expect(events).toContain('WORKFLOW_EXECUTION_UPDATE_ACCEPTED');
      expect(events).not.toContain('WORKFLOW_EXECUTION_UPDATE_COMPLETED');
      await handle.signal(releaseSignal);
      expect(await update.result()).toBe(1001);
      expect(await handle.getUpdateHandle<number>(updateId).result()).toBe(1001);
      await handle.terminate();
    });

    it('continue-as-new waits for an accepted update to finish; the next run carries on and takes new updates', async () => {
      const handle = await startUpdatable(3);
      const update = await handle.startUpdate(addUpdate, {
        args: [1000],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      await handle.signal(nextRunSignal);
      await handle.signal(releaseSignal);
      expect(await update.result()).toBe(1003);
      await until(
        async () => (await handle.describe()).runId !== handle.firstExecutionRunId,
        'the next run (continue-as-new)',
      );
      expect(await handle.executeUpdate(addUpdate, { args: [1] })).toBe(1004);
      await world.env.client.workflow.getHandle(handle.workflowId).terminate();
    });

    it('an update to a closed workflow or an unknown update id is NOT_FOUND', async () => {
      const handle = await startUpdatable();
      await handle.terminate();
      await expect(handle.executeUpdate(addUpdate, { args: [1] })).rejects.toBeInstanceOf(WorkflowNotFoundError);
      const open = await startUpdatable();
      await expect(open.getUpdateHandle('never-sent').result()).rejects.toBeInstanceOf(WorkflowNotFoundError);
      await open.terminate();
    });
  });

  describe('the protocol, with raw RPCs', () => {
    const startRaw = async (taskQueue: string): Promise<{ workflowId: string; runId: string }> => {
      const workflowId = `raw-update-${randomUUID()}`;
      const { runId } = await raw.call('StartWorkflowExecution', {
        namespace,
        workflowId,
        workflowType: { name: 'rawWorkflow' },
        taskQueue: { name: taskQueue },
        requestId: randomUUID(),
      });
      return { workflowId, runId };
    };
    const poll = (taskQueue: string, kind = 'TASK_QUEUE_KIND_NORMAL'): Promise<Msg> =>
      raw.call(
        'PollWorkflowTaskQueue',
        { namespace, taskQueue: { name: taskQueue, kind }, identity: 'raw-test' },
        { deadlineMs: 70_000 },
      );
    const update = (
      workflowId: string,
      updateId: string,
      stage = 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED',
    ) =>
      raw.call(
        'UpdateWorkflowExecution',
        {
          namespace,
          workflowExecution: { workflowId },
          waitPolicy: { lifecycleStage: stage },
          request: { meta: { updateId, identity: 'raw-test' }, input: { name: 'add', args: { payloads: [json(1)] } } },
        },
        { deadlineMs: 60_000 },
      );
    const historyTypes = async (workflowId: string, runId?: string): Promise<string[]> => {
      const { history } = await raw.call('GetWorkflowExecutionHistory', {
        namespace,
        execution: { workflowId, runId },
      });
      return (history?.events ?? []).map((e: Msg) => String(e.eventType).replace('EVENT_TYPE_', ''));
    };
    const requestOf = (task: Msg): { message: Msg; request: Msg } => {
      const message = (task.messages ?? [])[0];
      const [type, request] = decodeAny(message?.body);
      expect(type).toBe('temporal.api.update.v1.Request');
      return { message, request };
    };

    it('an update rides a task as a `<id>/request` message; a task that only rejects writes nothing', async () => {
      const taskQueue = `raw-${randomUUID()}`;
      const { workflowId } = await startRaw(taskQueue);
      const first = await poll(taskQueue);
      await raw.call('RespondWorkflowTaskCompleted', { namespace, taskToken: first.taskToken, identity: 'raw-test' });
      const before = await historyTypes(workflowId);

      const pending = update(workflowId, 'u-rejected');
      const task = await poll(taskQueue);
      const { message, request } = requestOf(task);
      expect(message).toMatchObject({ id: 'u-rejected/request', protocolInstanceId: 'u-rejected' });
      expect(Number(message.eventId)).toBe(Number(task.startedEventId) - 1);
      expect(request).toMatchObject({ meta: { updateId: 'u-rejected' }, input: { name: 'add' } });
      // The speculative task's events go to the worker, not (yet) into the history.
      const taskEvents = (task.history?.events ?? []).map((e: Msg) => String(e.eventType));
      expect(taskEvents.slice(-2)).toEqual(['EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', 'EVENT_TYPE_WORKFLOW_TASK_STARTED']);
      expect(await historyTypes(workflowId)).toEqual(before);

      const rejection = {
        rejectedRequestMessageId: message.id,
        rejectedRequestSequencingEventId: message.eventId,
        rejectedRequest: request,
        failure: { message: 'no thanks', applicationFailureInfo: { type: 'Rejected' } },
      };
      const answer = await raw.call('RespondWorkflowTaskCompleted', {
        namespace,
        taskToken: task.taskToken,
        identity: 'raw-test',
        messages: [
          {
            id: 'u-rejected/reject',
            protocolInstanceId: 'u-rejected',
            body: encodeAny('temporal.api.update.v1.Rejection', rejection),
          },
        ],
      });
      // The worker is told to roll back to the last task it completed.
      expect(Number(answer.resetHistoryEventId)).toBe(Number(first.startedEventId));
      const outcome = await pending;
      expect(outcome.stage).toBe('UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED');
      expect(outcome.outcome?.failure?.message).toBe('no thanks');
      expect(await historyTypes(workflowId)).toEqual(before);
      await expect(
        raw.call(
          'PollWorkflowExecutionUpdate',
          {
            namespace,
            updateRef: { workflowExecution: { workflowId }, updateId: 'u-rejected' },
            waitPolicy: { lifecycleStage: 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED' },
          },
          { deadlineMs: 30_000 },
        ),
      ).rejects.toMatchObject({ code: status.NOT_FOUND });
    });

    it('an update that arrives while the task that continues-as-new is in flight goes to the new run', async () => {
      const taskQueue = `raw-${randomUUID()}`;
      const { workflowId, runId } = await startRaw(taskQueue);
      const first = await poll(taskQueue);
      // The real server may answer "workflow is closing" (RESOURCE_EXHAUSTED) when its own retries
      // run out before the new run exists; the SDK client retries that, and so does this caller.
      const retrying = async (): Promise<Msg> => {
        for (;;) {
          try {
            return await update(workflowId, 'u-moved');
          } catch (error) {
            if ((error as Msg).code !== status.RESOURCE_EXHAUSTED && (error as Msg).code !== status.UNAVAILABLE)
              throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      };
      const pending = retrying();
      // Let the update be admitted on the first run while its task is still in flight.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await raw.call('RespondWorkflowTaskCompleted', {
        namespace,
        taskToken: first.taskToken,
        identity: 'raw-test',
        commands: [
          {
            commandType: 'COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION',
            continueAsNewWorkflowExecutionCommandAttributes: {
              workflowType: { name: 'rawWorkflow' },
              taskQueue: { name: taskQueue },
            },
          },
        ],
      });
      const next = await poll(taskQueue);
      const newRunId = String(next.workflowExecution?.runId);
      expect(newRunId).not.toBe(runId);
      const { message, request } = requestOf(next);
      expect(message.protocolInstanceId).toBe('u-moved');
      const acceptance = {
        acceptedRequestMessageId: message.id,
        acceptedRequestSequencingEventId: message.eventId,
        acceptedRequest: request,
      };
      const response = {
        meta: { updateId: 'u-moved', identity: 'raw-test' },
        outcome: { success: { payloads: [json(42)] } },
      };
      await raw.call('RespondWorkflowTaskCompleted', {
        namespace,
        taskToken: next.taskToken,
        identity: 'raw-test',
        messages: [
          {
            id: 'u-moved/accept',
            protocolInstanceId: 'u-moved',
            body: encodeAny('temporal.api.update.v1.Acceptance', acceptance),
          },
          {
            id: 'u-moved/complete',
            protocolInstanceId: 'u-moved',
            body: encodeAny('temporal.api.update.v1.Response', response),
          },
        ],
        commands: [
          {
            commandType: 'COMMAND_TYPE_PROTOCOL_MESSAGE',
            protocolMessageCommandAttributes: { messageId: 'u-moved/accept' },
          },
          {
            commandType: 'COMMAND_TYPE_PROTOCOL_MESSAGE',
            protocolMessageCommandAttributes: { messageId: 'u-moved/complete' },
          },
        ],
      });
      const answer = await pending;
      expect(answer.updateRef?.workflowExecution?.runId).toBe(newRunId);
      expect(Buffer.from(answer.outcome?.success?.payloads?.[0]?.data ?? []).toString()).toBe('42');
      const events = await historyTypes(workflowId, newRunId);
      expect(events.slice(-2)).toEqual(['WORKFLOW_EXECUTION_UPDATE_ACCEPTED', 'WORKFLOW_EXECUTION_UPDATE_COMPLETED']);
      expect(await historyTypes(workflowId, runId)).not.toContain('WORKFLOW_EXECUTION_UPDATE_ACCEPTED');
      await raw.call('TerminateWorkflowExecution', { namespace, workflowExecution: { workflowId } });
    });
  });
});
