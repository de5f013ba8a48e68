// Protocol-level behaviour of workflow tasks, driven with raw RPCs where the SDK worker would hide
// it (the real Worker runs the same paths in every other test file).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Msg } from '../../dev/temporal-service/proto.ts';
import { createTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.ts';
import { rawClient, type RawClient } from './raw-client.ts';

let env: TemporalTestEnv;
let raw: RawClient;

beforeAll(async () => {
  env = await createTemporalTestEnv({ timeSkipping: false });
  raw = rawClient(env.address);
});
afterAll(async () => {
  raw?.close();
  await env?.close();
});

const namespace = 'default';
const json = (value: unknown): Msg => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(value)),
});

async function startOn(taskQueue: string, extra: Msg = {}): Promise<{ workflowId: string; runId: string }> {
  const workflowId = `raw-${randomUUID()}`;
  const { runId } = await raw.call('StartWorkflowExecution', {
    namespace,
    workflowId,
    workflowType: { name: 'rawWorkflow' },
    taskQueue: { name: taskQueue },
    requestId: randomUUID(),
    ...extra,
  });
  return { workflowId, runId };
}

const poll = (taskQueue: string, kind = 'TASK_QUEUE_KIND_NORMAL'): Promise<Msg> =>
  raw.call('PollWorkflowTaskQueue', { namespace, taskQueue: { name: taskQueue, kind }, identity: 'raw-test' });

const signal = (workflowId: string, name = 'poke'): Promise<Msg> =>
  raw.call('SignalWorkflowExecution', {
    namespace,
    workflowExecution: { workflowId },
    signalName: name,
    identity: 'raw-test',
  });

const complete = (task: Msg, extra: Msg = {}): Promise<Msg> =>
  raw.call('RespondWorkflowTaskCompleted', {
    namespace,
    taskToken: task.taskToken,
    identity: 'raw-test',
    commands: [],
    ...extra,
  });

async function history(workflowId: string): Promise<string[]> {
  const response = await raw.call('GetWorkflowExecutionHistory', { namespace, execution: { workflowId } });
  return (response.history.events as Msg[]).map((e) => String(e.eventType).replace('EVENT_TYPE_', ''));
}

const ids = (task: Msg): number[] => (task.history.events as Msg[]).map((e) => Number(e.eventId));

