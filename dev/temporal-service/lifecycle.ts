// Runs: start (with id reuse / conflict policies and request-id idempotency), close, continue-as-new,
// terminate, cancel requests, signals, and workflow timeouts.
import { randomUUID } from 'node:crypto';
import { dropActivities } from './activities.ts';
import { applyParentClosePolicy, notifyParent } from './children.ts';
import type { Cluster } from './cluster.ts';
import { alreadyStarted } from './errors.ts';
import { isOpen, type Execution, type ParentRef } from './execution.ts';
import { History } from './history.ts';
import { durationMs, timestampMs, toDuration, toTimestamp, type Msg } from './proto.ts';
import { decideRetry, withRetryDefaults } from './retry-policy.ts';
import { cancelAllTimers } from './timers.ts';
import { closeUpdates } from './updates.ts';
import { appendEvent, deliver, routeQuery, scheduleWorkflowTask } from './workflow-tasks.ts';

const FAILED_STATUSES = new Set([
  'WORKFLOW_EXECUTION_STATUS_FAILED',
  'WORKFLOW_EXECUTION_STATUS_CANCELED',
  'WORKFLOW_EXECUTION_STATUS_TERMINATED',
  'WORKFLOW_EXECUTION_STATUS_TIMED_OUT',
]);

export interface StartOptions {
  parent?: ParentRef;
  root?: { workflowId: string; runId: string };
  /** Written right after WorkflowExecutionStarted (SignalWithStart). */
  signal?: Msg;
}

export interface StartResult {
  execution: Execution;
  started: boolean;
}

/** Starts a workflow from a StartWorkflowExecution-shaped request, honouring the id policies. */
export function startWorkflow(cluster: Cluster, request: Msg, options: StartOptions = {}): StartResult {
  const namespace = request.namespace || 'default';
  const workflowId = String(request.workflowId);
  const requestId = request.requestId as string | undefined;
  const chain = cluster.chains.get(`${namespace}/${workflowId}`) ?? [];
  const latest = chain[chain.length - 1];
  if (latest && requestId) {
    const same = chain.find((run) => run.requestIds.has(requestId));
    if (same) return { execution: same, started: true };
  }
  if (latest) {
    const reuse = request.workflowIdReusePolicy ?? 'WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED';
    const conflict = request.workflowIdConflictPolicy ?? 'WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED';
    const rejection = (): Error =>
      alreadyStarted(
        `workflow execution already started: ${workflowId}`,
        [...latest.requestIds][0] ?? '',
        latest.runId,
      );
    if (isOpen(latest)) {
      if (conflict === 'WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING') {
        if (requestId) latest.requestIds.add(requestId);
        if (options.signal) signalWorkflow(cluster, latest, options.signal);
        return { execution: latest, started: false };
      }
      if (
        conflict === 'WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING' ||
        reuse === 'WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING'
      ) {
        terminateWorkflow(
          cluster,
          latest,
          'terminated by a new start with the same workflow id',
          undefined,
          request.identity,
        );
      } else if (options.signal) {
        // SignalWithStart on a running workflow only signals it.
        signalWorkflow(cluster, latest, options.signal);
        return { execution: latest, started: false };
      } else {
        throw rejection();
      }
    } else if (reuse === 'WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE') {
      throw rejection();
    } else if (
      reuse === 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY' &&
      !FAILED_STATUSES.has(latest.status)
    ) {
      throw rejection();
    }
  }
  const execution = startRun(cluster, {
    namespace,
    workflowId,
    runId: randomUUID(),
    attributes: request,
    parent: options.parent,
    root: options.root,
    signal: options.signal,
    delayMs: durationMs(request.workflowStartDelay),
  });
  if (requestId) execution.requestIds.add(requestId);
  return { execution, started: true };
}

interface RunSpec {
  namespace: string;
  workflowId: string;
  runId: string;
  /** Start request or continue-as-new command attributes. */
  attributes: Msg;
  parent?: ParentRef;
  root?: { workflowId: string; runId: string };
  previous?: Execution;
  signal?: Msg;
  delayMs?: number;
  attempt?: number;
}

