// Workflow tasks: scheduling, handing to pollers (normal or sticky queue), completion, failure and
// timeout, and the buffering of events that arrive while a task is in flight.
import type { Cluster, WorkflowQueueTask } from './cluster.ts';
import { applyCommands, isCloseCommand } from './commands.ts';
import { invalidArgument, notFound } from './errors.ts';
import { isOpen, type Execution, type PendingEvent, type PendingQuery } from './execution.ts';
import { History } from './history.ts';
import { terminateWorkflow } from './lifecycle.ts';
import { historyOverLimit, oversizedCommand, warnHistory } from './limits.ts';
import { toDuration, toTimestamp, type Msg } from './proto.ts';
import { decodeToken, encodePageToken, encodeToken, runKey } from './tokens.ts';
import {
  applyMessage,
  hasAdmittedUpdates,
  onlyRejections,
  outgoingMessages,
  parseMessages,
  rejectUnprocessed,
  resendAfterFailure,
  type ProtocolMessage,
} from './updates.ts';

/**
 * History bytes from which WorkflowTaskStarted suggests continue-as-new
 * (`workflowInfo().continueAsNewSuggested`); the event count is `limits.historyCountSuggestContinueAsNew`.
 */
export const SUGGEST_CONTINUE_AS_NEW_BYTES = 4 * 1024 * 1024;

/** Events per page when a workflow task carries the full history. */
export const HISTORY_PAGE_SIZE = 1000;

export function appendEvent(cluster: Cluster, execution: Execution, type: string, attributes: Msg): number {
  const eventId = execution.history.append(type, attributes, cluster.now()).eventId as number;
  warnHistory(cluster.limits, execution, cluster.warn);
  return eventId;
}

/**
 * As the real server before it changes a run: a run already past an error limit is terminated
 * instead (the reason is returned; the change is dropped).
 */
export function enforceHistoryLimits(cluster: Cluster, execution: Execution): string | undefined {
  if (!isOpen(execution)) return undefined;
  const reason = historyOverLimit(cluster.limits, execution);
  if (!reason) return undefined;
  execution.buffered.splice(0).forEach((pending) => writePending(cluster, execution, pending));
  terminateWorkflow(cluster, execution, reason, undefined, HISTORY_SERVICE);
  return reason;
}

/** For calls that change a run: INVALID_ARGUMENT with the reason when the run had to end instead. */
export function assertWithinHistoryLimits(cluster: Cluster, execution: Execution): void {
  const reason = enforceHistoryLimits(cluster, execution);
  if (reason) throw invalidArgument(reason);
}

const HISTORY_SERVICE = 'history-service';

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
  if (enforceHistoryLimits(cluster, execution)) return;
  if (execution.wft.state === 'started' || execution.wft.state === 'completing') {
    execution.buffered.push(...events);
    return;
  }
  // A new event makes a speculative task a normal one: its WorkflowTaskScheduled is written first.
  if (execution.wft.state === 'scheduled' && execution.wft.speculative) persistSpeculativeScheduled(cluster, execution);
  for (const pending of events) writePending(cluster, execution, pending);
  if (execution.wft.state === 'none') scheduleWorkflowTask(cluster, execution);
}

function flushBuffered(cluster: Cluster, execution: Execution): boolean {
  const buffered = execution.buffered.splice(0);
  for (const pending of buffered) writePending(cluster, execution, pending);
  return buffered.length > 0;
}

