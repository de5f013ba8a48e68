// Workflow tasks: scheduling, handing to pollers (normal or sticky queue), completion, failure and
// timeout, and the buffering of events that arrive while a task is in flight.
import type { Cluster, WorkflowQueueTask } from './cluster.ts';
import { applyCommands, isCloseCommand } from './commands.ts';
import { invalidArgument, notFound } from './errors.ts';
import { isOpen, type Execution, type PendingEvent, type PendingQuery } from './execution.ts';
import { toDuration, toTimestamp, type Msg } from './proto.ts';
import { decodeToken, encodePageToken, encodeToken, runKey } from './tokens.ts';

/** When WorkflowTaskStarted suggests continue-as-new (`workflowInfo().continueAsNewSuggested`). */
export const SUGGEST_CONTINUE_AS_NEW_EVENTS = 4096;
export const SUGGEST_CONTINUE_AS_NEW_BYTES = 4 * 1024 * 1024;

/** Events per page when a workflow task carries the full history. */
export const HISTORY_PAGE_SIZE = 1000;

export function appendEvent(cluster: Cluster, execution: Execution, type: string, attributes: Msg): number {
  return execution.history.append(type, attributes, cluster.now()).eventId as number;
}

function writePending(cluster: Cluster, execution: Execution, pending: PendingEvent): void {
  const eventId = appendEvent(cluster, execution, pending.type, pending.attributes());
  pending.onWritten?.(eventId);
}

/**
 * Delivers events the workflow must react to (signals, activity results, timer fired, …): written
 * now and a task scheduled, or buffered while a task is in flight.
 */
export function deliver(cluster: Cluster, execution: Execution, events: PendingEvent[]): void {
  if (!isOpen(execution)) return;
  if (execution.wft.state === 'started' || execution.wft.state === 'completing') {
    execution.buffered.push(...events);
    return;
  }
  for (const pending of events) writePending(cluster, execution, pending);
  if (execution.wft.state === 'none') scheduleWorkflowTask(cluster, execution);
}

function flushBuffered(cluster: Cluster, execution: Execution): boolean {
  const buffered = execution.buffered.splice(0);
  for (const pending of buffered) writePending(cluster, execution, pending);
  return buffered.length > 0;
}