function startRun(cluster: Cluster, spec: RunSpec): Execution {
  const { attributes, previous } = spec;
  const now = cluster.now();
  const workflowType = String(attributes.workflowType?.name ?? previous?.workflowType);
  const taskQueue = String(attributes.taskQueue?.name || previous?.taskQueue);
  const firstRunId = previous?.firstRunId ?? spec.runId;
  const executionTimeoutMs = durationMs(
    attributes.workflowExecutionTimeout ?? previous?.started.workflowExecutionTimeout,
  );
  const expirationMs = previous
    ? (durationMs(previous.started.workflowExecutionExpirationTime) ?? undefined)
    : executionTimeoutMs
      ? now + executionTimeoutMs
      : undefined;
  const runTimeoutMs = durationMs(attributes.workflowRunTimeout);
  const workflowTaskTimeoutMs = durationMs(attributes.workflowTaskTimeout) ?? 10_000;
  const memo = attributes.memo ?? previous?.memo;
  const searchAttributes = attributes.searchAttributes ?? previous?.searchAttributes;
  const parent = spec.parent ?? previous?.parent;
  const root = spec.root ?? previous?.root ?? { workflowId: spec.workflowId, runId: spec.runId };
  const started: Msg = {
    workflowType: { name: workflowType },
    taskQueue: { name: taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
    input: attributes.input,
    workflowExecutionTimeout: executionTimeoutMs ? attributes.workflowExecutionTimeout : undefined,
    workflowRunTimeout: attributes.workflowRunTimeout,
    workflowTaskTimeout: {
      seconds: Math.floor(workflowTaskTimeoutMs / 1000),
      nanos: (workflowTaskTimeoutMs % 1000) * 1e6,
    },
    identity: attributes.identity,
    continuedExecutionRunId: previous?.runId,
    initiator: previous ? (attributes.initiator ?? 'CONTINUE_AS_NEW_INITIATOR_WORKFLOW') : undefined,
    continuedFailure: attributes.failure ?? attributes.continuedFailure,
    lastCompletionResult: attributes.lastCompletionResult,
    originalExecutionRunId: spec.runId,
    firstExecutionRunId: firstRunId,
    retryPolicy: attributes.retryPolicy,
    attempt: spec.attempt ?? 1,
    workflowExecutionExpirationTime: expirationMs ? toTimestamp(expirationMs) : undefined,
    header: attributes.header,
    memo,
    searchAttributes,
    parentWorkflowNamespace: parent?.namespace,
    parentWorkflowExecution: parent ? { workflowId: parent.workflowId, runId: parent.runId } : undefined,
    parentInitiatedEventId: parent?.initiatedEventId,
    // As the real server: only a child (or a later run of one) names its root.
    rootWorkflowExecution: parent ? root : undefined,
    workflowId: spec.workflowId,
    // The real server writes a zero backoff on a first run, none on a continued one.
    firstWorkflowTaskBackoff: spec.delayMs
      ? toDuration(spec.delayMs)
      : (attributes.backoffStartInterval ?? (previous ? undefined : toDuration(0))),
  };
  const execution: Execution = {
    namespace: spec.namespace,
    workflowId: spec.workflowId,
    runId: spec.runId,
    firstRunId,
    workflowType,
    taskQueue,
    status: 'WORKFLOW_EXECUTION_STATUS_RUNNING',
    startTimeMs: now,
    executionTimeMs: now + (spec.delayMs ?? durationMs(attributes.backoffStartInterval) ?? 0),
    closeTimeMs: undefined,
    history: new History(),
    started,
    memo,
    searchAttributes,
    requestIds: new Set(),
    parent,
    root,
    workflowTaskTimeoutMs,
    wft: {
      state: 'none',
      generation: 0,
      scheduledEventId: 0,
      startedEventId: 0,
      attempt: 1,
      queue: taskQueue,
      sticky: false,
      scheduledTimeMs: 0,
      speculative: false,
      speculativeEvents: [],
      queries: [],
    },
    buffered: [],
    lastCompletedStartedEventId: 0,
    sticky: undefined,
    activities: new Map(),
    timers: new Map(),
    children: new Map(),
    waitingQueries: [],
    updates: new Map(),
    warnedLimits: new Set(),
    cancelRequested: false,
    newRunId: undefined,
    cancelTimeouts: [],
  };
  cluster.addRun(execution);
  appendEvent(cluster, execution, 'WorkflowExecutionStarted', started);
  if (spec.signal) appendSignal(cluster, execution, spec.signal);
  if (runTimeoutMs) {
    execution.cancelTimeouts.push(
      cluster.clock.schedule(now + runTimeoutMs, () => timeOutWorkflow(cluster, execution)),
    );
  }
  if (expirationMs) {
    execution.cancelTimeouts.push(cluster.clock.schedule(expirationMs, () => timeOutWorkflow(cluster, execution)));
  }
  const delayMs = execution.executionTimeMs - now;
  if (delayMs > 0) {
    execution.cancelTimeouts.push(
      cluster.clock.schedule(execution.executionTimeMs, () => scheduleWorkflowTask(cluster, execution)),
    );
  } else {
    scheduleWorkflowTask(cluster, execution);
  }
  return execution;
}

function timeOutWorkflow(cluster: Cluster, execution: Execution): void {
  closeExecution(cluster, execution, 'WorkflowExecutionTimedOut', 'WORKFLOW_EXECUTION_STATUS_TIMED_OUT', {
    retryState: 'RETRY_STATE_TIMEOUT',
  });
}

/** Writes the close event and releases everything the run held. */
export function closeExecution(
  cluster: Cluster,
  execution: Execution,
  type: string,
  status: string,
  attributes: Msg,
): void {
  if (!isOpen(execution)) return;
  execution.status = status;
  execution.closeTimeMs = cluster.now();
  const wft = execution.wft;
  wft.cancelTimeout?.();
  wft.state = 'none';
  wft.generation++;
  wft.speculative = false;
  wft.speculativeEvents = [];
  const event = execution.history.append(type, attributes, cluster.now());
  cluster.open.delete(execution);
  cancelAllTimers(execution);
  dropActivities(execution);
  for (const cancel of execution.cancelTimeouts.splice(0)) cancel();
  execution.buffered = [];
  execution.sticky = undefined;
  execution.history.markClosed(event);
  for (const query of [...wft.queries.splice(0), ...execution.waitingQueries.splice(0)])
    routeQuery(cluster, execution, query);
  closeUpdates(execution, Boolean(attributes.newExecutionRunId));
  // A run continued by continue-as-new or a retry is not the end of the workflow for its parent.
  if (!attributes.newExecutionRunId) notifyParent(cluster, execution, attributes);
  applyParentClosePolicy(cluster, execution);
}

/** The workflow failed: retried as a new run when it has a retry policy that allows it. */
export function failWorkflow(
  cluster: Cluster,
  execution: Execution,
  failure: Msg | undefined,
  completedEventId: number,
): void {
  const policy = execution.started.retryPolicy as Msg | undefined;
  const attempt = Number(execution.started.attempt ?? 1);
  const decision = policy
    ? decideRetry({
        policy: withRetryDefaults(policy),
        attempt,
        failure,
        nowMs: cluster.now(),
        expirationMs: timestampMs(execution.started.workflowExecutionExpirationTime),
      })
    : ({ retry: false, retryState: 'RETRY_STATE_RETRY_POLICY_NOT_SET' } as const);
  const newRunId = decision.retry ? randomUUID() : undefined;
  closeExecution(cluster, execution, 'WorkflowExecutionFailed', 'WORKFLOW_EXECUTION_STATUS_FAILED', {
    failure,
    retryState: decision.retry ? 'RETRY_STATE_IN_PROGRESS' : decision.retryState,
    workflowTaskCompletedEventId: completedEventId,
    newExecutionRunId: newRunId,
  });
  if (!decision.retry || !newRunId) return;
  execution.newRunId = newRunId;
  const started = execution.started;
  startRun(cluster, {
    namespace: execution.namespace,
    workflowId: execution.workflowId,
    runId: newRunId,
    attributes: {
      workflowType: started.workflowType,
      taskQueue: started.taskQueue,
      input: started.input,
      workflowRunTimeout: started.workflowRunTimeout,
      workflowTaskTimeout: started.workflowTaskTimeout,
      retryPolicy: policy,
      header: started.header,
      backoffStartInterval: toDuration(decision.delayMs),
      initiator: 'CONTINUE_AS_NEW_INITIATOR_RETRY',
      failure,
    },
    previous: execution,
    attempt: attempt + 1,
  });
}

export function continueAsNew(cluster: Cluster, execution: Execution, command: Msg, completedEventId: number): void {
  const newRunId = randomUUID();
  // The timeouts the new run gets, written as the real server does (zero: no run timeout).
  const attributes: Msg = {
    ...command,
    workflowRunTimeout: command.workflowRunTimeout ?? toDuration(0),
    workflowTaskTimeout: command.workflowTaskTimeout ?? execution.started.workflowTaskTimeout,
  };
  closeExecution(cluster, execution, 'WorkflowExecutionContinuedAsNew', 'WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW', {
    newExecutionRunId: newRunId,
    workflowType: attributes.workflowType?.name ? attributes.workflowType : { name: execution.workflowType },
    taskQueue: { name: attributes.taskQueue?.name || execution.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
    input: attributes.input,
    workflowRunTimeout: attributes.workflowRunTimeout,
    workflowTaskTimeout: attributes.workflowTaskTimeout,
    workflowTaskCompletedEventId: completedEventId,
    backoffStartInterval: attributes.backoffStartInterval,
    initiator: attributes.initiator,
    failure: attributes.failure,
    lastCompletionResult: attributes.lastCompletionResult,
    header: attributes.header,
    memo: attributes.memo,
    searchAttributes: attributes.searchAttributes,
    inheritBuildId: attributes.inheritBuildId,
  });
  execution.newRunId = newRunId;
  startRun(cluster, {
    namespace: execution.namespace,
    workflowId: execution.workflowId,
    runId: newRunId,
    attributes,
    previous: execution,
  });
}

export function terminateWorkflow(
  cluster: Cluster,
  execution: Execution,
  reason: string | undefined,
  details: Msg | undefined,
  identity: string | undefined,
): void {
  closeExecution(cluster, execution, 'WorkflowExecutionTerminated', 'WORKFLOW_EXECUTION_STATUS_TERMINATED', {
    reason,
    details,
    identity,
  });
}

export function requestCancelWorkflow(
  cluster: Cluster,
  execution: Execution,
  attributes: { cause?: string; identity?: string; externalInitiatedEventId?: number; externalWorkflowExecution?: Msg },
): void {
  if (!isOpen(execution) || execution.cancelRequested) return;
  execution.cancelRequested = true;
  deliver(cluster, execution, [{ type: 'WorkflowExecutionCancelRequested', attributes: () => attributes }]);
}

function signalAttributes(signal: Msg): Msg {
  return {
    signalName: signal.signalName,
    input: signal.input,
    identity: signal.identity,
    header: signal.header,
    externalWorkflowExecution: signal.externalWorkflowExecution,
  };
}

function appendSignal(cluster: Cluster, execution: Execution, signal: Msg): void {
  appendEvent(cluster, execution, 'WorkflowExecutionSignaled', signalAttributes(signal));
}

export function signalWorkflow(cluster: Cluster, execution: Execution, signal: Msg): void {
  deliver(cluster, execution, [{ type: 'WorkflowExecutionSignaled', attributes: () => signalAttributes(signal) }]);
}