describe('workflow tasks', () => {
  it('buffers events that arrive while a task is in flight and writes them after its completion', async () => {
    const queue = `q-${randomUUID()}`;
    const { workflowId } = await startOn(queue);
    const task = await poll(queue);
    expect(task.startedEventId).toBe(3);
    expect(task.previousStartedEventId ?? 0).toBe(0);
    await signal(workflowId);
    expect(await history(workflowId)).toHaveLength(3);
    await complete(task);
    expect(await history(workflowId)).toEqual([
      'WORKFLOW_EXECUTION_STARTED',
      'WORKFLOW_TASK_SCHEDULED',
      'WORKFLOW_TASK_STARTED',
      'WORKFLOW_TASK_COMPLETED',
      'WORKFLOW_EXECUTION_SIGNALED',
      'WORKFLOW_TASK_SCHEDULED',
    ]);
    // A signal while a task is scheduled (not started) is written directly, with no extra task.
    await signal(workflowId);
    expect((await history(workflowId)).slice(6)).toEqual(['WORKFLOW_EXECUTION_SIGNALED']);
    const next = await poll(queue);
    expect(next.previousStartedEventId).toBe(3);
    expect(next.startedEventId).toBe(8);
  });

  it('fails a completion that closes the workflow over unseen events with UNHANDLED_COMMAND', async () => {
    const queue = `q-${randomUUID()}`;
    const { workflowId } = await startOn(queue);
    const task = await poll(queue);
    await signal(workflowId);
    // Like the real server, the completion is refused with INVALID_ARGUMENT "UnhandledCommand", which
    // makes the SDK drop its cached run and replay with the signal instead of re-sending the close.
    await expect(
      complete(task, {
        commands: [
          {
            commandType: 'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION',
            completeWorkflowExecutionCommandAttributes: { result: { payloads: [json('done')] } },
          },
        ],
      }),
    ).rejects.toMatchObject({ code: 3 });
    const events = await history(workflowId);
    expect(events.slice(3)).toEqual(['WORKFLOW_TASK_FAILED', 'WORKFLOW_EXECUTION_SIGNALED', 'WORKFLOW_TASK_SCHEDULED']);
    const response = await raw.call('GetWorkflowExecutionHistory', { namespace, execution: { workflowId } });
    expect(response.history.events[3].workflowTaskFailedEventAttributes.cause).toBe(
      'WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND',
    );
    const retry = await poll(queue);
    await complete(retry, {
      commands: [
        { commandType: 'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION', completeWorkflowExecutionCommandAttributes: {} },
      ],
    });
    expect((await history(workflowId)).at(-1)).toBe('WORKFLOW_EXECUTION_COMPLETED');
  });

  it('times out a task nobody completes and hands out the next attempt', async () => {
    const queue = `q-${randomUUID()}`;
    const { workflowId } = await startOn(queue, { workflowTaskTimeout: { seconds: 1 } });
    const dropped = await poll(queue);
    expect(dropped.attempt).toBe(1);
    const retry = await poll(queue);
    expect(retry.attempt).toBe(2);
    expect(await history(workflowId)).toContain('WORKFLOW_TASK_TIMED_OUT');
    await expect(complete(dropped)).rejects.toMatchObject({ code: 5 });
  });

  it('retries a task the worker reports as failed', async () => {
    const queue = `q-${randomUUID()}`;
    const { workflowId } = await startOn(queue);
    const task = await poll(queue);
    await raw.call('RespondWorkflowTaskFailed', {
      namespace,
      taskToken: task.taskToken,
      cause: 'WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE',
      failure: { message: 'bug' },
      identity: 'raw-test',
    });
    const retry = await poll(queue);
    expect(retry.attempt).toBe(2);
    expect(await history(workflowId)).toContain('WORKFLOW_TASK_FAILED');
  });

  it('sends only new events to the sticky queue, and falls back to the normal queue with full history', async () => {
    const queue = `q-${randomUUID()}`;
    const sticky = `sticky-${randomUUID()}`;
    const { workflowId } = await startOn(queue);
    const stickyAttributes = (ms: number): Msg => ({
      workerTaskQueue: { name: sticky, kind: 'TASK_QUEUE_KIND_STICKY' },
      scheduleToStartTimeout: { nanos: ms * 1e6 },
    });
    await complete(await poll(queue), { stickyAttributes: stickyAttributes(900) });
    await signal(workflowId);
    const onSticky = await poll(sticky, 'TASK_QUEUE_KIND_STICKY');
    expect(onSticky.previousStartedEventId).toBe(3);
    expect(ids(onSticky)[0]).toBe(4);
    // Nobody polls the sticky queue this time: after its schedule-to-start timeout the task moves.
    await complete(onSticky, { stickyAttributes: stickyAttributes(200) });
    await signal(workflowId);
    const onNormal = await poll(queue);
    expect(ids(onNormal)[0]).toBe(1);
    expect(ids(onNormal).at(-1)).toBe(onNormal.startedEventId);
  });

  it("ShutdownWorker ends the worker's polls and moves its sticky tasks to the normal queue", async () => {
    const queue = `q-${randomUUID()}`;
    const sticky = `sticky-${randomUUID()}`;
    const { workflowId } = await startOn(queue);
    await complete(await poll(queue), {
      stickyAttributes: {
        workerTaskQueue: { name: sticky, kind: 'TASK_QUEUE_KIND_STICKY' },
        scheduleToStartTimeout: { seconds: 30 },
      },
    });
    const idle = raw.call('PollActivityTaskQueue', { namespace, taskQueue: { name: queue }, identity: 'leaving' });
    await signal(workflowId);
    await raw.call('ShutdownWorker', { namespace, stickyTaskQueue: sticky, identity: 'leaving' });
    expect((await idle).taskToken?.length ?? 0).toBe(0);
    const moved = await poll(queue);
    expect(ids(moved)[0]).toBe(1);
  });

  it('pages a long history in the task and serves the rest through GetWorkflowExecutionHistory', async () => {
    const queue = `q-${randomUUID()}`;
    const { workflowId } = await startOn(queue);
    for (let batch = 0; batch < 11; batch++) {
      await Promise.all(Array.from({ length: 100 }, () => signal(workflowId)));
    }
    const task = await poll(queue);
    expect(task.history.events).toHaveLength(1000);
    expect(task.nextPageToken?.length).toBeGreaterThan(0);
    const rest = await raw.call('GetWorkflowExecutionHistory', {
      namespace,
      execution: { workflowId },
      nextPageToken: task.nextPageToken,
    });
    expect(Number(rest.history.events.at(-1).eventId)).toBe(task.startedEventId);
  });
});