export function scheduleWorkflowTask(cluster: Cluster, execution: Execution, attempt = 1, delayMs = 0): void {
  const wft = execution.wft;
  if (!isOpen(execution) || wft.state !== 'none') return;
  const sticky = execution.sticky;
  wft.state = 'scheduled';
  wft.generation++;
  wft.attempt = attempt;
  wft.sticky = sticky !== undefined;
  wft.queue = sticky?.queue ?? execution.taskQueue;
  wft.scheduledTimeMs = cluster.now();
  wft.scheduledEventId = appendEvent(cluster, execution, 'WorkflowTaskScheduled', {
    taskQueue: sticky
      ? { name: sticky.queue, kind: 'TASK_QUEUE_KIND_STICKY', normalName: execution.taskQueue }
      : { name: execution.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
    startToCloseTimeout: toDuration(execution.workflowTaskTimeoutMs),
    attempt,
  });
  const generation = wft.generation;
  if (delayMs > 0) cluster.realTimers.set(delayMs, () => offerWorkflowTask(cluster, execution, generation));
  else offerWorkflowTask(cluster, execution, generation);
}

function offerWorkflowTask(cluster: Cluster, execution: Execution, generation: number): void {
  const wft = execution.wft;
  if (wft.generation !== generation || wft.state !== 'scheduled') return;
  cluster.workflowQueues.offer(wft.queue, { kind: 'workflow-task', execution, generation, sticky: wft.sticky });
  if (wft.sticky && execution.sticky) {
    // No sticky poller took it in time: the worker is gone, give it to any worker with full history.
    cluster.realTimers.set(execution.sticky.scheduleToStartMs, () => {
      if (wft.generation === generation && wft.state === 'scheduled' && wft.sticky)
        moveToNormalQueue(cluster, execution);
    });
  }
}

function moveToNormalQueue(cluster: Cluster, execution: Execution): void {
  const wft = execution.wft;
  execution.sticky = undefined;
  wft.sticky = false;
  wft.queue = execution.taskQueue;
  cluster.workflowQueues.offer(wft.queue, {
    kind: 'workflow-task',
    execution,
    generation: wft.generation,
    sticky: false,
  });
}

/** A worker shut down: its sticky queue's tasks go to the normal queue. */
export function releaseStickyQueue(cluster: Cluster, stickyQueue: string): void {
  cluster.workflowQueues.drain(stickyQueue);
  for (const execution of cluster.open) {
    if (execution.sticky?.queue !== stickyQueue) continue;
    if (execution.wft.state === 'scheduled' && execution.wft.sticky) moveToNormalQueue(cluster, execution);
    else execution.sticky = undefined;
  }
}

/** Hands a queued task to a poller: writes WorkflowTaskStarted and builds the poll response. */
export function claimWorkflowQueueTask(
  cluster: Cluster,
  task: WorkflowQueueTask,
  identity: string,
  requestId: string,
): Msg | undefined {
  if (task.kind === 'query') return claimQueryTask(cluster, task);
  const { execution } = task;
  const wft = execution.wft;
  if (!isOpen(execution) || wft.state !== 'scheduled' || wft.generation !== task.generation) return undefined;
  if (wft.sticky !== task.sticky) return undefined;
  wft.state = 'started';
  wft.startedEventId = appendEvent(cluster, execution, 'WorkflowTaskStarted', {
    scheduledEventId: wft.scheduledEventId,
    identity,
    requestId,
    historySizeBytes: execution.history.sizeBytes,
    suggestContinueAsNew:
      execution.history.lastEventId >= SUGGEST_CONTINUE_AS_NEW_EVENTS ||
      execution.history.sizeBytes >= SUGGEST_CONTINUE_AS_NEW_BYTES,
  });
  const generation = wft.generation;
  wft.cancelTimeout = cluster.realTimers.set(execution.workflowTaskTimeoutMs, () => {
    if (wft.generation === generation && wft.state === 'started') timeOutWorkflowTask(cluster, execution);
  });
  const queries: Record<string, Msg> = {};
  for (const pending of wft.queries) queries[pending.id] = pending.query;
  const history = execution.history;
  let events: Msg[];
  let nextPageToken: Buffer | undefined;
  if (task.sticky) {
    events = history.slice(execution.lastCompletedStartedEventId + 1);
  } else {
    events = history.slice(1, HISTORY_PAGE_SIZE);
    if (history.lastEventId > HISTORY_PAGE_SIZE) {
      nextPageToken = encodePageToken({ run: runKey(execution), next: HISTORY_PAGE_SIZE + 1 });
    }
  }
  return {
    taskToken: encodeToken({ k: 'wft', run: runKey(execution), g: generation }),
    workflowExecution: { workflowId: execution.workflowId, runId: execution.runId },
    workflowType: { name: execution.workflowType },
    previousStartedEventId: execution.lastCompletedStartedEventId,
    startedEventId: wft.startedEventId,
    attempt: wft.attempt,
    history: { events },
    nextPageToken,
    workflowExecutionTaskQueue: { name: execution.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
    scheduledTime: toTimestamp(wft.scheduledTimeMs),
    startedTime: toTimestamp(cluster.now()),
    queries,
  };
}

function claimQueryTask(cluster: Cluster, task: Extract<WorkflowQueueTask, { kind: 'query' }>): Msg | undefined {
  if (!cluster.pendingQueries.has(task.queryId)) return undefined;
  const { execution } = task;
  return {
    taskToken: encodeToken({ k: 'query', id: task.queryId }),
    workflowExecution: { workflowId: execution.workflowId, runId: execution.runId },
    workflowType: { name: execution.workflowType },
    previousStartedEventId: execution.lastCompletedStartedEventId,
    startedEventId: 0,
    attempt: 1,
    history: { events: execution.history.events },
    query: task.query,
    workflowExecutionTaskQueue: { name: execution.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
    scheduledTime: toTimestamp(cluster.now()),
    startedTime: toTimestamp(cluster.now()),
  };
}

function startedTask(cluster: Cluster, taskToken: Uint8Array | undefined): Execution {
  const token = decodeToken(taskToken);
  const execution = token.k === 'wft' ? cluster.runs.get(token.run) : undefined;
  if (!execution || token.k !== 'wft' || execution.wft.generation !== token.g || execution.wft.state !== 'started') {
    throw notFound('workflow task not found');
  }
  if (!isOpen(execution)) throw notFound('workflow execution already completed');
  return execution;
}

export function completeWorkflowTask(cluster: Cluster, request: Msg): Msg {
  const execution = startedTask(cluster, request.taskToken);
  const wft = execution.wft;
  wft.cancelTimeout?.();
  for (const [id, result] of Object.entries((request.queryResults ?? {}) as Record<string, Msg>)) {
    answerQuery(cluster, id, result);
  }
  wft.queries = [];
  const commands = (request.commands ?? []) as Msg[];
  const identity = request.identity ?? '';
  if (execution.buffered.length > 0 && commands.some(isCloseCommand)) {
    // The workflow tried to close without seeing events that arrived meanwhile: make it look again.
    appendEvent(cluster, execution, 'WorkflowTaskFailed', {
      scheduledEventId: wft.scheduledEventId,
      startedEventId: wft.startedEventId,
      cause: 'WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND',
      failure: { message: 'UnhandledCommand', source: 'Server' },
      identity,
    });
    retryAfterFailure(cluster, execution, 1);
    // As the real server does: an error makes the worker drop its cached run and replay with the
    // buffered events. An empty answer would let it re-send the same close and lose them.
    throw invalidArgument('UnhandledCommand');
  }
  const completedEventId = appendEvent(cluster, execution, 'WorkflowTaskCompleted', {
    scheduledEventId: wft.scheduledEventId,
    startedEventId: wft.startedEventId,
    identity,
    binaryChecksum: request.binaryChecksum,
    sdkMetadata: request.sdkMetadata,
    meteringMetadata: request.meteringMetadata,
    workerVersion: request.workerVersionStamp,
  });
  execution.lastCompletedStartedEventId = wft.startedEventId;
  const stickyQueue = request.stickyAttributes?.workerTaskQueue?.name as string | undefined;
  execution.sticky = stickyQueue
    ? {
        queue: stickyQueue,
        scheduleToStartMs: durationOr(request.stickyAttributes?.scheduleToStartTimeout, 5_000),
      }
    : undefined;
  wft.state = 'completing';
  applyCommands(cluster, execution, commands, completedEventId, identity);
  if (!isOpen(execution)) return {};
  wft.state = 'none';
  const hadBuffered = flushBuffered(cluster, execution);
  if (hadBuffered || request.forceCreateNewWorkflowTask) scheduleWorkflowTask(cluster, execution);
  routeWaitingQueries(cluster, execution);
  return {};
}

function durationOr(value: Msg | undefined, fallbackMs: number): number {
  if (!value) return fallbackMs;
  const ms = Number(value.seconds ?? 0) * 1000 + Number(value.nanos ?? 0) / 1e6;
  return ms > 0 ? ms : fallbackMs;
}

export function failWorkflowTask(cluster: Cluster, request: Msg): Msg {
  const execution = startedTask(cluster, request.taskToken);
  const wft = execution.wft;
  wft.cancelTimeout?.();
  appendEvent(cluster, execution, 'WorkflowTaskFailed', {
    scheduledEventId: wft.scheduledEventId,
    startedEventId: wft.startedEventId,
    cause: request.cause,
    failure: request.failure,
    identity: request.identity,
    binaryChecksum: request.binaryChecksum,
  });
  retryAfterFailure(cluster, execution, wft.attempt + 1);
  return {};
}

function timeOutWorkflowTask(cluster: Cluster, execution: Execution): void {
  const wft = execution.wft;
  appendEvent(cluster, execution, 'WorkflowTaskTimedOut', {
    scheduledEventId: wft.scheduledEventId,
    startedEventId: wft.startedEventId,
    timeoutType: 'TIMEOUT_TYPE_START_TO_CLOSE',
  });
  retryAfterFailure(cluster, execution, wft.attempt + 1);
}

/** After a failed or timed-out task: full history on the normal queue, with a growing pause. */
function retryAfterFailure(cluster: Cluster, execution: Execution, attempt: number): void {
  const wft = execution.wft;
  execution.waitingQueries.unshift(...wft.queries);
  wft.queries = [];
  wft.state = 'none';
  execution.sticky = undefined;
  flushBuffered(cluster, execution);
  const delayMs = attempt <= 2 ? 0 : Math.min(1000 * 2 ** (attempt - 3), 10_000);
  scheduleWorkflowTask(cluster, execution, attempt, delayMs);
  routeWaitingQueries(cluster, execution);
}

/** Sends a query with the next workflow task, or as a query task of its own when none is due. */
export function routeQuery(cluster: Cluster, execution: Execution, query: PendingQuery): void {
  const state = execution.wft.state;
  if (isOpen(execution) && state === 'scheduled') execution.wft.queries.push(query);
  else if (isOpen(execution) && state !== 'none') execution.waitingQueries.push(query);
  else {
    cluster.workflowQueues.offer(execution.taskQueue, {
      kind: 'query',
      execution,
      queryId: query.id,
      query: query.query,
    });
  }
}

export function routeWaitingQueries(cluster: Cluster, execution: Execution): void {
  for (const query of execution.waitingQueries.splice(0)) routeQuery(cluster, execution, query);
}

export function answerQuery(cluster: Cluster, id: string, result: Msg): void {
  const pending = cluster.pendingQueries.get(id);
  if (!pending) return;
  cluster.pendingQueries.delete(id);
  pending.resolve(result);
}
