// Child workflows and the commands that reach other workflows (signal / cancel external), plus the
// parent's side of a child's close and the parent-close policy.
import type { Cluster } from './cluster.ts';
import { RpcError } from './errors.ts';
import { isOpen, type ChildState, type Execution, type PendingEvent } from './execution.ts';
import { requestCancelWorkflow, signalWorkflow, startWorkflow, terminateWorkflow } from './lifecycle.ts';
import { toDuration, type Msg } from './proto.ts';
import { appendEvent, deliver } from './workflow-tasks.ts';

/** An enum field the command left at its default (absent, 0 or `…_UNSPECIFIED`). */
const unspecified = (value: unknown): boolean => !value || String(value).endsWith('_UNSPECIFIED');

export function startChild(cluster: Cluster, parent: Execution, command: Msg, completedEventId: number): void {
  const namespace = command.namespace || parent.namespace;
  const workflowType = String(command.workflowType?.name ?? '');
  // The command with the defaults the real server applies, and records, filled in.
  const attributes: Msg = {
    ...command,
    namespace,
    workflowRunTimeout: command.workflowRunTimeout ?? toDuration(0),
    workflowTaskTimeout: command.workflowTaskTimeout ?? toDuration(10_000),
    parentClosePolicy: unspecified(command.parentClosePolicy)
      ? 'PARENT_CLOSE_POLICY_TERMINATE'
      : command.parentClosePolicy,
    workflowIdReusePolicy: unspecified(command.workflowIdReusePolicy)
      ? 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE'
      : command.workflowIdReusePolicy,
  };
  const initiatedEventId = appendEvent(cluster, parent, 'StartChildWorkflowExecutionInitiated', {
    ...attributes,
    workflowTaskCompletedEventId: completedEventId,
  });
  let child: Execution;
  try {
    child = startWorkflow(cluster, attributes, {
      parent: { namespace: parent.namespace, workflowId: parent.workflowId, runId: parent.runId, initiatedEventId },
      root: parent.root,
    }).execution;
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    deliver(cluster, parent, [
      {
        type: 'StartChildWorkflowExecutionFailed',
        attributes: () => ({
          namespace,
          workflowId: attributes.workflowId,
          workflowType: { name: workflowType },
          cause: 'START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS',
          control: attributes.control,
          initiatedEventId,
          workflowTaskCompletedEventId: completedEventId,
        }),
      },
    ]);
    return;
  }
  const state: ChildState = {
    initiatedEventId,
    startedEventId: 0,
    namespace,
    workflowId: child.workflowId,
    runId: child.runId,
    workflowType,
    parentClosePolicy: attributes.parentClosePolicy,
  };
  parent.children.set(initiatedEventId, state);
  deliver(cluster, parent, [
    {
      type: 'ChildWorkflowExecutionStarted',
      attributes: () => ({
        namespace,
        initiatedEventId,
        workflowExecution: { workflowId: child.workflowId, runId: child.runId },
        workflowType: { name: workflowType },
        header: attributes.header,
      }),
      onWritten: (id) => (state.startedEventId = id),
    },
  ]);
}

const CHILD_CLOSE_EVENTS: Record<string, { type: string; fields: string[] }> = {
  WORKFLOW_EXECUTION_STATUS_COMPLETED: { type: 'ChildWorkflowExecutionCompleted', fields: ['result'] },
  WORKFLOW_EXECUTION_STATUS_FAILED: { type: 'ChildWorkflowExecutionFailed', fields: ['failure', 'retryState'] },
  WORKFLOW_EXECUTION_STATUS_CANCELED: { type: 'ChildWorkflowExecutionCanceled', fields: ['details'] },
  WORKFLOW_EXECUTION_STATUS_TIMED_OUT: { type: 'ChildWorkflowExecutionTimedOut', fields: ['retryState'] },
  WORKFLOW_EXECUTION_STATUS_TERMINATED: { type: 'ChildWorkflowExecutionTerminated', fields: [] },
};

/** A child run closed (not by continue-as-new): tell its parent, if the parent still waits. */
export function notifyParent(cluster: Cluster, child: Execution, closeAttributes: Msg): void {
  if (!child.parent) return;
  const parent = cluster.findOpenRun(child.parent.namespace, child.parent.workflowId, child.parent.runId);
  const state = parent?.children.get(child.parent.initiatedEventId);
  const close = CHILD_CLOSE_EVENTS[child.status];
  if (!parent || !state || !close) return;
  parent.children.delete(state.initiatedEventId);
  const extra: Msg = {};
  for (const field of close.fields) extra[field] = closeAttributes[field];
  deliver(cluster, parent, [
    {
      type: close.type,
      attributes: () => ({
        namespace: state.namespace,
        workflowExecution: { workflowId: child.workflowId, runId: child.runId },
        workflowType: { name: state.workflowType },
        initiatedEventId: state.initiatedEventId,
        startedEventId: state.startedEventId,
        ...extra,
      }),
    },
  ]);
}