describe('queries over the protocol', () => {
  it('attaches a query to a scheduled task and answers it from the completion', async () => {
    const queue = `q-${randomUUID()}`;
    const { workflowId } = await startOn(queue);
    const answer = raw.call('QueryWorkflow', { namespace, execution: { workflowId }, query: { queryType: 'state' } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const task = await poll(queue);
    const [queryId] = Object.keys(task.queries ?? {});
    expect(task.queries[queryId].queryType).toBe('state');
    await complete(task, {
      queryResults: {
        [queryId]: { resultType: 'QUERY_RESULT_TYPE_ANSWERED', answer: { payloads: [json('attached')] } },
      },
    });
    const response = await answer;
    expect(JSON.parse(Buffer.from(response.queryResult.payloads[0].data).toString())).toBe('attached');
  });

  it('sends a query again, as a task of its own, when the completion of the task it rode on does not answer it', async () => {
    // As the real server: a query stays buffered until answered, so a worker that completes the task
    // without its result (a run evicted and replayed, say) does not leave the caller waiting.
    const queue = `q-${randomUUID()}`;
    const { workflowId } = await startOn(queue);
    const answer = raw.call('QueryWorkflow', { namespace, execution: { workflowId }, query: { queryType: 'state' } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const first = await poll(queue);
    const [queryId] = Object.keys(first.queries ?? {});
    expect(first.queries[queryId].queryType).toBe('state');
    await complete(first);
    const again = await poll(queue);
    expect(again.query.queryType).toBe('state');
    await raw.call('RespondQueryTaskCompleted', {
      namespace,
      taskToken: again.taskToken,
      completedType: 'QUERY_RESULT_TYPE_ANSWERED',
      queryResult: { payloads: [json('asked again')] },
    });
    const response = await answer;
    expect(JSON.parse(Buffer.from(response.queryResult.payloads[0].data).toString())).toBe('asked again');
  });

  it('sends a query task of its own to an idle workflow and answers it from RespondQueryTaskCompleted', async () => {
    const queue = `q-${randomUUID()}`;
    const { workflowId } = await startOn(queue);
    await complete(await poll(queue));
    const answer = raw
      .call('QueryWorkflow', { namespace, execution: { workflowId }, query: { queryType: 'state' } })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    const task = await poll(queue);
    expect(task.query.queryType).toBe('state');
    expect(task.startedEventId ?? 0).toBe(0);
    expect(ids(task)[0]).toBe(1);
    await raw.call('RespondQueryTaskCompleted', {
      namespace,
      taskToken: task.taskToken,
      completedType: 'QUERY_RESULT_TYPE_FAILED',
      errorMessage: 'no such query: state',
    });
    expect(await answer).toMatchObject({ code: 3, details: 'no such query: state' });
  });
});
