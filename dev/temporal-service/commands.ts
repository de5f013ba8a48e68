// Commands from a completed workflow task, each turned into history events and state changes.
import { requestCancelActivity, scheduleActivity } from './activities.ts';
import { requestCancelExternal, signalExternal, startChild } from './children.ts';
import type { Cluster } from './cluster.ts';
import type { Execution } from './execution.ts';
import { closeExecution, continueAsNew, failWorkflow } from './lifecycle.ts';
import type { Msg } from './proto.ts';
import { cancelTimer, startTimer } from './timers.ts';
import { appendEvent } from './workflow-tasks.ts';

const CLOSE_COMMANDS = new Set([
  'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION',
]);

export function isCloseCommand(command: Msg): boolean {
  return CLOSE_COMMANDS.has(command.commandType);
}

const loggedUnknown = new Set<string>();

export function applyCommands(
  cluster: Cluster,
  execution: Execution,
  commands: Msg[],
  completedEventId: number,
  identity: string,
  onProtocolMessage: (messageId: string) => void = () => undefined,
): void {
  for (const command of commands) {
    if (command.commandType === 'COMMAND_TYPE_PROTOCOL_MESSAGE') {
      // An update's acceptance or response, in its place among the commands.
      onProtocolMessage(String(command.protocolMessageCommandAttributes?.messageId ?? ''));
      continue;
    }
    applyCommand(cluster, execution, command, completedEventId, identity);
    if (execution.closeTimeMs !== undefined) return;
  }
}

function applyCommand(
  cluster: Cluster,
  execution: Execution,
  command: Msg,
  completedEventId: number,
  identity: string,
): void {
  const wftId = { workflowTaskCompletedEventId: completedEventId };
  switch (command.commandType) {
    case 'COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK':
      return scheduleActivity(cluster, execution, command.scheduleActivityTaskCommandAttributes, completedEventId);
    case 'COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK':
      return requestCancelActivity(
        cluster,
        execution,
        command.requestCancelActivityTaskCommandAttributes,
        completedEventId,
      );
    case 'COMMAND_TYPE_START_TIMER':
      return startTimer(cluster, execution, command.startTimerCommandAttributes, completedEventId);
    case 'COMMAND_TYPE_CANCEL_TIMER':
      return cancelTimer(cluster, execution, command.cancelTimerCommandAttributes, completedEventId, identity);
    case 'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION':
      return closeExecution(cluster, execution, 'WorkflowExecutionCompleted', 'WORKFLOW_EXECUTION_STATUS_COMPLETED', {
        result: command.completeWorkflowExecutionCommandAttributes?.result,
        ...wftId,
      });
    case 'COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION':
      return failWorkflow(
        cluster,
        execution,
        command.failWorkflowExecutionCommandAttributes?.failure,
        completedEventId,
      );
    case 'COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION':
      return closeExecution(cluster, execution, 'WorkflowExecutionCanceled', 'WORKFLOW_EXECUTION_STATUS_CANCELED', {
        details: command.cancelWorkflowExecutionCommandAttributes?.details,
        ...wftId,
      });
    case 'COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION':
      return continueAsNew(
        cluster,
        execution,
        command.continueAsNewWorkflowExecutionCommandAttributes ?? {},
        completedEventId,
      );
    case 'COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION':
      return startChild(cluster, execution, command.startChildWorkflowExecutionCommandAttributes, completedEventId);
    case 'COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION':
      return signalExternal(
        cluster,
        execution,
        command.signalExternalWorkflowExecutionCommandAttributes,
        completedEventId,
      );
    case 'COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION':
      return requestCancelExternal(
        cluster,
        execution,
        command.requestCancelExternalWorkflowExecutionCommandAttributes,
        completedEventId,
      );
    case 'COMMAND_TYPE_RECORD_MARKER': {
      const attributes = command.recordMarkerCommandAttributes ?? {};
      appendEvent(cluster, execution, 'MarkerRecorded', { ...attributes, ...wftId });
      return;
    }
    case 'COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES': {
      const searchAttributes = command.upsertWorkflowSearchAttributesCommandAttributes?.searchAttributes ?? {};
      execution.searchAttributes = mergeFields(execution.searchAttributes, searchAttributes, 'indexedFields');
      appendEvent(cluster, execution, 'UpsertWorkflowSearchAttributes', { searchAttributes, ...wftId });
      return;
    }
    case 'COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES': {
      const upsertedMemo = command.modifyWorkflowPropertiesCommandAttributes?.upsertedMemo ?? {};
      execution.memo = mergeFields(execution.memo, upsertedMemo, 'fields');
      appendEvent(cluster, execution, 'WorkflowPropertiesModified', { upsertedMemo, ...wftId });
      return;
    }
    default:
      if (!loggedUnknown.has(command.commandType)) {
        loggedUnknown.add(command.commandType);
        console.warn(`[temporal-service] command ${command.commandType} is not supported; ignored`);
      }
  }
}

/** Upserts map entries; an entry with an empty payload (no data) removes the key, as the server does. */
function mergeFields(current: Msg | undefined, update: Msg, field: 'fields' | 'indexedFields'): Msg {
  const merged: Msg = { ...(current?.[field] ?? {}) };
  for (const [key, payload] of Object.entries((update[field] ?? {}) as Record<string, Msg>)) {
    const data = payload?.data as Uint8Array | undefined;
    const isNull =
      !data ||
      data.length === 0 ||
      Buffer.from(data).toString('utf8') === 'null' ||
      Buffer.from(data).toString('utf8') === '[]';
    if (isNull) delete merged[key];
    else merged[key] = payload;
  }
  return { [field]: merged };
}
