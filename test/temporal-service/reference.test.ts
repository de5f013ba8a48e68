// What the real server writes into histories, checked on both backends: each fact here was a
// difference between the in-repo service and `temporal server start-dev` (dev/temporal-service/README.md,
// "Checked against the real server"), settled by making the in-repo service write what the real one does.
import proto from '@temporalio/proto';
import type { temporal as Temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proceedSignal, stateQuery } from '../fixtures/temporal-workflows/index.ts';
import { temporalBackends } from '../support/temporal-backends.ts';
import { startWorld, type TestWorld } from './worker.ts';

const { EventType, ParentClosePolicy, WorkflowIdReusePolicy } = proto.temporal.api.enums.v1;
type HistoryEvent = Temporal.api.history.v1.IHistoryEvent;

const seconds = (d: { seconds?: unknown; nanos?: number | null } | null | undefined): number | null =>
  d ? Number(d.seconds ?? 0) + (d.nanos ?? 0) / 1e9 : null;

describe.each(temporalBackends)('histories on the $name Temporal server', (backend) => {
  let world: TestWorld;
  beforeAll(async () => {
    world = await startWorld({ backend, timeSkipping: true });
  });
  afterAll(() => world?.stop());

  const events = async (workflowId: string): Promise<HistoryEvent[]> =>
    (await world.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const first = (list: HistoryEvent[], type: Temporal.api.enums.v1.EventType): HistoryEvent => {
    const found = list.find((e) => e.eventType === type);
    if (!found) throw new Error(`no ${EventType[type]} in the history`);
    return found;
  };

  it('a top-level run names no root execution; a child names the top-level run as its root', async () => {
    const workflowId = world.id('parent');
    await world.env.client.workflow.execute('concurrentChildren', {
      taskQueue: world.taskQueue,
      workflowId,
      args: [1],
    });
    const parentStarted = first(
      await events(workflowId),
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
    ).workflowExecutionStartedEventAttributes!;
    expect(parentStarted.rootWorkflowExecution ?? null).toBeNull();
    expect(seconds(parentStarted.workflowRunTimeout)).toBeNull();
    expect(seconds(parentStarted.firstWorkflowTaskBackoff)).toBe(0);

    const childStarted = first(
      await events(`${workflowId}-c0`),
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
    ).workflowExecutionStartedEventAttributes!;
    expect(childStarted.rootWorkflowExecution?.workflowId).toBe(workflowId);
    expect(childStarted.parentWorkflowExecution?.workflowId).toBe(workflowId);
    expect(childStarted.identity ?? '').toBe('');
    expect(seconds(childStarted.workflowRunTimeout)).toBe(0);
    expect(seconds(childStarted.firstWorkflowTaskBackoff)).toBe(0);
  });

  it('a started child records the defaults the server applied: terminate on parent close, duplicates allowed, a 10 s task timeout', async () => {
    const workflowId = world.id('parent');
    await world.env.client.workflow.execute('concurrentChildren', {
      taskQueue: world.taskQueue,
      workflowId,
      args: [1],
    });
    const initiated = first(
      await events(workflowId),
      EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    ).startChildWorkflowExecutionInitiatedEventAttributes!;
    expect(initiated.parentClosePolicy).toBe(ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE);
    expect(initiated.workflowIdReusePolicy).toBe(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE);
    expect(seconds(initiated.workflowTaskTimeout)).toBe(10);
    expect(seconds(initiated.workflowRunTimeout)).toBe(0);
  });

  it('a signal sent by a workflow names the sending run, and the sender records the target as it addressed it', async () => {
    const receiver = await world.env.client.workflow.start('signalReceiverWorkflow', {
      taskQueue: world.taskQueue,
      workflowId: world.id('receiver'),
    });
    await expect.poll(() => receiver.query(stateQuery), { timeout: 10_000 }).toBe('none');
    const senderId = world.id('sender');
    const sender = await world.env.client.workflow.start('signalExternalWorkflow', {
      taskQueue: world.taskQueue,
      workflowId: senderId,
      args: [receiver.workflowId],
    });
    await sender.result();
    expect(await receiver.result()).toBe('from-external');

    const signaled = first(
      await events(receiver.workflowId),
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    ).workflowExecutionSignaledEventAttributes!;
    expect(signaled.signalName).toBe(proceedSignal.name);
    expect(signaled.externalWorkflowExecution).toMatchObject({
      workflowId: senderId,
      runId: sender.firstExecutionRunId,
    });
    const delivered = first(
      await events(senderId),
      EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
    ).externalWorkflowExecutionSignaledEventAttributes!;
    expect(delivered.workflowExecution?.workflowId).toBe(receiver.workflowId);
    expect(delivered.workflowExecution?.runId ?? '').toBe('');
  });

  it('a scheduled activity records every timeout, zero where none was given', async () => {
    const workflowId = world.id('activity');
    await world.env.client.workflow.execute('runActivity', {
      taskQueue: world.taskQueue,
      workflowId,
      args: ['echo', ['x'], { startToCloseTimeout: '10s' }],
    });
    const scheduled = first(
      await events(workflowId),
      EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    ).activityTaskScheduledEventAttributes!;
    expect(seconds(scheduled.startToCloseTimeout)).toBe(10);
    expect(seconds(scheduled.scheduleToCloseTimeout)).toBe(0);
    expect(seconds(scheduled.scheduleToStartTimeout)).toBe(0);
    expect(seconds(scheduled.heartbeatTimeout)).toBe(0);
  });

  it('continue-as-new records the run and task timeouts the new run gets', async () => {
    const handle = await world.env.client.workflow.start('signalCounterWorkflow', {
      taskQueue: world.taskQueue,
      workflowId: world.id('counter'),
      args: [0, 2],
    });
    await handle.signal(proceedSignal, 'one');
    await expect
      .poll(async () => (await handle.describe()).runId, { timeout: 10_000 })
      .not.toBe(handle.firstExecutionRunId);
    await world.env.client.workflow.getHandle(handle.workflowId).signal(proceedSignal, 'two');
    expect(await handle.result()).toBe(2);
    const history = await world.env.client.workflow
      .getHandle(handle.workflowId, handle.firstExecutionRunId)
      .fetchHistory();
    const continued = first(
      history.events ?? [],
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    ).workflowExecutionContinuedAsNewEventAttributes!;
    expect(seconds(continued.workflowRunTimeout)).toBe(0);
    expect(seconds(continued.workflowTaskTimeout)).toBe(10);
  });
});