function scheduledAttributes(execution: Execution): Msg {
  const wft = execution.wft;
  return {
    taskQueue: wft.sticky
      ? { name: wft.queue, kind: 'TASK_QUEUE_KIND_STICKY', normalName: execution.taskQueue }
      : { name: execution.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
    startToCloseTimeout: toDuration(execution.workflowTaskTimeoutMs),
    attempt: wft.attempt,
  };
}

export function scheduleWorkflowTask(cluster: Cluster, execution: Execution, attempt = 1, delayMs = 0): void {
  const wft = execution.wft;
  if (!isOpen(execution) || wft.state !== 'none') return;
  prepareTask(cluster, execution, attempt);
  wft.scheduledEventId = appendEvent(cluster, execution, 'WorkflowTaskScheduled', scheduledAttributes(execution));
  const generation = wft.generation;
  if (delayMs > 0) cluster.realTimers.set(delayMs, () => offerWorkflowTask(cluster, execution, generation));
  else offerWorkflowTask(cluster, execution, generation);
}

function prepareTask(cluster: Cluster, execution: Execution, attempt: number): void {
  const wft = execution.wft;
  const sticky = execution.sticky;
  wft.state = 'scheduled';
  wft.generation++;
  wft.attempt = attempt;
  wft.sticky = sticky !== undefined;
  wft.queue = sticky?.queue ?? execution.taskQueue;
  wft.scheduledTimeMs = cluster.now();
  wft.speculative = false;
  wft.speculativeEvents = [];
}

/**
 * A task for admitted updates when none is pending: speculative, so a worker that only rejects them
 * leaves no events (as on the real server). A task already scheduled carries them when it starts; a
 * task in flight is followed by one (completeWorkflowTask).
 */
export function scheduleTaskForUpdates(cluster: Cluster, execution: Execution): void {
  const wft = execution.wft;
  if (!isOpen(execution) || wft.state !== 'none') return;
  prepareTask(cluster, execution, 1);
  wft.speculative = true;
  wft.scheduledEventId = 0;
  offerWorkflowTask(cluster, execution, wft.generation);
}

/** Writes the WorkflowTaskScheduled of a speculative task not started yet: it is a normal task now. */
function persistSpeculativeScheduled(cluster: Cluster, execution: Execution): void {
  const wft = execution.wft;
  wft.speculative = false;
  wft.scheduledEventId = appendEvent(cluster, execution, 'WorkflowTaskScheduled', scheduledAttributes(execution));
}

/** Writes the events a started speculative task was sent with (it did more than reject updates). */
function persistSpeculativeStarted(cluster: Cluster, execution: Execution): void {
  const wft = execution.wft;
  if (!wft.speculative) return;
  wft.speculative = false;
  for (const { type, attributes } of wft.speculativeEvents.splice(0)) {
    const id = execution.history.append(type, attributes, cluster.now()).eventId as number;
    if (type === 'WorkflowTaskScheduled' && id !== wft.scheduledEventId)
      throw new Error(`speculative task events out of order (${id} ≠ ${wft.scheduledEventId})`);
  }
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
  // A speculative task going out with full history across pages is written like a normal one: the
  // pages a worker fetches come from the history, which has no speculative events.
  if (wft.speculative && !task.sticky && execution.history.lastEventId + 2 > HISTORY_PAGE_SIZE)
    persistSpeculativeScheduled(cluster, execution);
  const history = execution.history;
  const startedAttributes = (scheduledEventId: number, sizeBytes: number): Msg => ({
    scheduledEventId,
    identity,
    requestId,
    historySizeBytes: sizeBytes,
    suggestContinueAsNew:
      history.lastEventId >= cluster.limits.historyCountSuggestContinueAsNew ||
      sizeBytes >= SUGGEST_CONTINUE_AS_NEW_BYTES,
  });
  wft.state = 'started';
  let speculativeEvents: Msg[] = [];
  if (wft.speculative) {
    const now = cluster.now();
    const scheduledAttrs = scheduledAttributes(execution);
    const scheduled = History.build('WorkflowTaskScheduled', scheduledAttrs, now, history.lastEventId + 1);
    const startedAttrs = startedAttributes(history.lastEventId + 1, history.sizeBytes + History.sizeOf(scheduled));
    const started = History.build('WorkflowTaskStarted', startedAttrs, now, history.lastEventId + 2);
    wft.scheduledEventId = history.lastEventId + 1;
    wft.startedEventId = history.lastEventId + 2;
    wft.speculativeEvents = [
      { type: 'WorkflowTaskScheduled', attributes: scheduledAttrs },
      { type: 'WorkflowTaskStarted', attributes: startedAttrs },
    ];
    speculativeEvents = [scheduled, started];
  } else {
    wft.startedEventId = appendEvent(
      cluster,
      execution,
      'WorkflowTaskStarted',
      startedAttributes(wft.scheduledEventId, history.sizeBytes),
    );
  }
  const generation = wft.generation;
  wft.cancelTimeout = cluster.realTimers.set(execution.workflowTaskTimeoutMs, () => {
    if (wft.generation === generation && wft.state === 'started') timeOutWorkflowTask(cluster, execution);
  });
  const queries: Record<string, Msg> = {};
  for (const pending of wft.queries) queries[pending.id] = pending.query;
  let events: Msg[];
  let nextPageToken: Buffer | undefined;
  if (task.sticky) {
    events = [...history.slice(execution.lastCompletedStartedEventId + 1), ...speculativeEvents];
  } else {
    events = [...history.slice(1, HISTORY_PAGE_SIZE), ...speculativeEvents];
    if (history.lastEventId > HISTORY_PAGE_SIZE) {
      nextPageToken = encodePageToken({ run: runKey(execution), next: HISTORY_PAGE_SIZE + 1 });
    }
  }
  const messages = outgoingMessages(execution, generation, wft.startedEventId);
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
    messages,
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
  // A query the completion does not answer stays buffered, as on the real server: it goes out again
  // (with the next task, or as a query task of its own) once this completion is applied.
  execution.waitingQueries.unshift(...wft.queries.filter((query) => cluster.pendingQueries.has(query.id)));
  wft.queries = [];
  const commands = (request.commands ?? []) as Msg[];
  const identity = request.identity ?? '';
  const messages = parseMessages(request.messages);
  const stickyQueue = request.stickyAttributes?.workerTaskQueue?.name as string | undefined;
  const stickyAfter = stickyQueue
    ? {
        queue: stickyQueue,
        scheduleToStartMs: durationOr(request.stickyAttributes?.scheduleToStartTimeout, 5_000),
      }
    : undefined;
  if (
    wft.speculative &&
    commands.length === 0 &&
    onlyRejections(messages) &&
    execution.buffered.length === 0 &&
    !request.forceCreateNewWorkflowTask
  ) {
    // The task only rejected updates: it never happened. The worker rolls back to the last task.
    for (const message of messages) applyMessage(execution, message, () => 0);
    rejectUnprocessed(execution, wft.generation);
    execution.sticky = stickyAfter;
    wft.state = 'none';
    wft.speculative = false;
    wft.speculativeEvents = [];
    if (hasAdmittedUpdates(execution)) scheduleTaskForUpdates(cluster, execution);
    routeWaitingQueries(cluster, execution);
    return { resetHistoryEventId: execution.lastCompletedStartedEventId };
  }
  persistSpeculativeStarted(cluster, execution);
  assertWithinHistoryLimits(cluster, execution);
  const oversized = oversizedCommand(cluster.limits, commands);
  if (oversized) {
    // As the real server: the task fails with the command's cause, then the run is terminated.
    appendEvent(cluster, execution, 'WorkflowTaskFailed', {
      scheduledEventId: wft.scheduledEventId,
      startedEventId: wft.startedEventId,
      cause: oversized.cause,
      failure: { message: oversized.message, source: 'Server' },
      identity,
    });
    wft.state = 'none';
    flushBuffered(cluster, execution);
    terminateWorkflow(cluster, execution, oversized.reason, undefined, HISTORY_SERVICE);
    // The worker hears why, as from the real server.
    throw invalidArgument(oversized.reason);
  }
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
  execution.sticky = stickyAfter;
  wft.state = 'completing';
  const generation = wft.generation;
  const byId = new Map<string, ProtocolMessage>(messages.map((m) => [m.id, m]));
  const append = (type: string, attributes: Msg): number => appendEvent(cluster, execution, type, attributes);
  const onProtocolMessage = (messageId: string): void => {
    const message = byId.get(messageId);
    if (!message) return;
    byId.delete(messageId);
    applyMessage(execution, message, append);
  };
  applyCommands(cluster, execution, commands, completedEventId, identity, onProtocolMessage);
  if (!isOpen(execution)) return {};
  // Messages no command placed (rejections, mostly) are applied after the commands, in order.
  for (const message of byId.values()) applyMessage(execution, message, append);
  rejectUnprocessed(execution, generation);
  wft.state = 'none';
  const hadBuffered = flushBuffered(cluster, execution);
  if (hadBuffered || request.forceCreateNewWorkflowTask) scheduleWorkflowTask(cluster, execution);
  else if (hasAdmittedUpdates(execution)) scheduleTaskForUpdates(cluster, execution);
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
  // A failure must be visible: a speculative task's events are written before it.
  persistSpeculativeStarted(cluster, execution);
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
  persistSpeculativeStarted(cluster, execution);
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
  resendAfterFailure(execution);
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
