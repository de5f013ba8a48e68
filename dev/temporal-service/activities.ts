// Activities: scheduling, dispatch, heartbeats, results, server-side retries and the four timeouts.
// ActivityTaskStarted is written lazily with the final event, as the real server does, so retries
// never show in history. Timeouts of a running attempt count real time (no time is skipped while an
// activity runs); schedule-to-close and retry backoffs are virtual deadlines.
import type { ActivityQueueTask, Cluster } from './cluster.ts';
import { notFound } from './errors.ts';
import { isOpen, type ActivityState, type Execution, type PendingEvent } from './execution.ts';
import { durationMs, toDuration, toTimestamp, type Msg } from './proto.ts';
import { decideRetry, withRetryDefaults } from './retry-policy.ts';
import { decodeToken, encodeToken, runKey } from './tokens.ts';
import { appendEvent, deliver } from './workflow-tasks.ts';

type TimeoutType = 'START_TO_CLOSE' | 'SCHEDULE_TO_START' | 'SCHEDULE_TO_CLOSE' | 'HEARTBEAT';
const TIMEOUT_NAMES: Record<TimeoutType, string> = {
  START_TO_CLOSE: 'StartToClose',
  SCHEDULE_TO_START: 'ScheduleToStart',
  SCHEDULE_TO_CLOSE: 'ScheduleToClose',
  HEARTBEAT: 'Heartbeat',
};