/** The parent closed: terminate or cancel its open children as each one's policy says. */
export function applyParentClosePolicy(cluster: Cluster, parent: Execution): void {
  const children = [...parent.children.values()];
  parent.children.clear();
  for (const child of children) {
    const run = cluster.findOpenRun(child.namespace, child.workflowId);
    if (!run || run.firstRunId !== firstRunOf(cluster, child)) continue;
    if (child.parentClosePolicy === 'PARENT_CLOSE_POLICY_ABANDON') continue;
    if (child.parentClosePolicy === 'PARENT_CLOSE_POLICY_REQUEST_CANCEL') {
      requestCancelWorkflow(cluster, run, { cause: 'by parent close policy', identity: 'temporal-test-service' });
    } else {
      terminateWorkflow(cluster, run, 'by parent close policy', undefined, 'temporal-test-service');
    }
  }
}

function firstRunOf(cluster: Cluster, child: ChildState): string | undefined {
  return cluster.findRun(child.namespace, child.workflowId, child.runId)?.firstRunId;
}

/** The failed event of a signal or cancel request to an external workflow that has no open run. */
function externalNotFound(
  type: string,
  operation: 'SIGNAL' | 'CANCEL',
  namespace: string,
  target: Msg,
  attributes: Msg,
  ids: { initiatedEventId: number; completedEventId: number },
): PendingEvent {
  return {
    type,
    attributes: () => ({
      cause: `${operation}_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND`,
      workflowTaskCompletedEventId: ids.completedEventId,
      namespace,
      workflowExecution: target,
      initiatedEventId: ids.initiatedEventId,
      control: attributes.control,
    }),
  };
}

export function signalExternal(
  cluster: Cluster,
  execution: Execution,
  attributes: Msg,
  completedEventId: number,
): void {
  const namespace = attributes.namespace || execution.namespace;
  const target = attributes.execution ?? {};
  const initiatedEventId = appendEvent(cluster, execution, 'SignalExternalWorkflowExecutionInitiated', {
    namespace,
    workflowExecution: target,
    signalName: attributes.signalName,
    input: attributes.input,
    control: attributes.control,
    childWorkflowOnly: attributes.childWorkflowOnly,
    header: attributes.header,
    workflowTaskCompletedEventId: completedEventId,
  });
  const run = cluster.findOpenRun(namespace, target.workflowId, target.runId);
  if (!run) {
    deliver(cluster, execution, [
      externalNotFound('SignalExternalWorkflowExecutionFailed', 'SIGNAL', namespace, target, attributes, {
        initiatedEventId,
        completedEventId,
      }),
    ]);
    return;
  }
  // As the real server: the signal names the sending run, and the sender's event the target as addressed.
  signalWorkflow(cluster, run, {
    signalName: attributes.signalName,
    input: attributes.input,
    header: attributes.header,
    identity: 'history-service',
    externalWorkflowExecution: { workflowId: execution.workflowId, runId: execution.runId },
  });
  deliver(cluster, execution, [
    {
      type: 'ExternalWorkflowExecutionSignaled',
      attributes: () => ({
        initiatedEventId,
        namespace,
        workflowExecution: target,
        control: attributes.control,
      }),
    },
  ]);
}

export function requestCancelExternal(
  cluster: Cluster,
  execution: Execution,
  attributes: Msg,
  completedEventId: number,
): void {
  const namespace = attributes.namespace || execution.namespace;
  const target = { workflowId: attributes.workflowId, runId: attributes.runId };
  const initiatedEventId = appendEvent(cluster, execution, 'RequestCancelExternalWorkflowExecutionInitiated', {
    namespace,
    workflowExecution: target,
    control: attributes.control,
    childWorkflowOnly: attributes.childWorkflowOnly,
    reason: attributes.reason,
    workflowTaskCompletedEventId: completedEventId,
  });
  const run = cluster.findOpenRun(namespace, target.workflowId, target.runId);
  if (!run || !isOpen(run)) {
    deliver(cluster, execution, [
      externalNotFound('RequestCancelExternalWorkflowExecutionFailed', 'CANCEL', namespace, target, attributes, {
        initiatedEventId,
        completedEventId,
      }),
    ]);
    return;
  }
  requestCancelWorkflow(cluster, run, {
    cause: attributes.reason,
    identity: `workflow:${execution.workflowId}`,
    externalInitiatedEventId: initiatedEventId,
    externalWorkflowExecution: { workflowId: execution.workflowId, runId: execution.runId },
  });
  deliver(cluster, execution, [
    {
      type: 'ExternalWorkflowExecutionCancelRequested',
      attributes: () => ({
        initiatedEventId,
        namespace,
        workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      }),
    },
  ]);
}