export function scheduleActivity(
  cluster: Cluster,
  execution: Execution,
  attributes: Msg,
  completedEventId: number,
): void {
  const scheduleToCloseMs = durationMs(attributes.scheduleToCloseTimeout);
  const startToCloseMs = durationMs(attributes.startToCloseTimeout) ?? scheduleToCloseMs;
  const scheduleToStartMs = durationMs(attributes.scheduleToStartTimeout);
  const heartbeatMs = durationMs(attributes.heartbeatTimeout);
  const retryPolicy = withRetryDefaults(attributes.retryPolicy);
  const taskQueue = (attributes.taskQueue?.name as string | undefined) || execution.taskQueue;
  const scheduledEventId = appendEvent(cluster, execution, 'ActivityTaskScheduled', {
    activityId: attributes.activityId,
    activityType: attributes.activityType,
    taskQueue: { name: taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
    header: attributes.header,
    input: attributes.input,
    // Every timeout, zero for none, as the real server records them.
    scheduleToCloseTimeout: toDuration(scheduleToCloseMs ?? 0),
    scheduleToStartTimeout: toDuration(scheduleToStartMs ?? 0),
    startToCloseTimeout: toDuration(startToCloseMs ?? 0),
    heartbeatTimeout: toDuration(heartbeatMs ?? 0),
    workflowTaskCompletedEventId: completedEventId,
    retryPolicy,
    useWorkflowBuildId: attributes.useWorkflowBuildId,
  });
  const now = cluster.now();
  const activity: ActivityState = {
    scheduledEventId,
    activityId: String(attributes.activityId),
    activityType: String(attributes.activityType?.name ?? ''),
    taskQueue,
    input: attributes.input,
    header: attributes.header,
    retryPolicy,
    scheduleToCloseMs,
    scheduleToStartMs,
    startToCloseMs,
    heartbeatMs,
    state: 'scheduled',
    attempt: 1,
    scheduledTimeMs: now,
    attemptScheduledTimeMs: now,
    startedTimeMs: 0,
    startedIdentity: '',
    heartbeatDetails: undefined,
    lastHeartbeatTimeMs: 0,
    lastFailure: undefined,
    cancelRequestedEventId: 0,
    cancelAttemptTimers: [],
  };
  execution.activities.set(scheduledEventId, activity);
  if (scheduleToCloseMs) {
    activity.cancelScheduleToClose = cluster.clock.schedule(now + scheduleToCloseMs, () =>
      timeOut(cluster, execution, activity, 'SCHEDULE_TO_CLOSE'),
    );
  }
  offerAttempt(cluster, execution, activity);
}

function offerAttempt(cluster: Cluster, execution: Execution, activity: ActivityState): void {
  activity.state = 'scheduled';
  activity.attemptScheduledTimeMs = cluster.now();
  if (activity.scheduleToStartMs) {
    const attempt = activity.attempt;
    activity.cancelAttemptTimers.push(
      cluster.realTimers.set(activity.scheduleToStartMs, () => {
        if (activity.state === 'scheduled' && activity.attempt === attempt) {
          timeOut(cluster, execution, activity, 'SCHEDULE_TO_START');
        }
      }),
    );
  }
  cluster.activityQueues.offer(activity.taskQueue, {
    execution,
    scheduledEventId: activity.scheduledEventId,
    attempt: activity.attempt,
  });
}

function clearAttemptTimers(activity: ActivityState): void {
  for (const cancel of activity.cancelAttemptTimers.splice(0)) cancel();
  activity.cancelHeartbeatTimeout?.();
  activity.cancelHeartbeatTimeout = undefined;
}

export function claimActivityTask(cluster: Cluster, task: ActivityQueueTask, identity: string): Msg | undefined {
  const { execution } = task;
  const activity = execution.activities.get(task.scheduledEventId);
  if (!isOpen(execution) || !activity || activity.state !== 'scheduled' || activity.attempt !== task.attempt) {
    return undefined;
  }
  clearAttemptTimers(activity);
  const now = cluster.now();
  activity.state = 'started';
  activity.startedTimeMs = now;
  activity.startedIdentity = identity;
  activity.lastHeartbeatTimeMs = now;
  const attempt = activity.attempt;
  const remainingMs = activity.scheduleToCloseMs
    ? activity.scheduledTimeMs + activity.scheduleToCloseMs - now
    : undefined;
  if (activity.startToCloseMs && (remainingMs === undefined || activity.startToCloseMs < remainingMs)) {
    activity.cancelAttemptTimers.push(
      cluster.realTimers.set(activity.startToCloseMs, () => {
        if (activity.state === 'started' && activity.attempt === attempt) {
          timeOut(cluster, execution, activity, 'START_TO_CLOSE');
        }
      }),
    );
  }
  armHeartbeatTimeout(cluster, execution, activity);
  return {
    taskToken: encodeToken({ k: 'activity', run: runKey(execution), s: activity.scheduledEventId, a: attempt }),
    workflowNamespace: execution.namespace,
    workflowType: { name: execution.workflowType },
    workflowExecution: { workflowId: execution.workflowId, runId: execution.runId },
    activityType: { name: activity.activityType },
    activityId: activity.activityId,
    header: activity.header,
    input: activity.input,
    heartbeatDetails: activity.heartbeatDetails,
    scheduledTime: toTimestamp(activity.scheduledTimeMs),
    currentAttemptScheduledTime: toTimestamp(activity.attemptScheduledTimeMs),
    startedTime: toTimestamp(now),
    attempt,
    // The SDK requires these fields; zero means "no timeout".
    scheduleToCloseTimeout: toDuration(activity.scheduleToCloseMs ?? 0),
    startToCloseTimeout: toDuration(activity.startToCloseMs ?? 0),
    heartbeatTimeout: toDuration(activity.heartbeatMs ?? 0),
    retryPolicy: activity.retryPolicy,
  };
}

function armHeartbeatTimeout(cluster: Cluster, execution: Execution, activity: ActivityState): void {
  activity.cancelHeartbeatTimeout?.();
  if (!activity.heartbeatMs) return;
  const attempt = activity.attempt;
  activity.cancelHeartbeatTimeout = cluster.realTimers.set(activity.heartbeatMs, () => {
    if (activity.state === 'started' && activity.attempt === attempt)
      timeOut(cluster, execution, activity, 'HEARTBEAT');
  });
}

function startedActivity(cluster: Cluster, taskToken: Uint8Array | undefined): [Execution, ActivityState] {
  const token = decodeToken(taskToken);
  if (token.k !== 'activity') throw notFound('activity task not found');
  const execution = cluster.runs.get(token.run);
  const activity = execution?.activities.get(token.s);
  if (!execution || !isOpen(execution) || !activity || activity.state !== 'started' || activity.attempt !== token.a) {
    throw notFound('activity task not found');
  }
  return [execution, activity];
}

function startedActivityById(cluster: Cluster, request: Msg): [Execution, ActivityState] {
  const execution = cluster.findOpenRun(request.namespace, request.workflowId, request.runId);
  const activity = execution && [...execution.activities.values()].find((a) => a.activityId === request.activityId);
  if (!execution || !activity || activity.state !== 'started') throw notFound('activity not found');
  return [execution, activity];
}

/** The started activity a worker's request names, by task token or (the `...ById` RPCs) by activity id. */
function startedActivityOf(cluster: Cluster, request: Msg, byId: boolean): [Execution, ActivityState] {
  return byId ? startedActivityById(cluster, request) : startedActivity(cluster, request.taskToken);
}

/** Closes a started activity with the worker's outcome: `attributes` plus the ids every closing event carries. */
function finishStarted(
  cluster: Cluster,
  execution: Execution,
  activity: ActivityState,
  type: string,
  request: Msg,
  attributes: Msg,
): void {
  finish(cluster, execution, activity, true, type, (startedEventId) => ({
    ...attributes,
    scheduledEventId: activity.scheduledEventId,
    startedEventId,
    identity: request.identity,
  }));
}

export function recordHeartbeat(cluster: Cluster, request: Msg, byId = false): Msg {
  const [execution, activity] = startedActivityOf(cluster, request, byId);
  activity.heartbeatDetails = request.details ?? activity.heartbeatDetails;
  activity.lastHeartbeatTimeMs = cluster.now();
  armHeartbeatTimeout(cluster, execution, activity);
  return { cancelRequested: activity.cancelRequestedEventId > 0 };
}

export function completeActivity(cluster: Cluster, request: Msg, byId = false): Msg {
  const [execution, activity] = startedActivityOf(cluster, request, byId);
  finishStarted(cluster, execution, activity, 'ActivityTaskCompleted', request, { result: request.result });
  return {};
}

export function failActivity(cluster: Cluster, request: Msg, byId = false): Msg {
  const [execution, activity] = startedActivityOf(cluster, request, byId);
  if (request.lastHeartbeatDetails) activity.heartbeatDetails = request.lastHeartbeatDetails;
  const failure = request.failure as Msg | undefined;
  const decision = decideRetry({
    policy: activity.retryPolicy,
    attempt: activity.attempt,
    failure,
    nowMs: cluster.now(),
    expirationMs: activity.scheduleToCloseMs ? activity.scheduledTimeMs + activity.scheduleToCloseMs : undefined,
  });
  if (decision.retry) {
    retryLater(cluster, execution, activity, failure, decision.delayMs);
    return {};
  }
  finishStarted(cluster, execution, activity, 'ActivityTaskFailed', request, {
    failure,
    retryState: decision.retryState,
  });
  return {};
}

export function cancelActivity(cluster: Cluster, request: Msg, byId = false): Msg {
  const [execution, activity] = startedActivityOf(cluster, request, byId);
  finishStarted(cluster, execution, activity, 'ActivityTaskCanceled', request, {
    details: request.details,
    latestCancelRequestedEventId: activity.cancelRequestedEventId,
  });
  return {};
}

export function requestCancelActivity(
  cluster: Cluster,
  execution: Execution,
  attributes: Msg,
  completedEventId: number,
): void {
  const scheduledEventId = Number(attributes.scheduledEventId);
  const activity = execution.activities.get(scheduledEventId);
  const requestedEventId = appendEvent(cluster, execution, 'ActivityTaskCancelRequested', {
    scheduledEventId,
    workflowTaskCompletedEventId: completedEventId,
  });
  if (!activity) return;
  activity.cancelRequestedEventId = requestedEventId;
  if (activity.state !== 'started') {
    // Not running: nothing to tell a worker, cancel at once.
    finish(cluster, execution, activity, false, 'ActivityTaskCanceled', () => ({
      latestCancelRequestedEventId: requestedEventId,
      scheduledEventId,
      startedEventId: 0,
    }));
  }
}

function retryLater(
  cluster: Cluster,
  execution: Execution,
  activity: ActivityState,
  failure: Msg | undefined,
  delayMs: number,
): void {
  clearAttemptTimers(activity);
  activity.state = 'backoff';
  activity.lastFailure = failure;
  activity.attempt++;
  activity.cancelAttemptTimers.push(
    cluster.clock.schedule(cluster.now() + delayMs, () => {
      if (activity.state === 'backoff' && execution.activities.get(activity.scheduledEventId) === activity) {
        offerAttempt(cluster, execution, activity);
      }
    }),
  );
}

function timeOut(cluster: Cluster, execution: Execution, activity: ActivityState, type: TimeoutType): void {
  if (execution.activities.get(activity.scheduledEventId) !== activity || !isOpen(execution)) return;
  const failure: Msg = {
    message: `activity ${TIMEOUT_NAMES[type]} timeout`,
    source: 'Server',
    timeoutFailureInfo: { timeoutType: `TIMEOUT_TYPE_${type}`, lastHeartbeatDetails: activity.heartbeatDetails },
  };
  let retryState = 'RETRY_STATE_TIMEOUT';
  if (type === 'START_TO_CLOSE' || type === 'HEARTBEAT') {
    const decision = decideRetry({
      policy: activity.retryPolicy,
      attempt: activity.attempt,
      failure,
      nowMs: cluster.now(),
      expirationMs: activity.scheduleToCloseMs ? activity.scheduledTimeMs + activity.scheduleToCloseMs : undefined,
    });
    if (decision.retry) {
      retryLater(cluster, execution, activity, failure, decision.delayMs);
      return;
    }
    retryState = decision.retryState;
  } else if (type === 'SCHEDULE_TO_START') {
    retryState = 'RETRY_STATE_NON_RETRYABLE_FAILURE';
  }
  if (type === 'SCHEDULE_TO_CLOSE' && activity.lastFailure && activity.state !== 'started') {
    failure.cause = activity.lastFailure;
  }
  finish(cluster, execution, activity, activity.state === 'started', 'ActivityTaskTimedOut', (startedEventId) => ({
    failure,
    scheduledEventId: activity.scheduledEventId,
    startedEventId,
    retryState,
  }));
}

/** Writes the final events of an activity (with its lazily written ActivityTaskStarted). */
function finish(
  cluster: Cluster,
  execution: Execution,
  activity: ActivityState,
  wasStarted: boolean,
  type: string,
  attributes: (startedEventId: number) => Msg,
): void {
  clearAttemptTimers(activity);
  activity.cancelScheduleToClose?.();
  execution.activities.delete(activity.scheduledEventId);
  let startedEventId = 0;
  const events: PendingEvent[] = [];
  if (wasStarted) {
    events.push({
      type: 'ActivityTaskStarted',
      attributes: () => ({
        scheduledEventId: activity.scheduledEventId,
        identity: activity.startedIdentity,
        requestId: cluster.nextId('request'),
        attempt: activity.attempt,
        lastFailure: activity.lastFailure,
      }),
      onWritten: (id) => (startedEventId = id),
    });
  }
  events.push({ type, attributes: () => attributes(startedEventId) });
  deliver(cluster, execution, events);
}

/** The run closed: its activities are gone (their workers learn it from NOT_FOUND on heartbeat). */
export function dropActivities(execution: Execution): void {
  for (const activity of execution.activities.values()) {
    clearAttemptTimers(activity);
    activity.cancelScheduleToClose?.();
  }
  execution.activities.clear();
}

export function pendingActivityInfo(cluster: Cluster, execution: Execution): Msg[] {
  return [...execution.activities.values()].map((activity) => ({
    activityId: activity.activityId,
    activityType: { name: activity.activityType },
    state:
      activity.cancelRequestedEventId > 0
        ? 'PENDING_ACTIVITY_STATE_CANCEL_REQUESTED'
        : activity.state === 'started'
          ? 'PENDING_ACTIVITY_STATE_STARTED'
          : 'PENDING_ACTIVITY_STATE_SCHEDULED',
    heartbeatDetails: activity.heartbeatDetails,
    lastHeartbeatTime: activity.lastHeartbeatTimeMs ? toTimestamp(activity.lastHeartbeatTimeMs) : undefined,
    lastStartedTime: activity.startedTimeMs ? toTimestamp(activity.startedTimeMs) : undefined,
    attempt: activity.attempt,
    maximumAttempts: Number(activity.retryPolicy.maximumAttempts ?? 0),
    scheduledTime: toTimestamp(activity.attemptScheduledTimeMs),
    expirationTime: activity.scheduleToCloseMs
      ? toTimestamp(activity.scheduledTimeMs + activity.scheduleToCloseMs)
      : undefined,
    lastFailure: activity.lastFailure,
    lastWorkerIdentity: activity.startedIdentity,
  }));
}
