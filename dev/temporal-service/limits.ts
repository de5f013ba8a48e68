// The real server's size limits, with its defaults and its errors (dynamic config `limit.*`):
// - history: continue-as-new is suggested from 4,096 events (or 4 MB);
// - history: a warning in the log past 10,240 events or 10 MB; past 51,200 events or 50 MB the next
//   change to the run terminates it instead ("Workflow history count exceeds limit." /
//   "Workflow history size exceeds limit.", identity `history-service`), and the call that made the
//   change gets INVALID_ARGUMENT with that reason;
// - payloads (blobs): 2 MB each (warning past 512 KB). A client call carrying a larger one gets
//   INVALID_ARGUMENT "Blob data size exceeds limit."; a workflow task whose command carries one fails
//   (cause BAD_…_ATTRIBUTES) and the run is terminated with "<Cause>: <Attributes>.<Field> exceeds
//   size limit.".
import { invalidArgument } from './errors.ts';
import type { Execution } from './execution.ts';
import { lookupType, type Msg } from './proto.ts';

export interface ServiceLimits {
  /** Events from which WorkflowTaskStarted suggests continue-as-new (`limit.historyCount.suggestContinueAsNew`). */
  historyCountSuggestContinueAsNew: number;
  historyCountWarn: number;
  historyCountError: number;
  historySizeWarn: number;
  historySizeError: number;
  blobSizeWarn: number;
  blobSizeError: number;
}

const MB = 1024 * 1024;

/** The real server's defaults (limit.historyCount.*, limit.historySize.*, limit.blobSize.*). */
export const DEFAULT_LIMITS: ServiceLimits = {
  historyCountSuggestContinueAsNew: 4096,
  historyCountWarn: 10_240,
  historyCountError: 51_200,
  historySizeWarn: 10 * MB,
  historySizeError: 50 * MB,
  blobSizeWarn: 512 * 1024,
  blobSizeError: 2 * MB,
};

export const HISTORY_COUNT_EXCEEDS_LIMIT = 'Workflow history count exceeds limit.';
export const HISTORY_SIZE_EXCEEDS_LIMIT = 'Workflow history size exceeds limit.';
export const BLOB_SIZE_EXCEEDS_LIMIT = 'Blob data size exceeds limit.';

const Payloads = lookupType('temporal.api.common.v1.Payloads');
const Payload = lookupType('temporal.api.common.v1.Payload');

/** Encoded size of a Payloads message (what the server measures). */
export function payloadsSize(payloads: Msg | undefined | null): number {
  if (!payloads) return 0;
  return Payloads.encode(Payloads.fromObject(payloads)).finish().length;
}

/** Encoded size of a map of Payloads (marker details) or of Payload (memo-like fields). */
function mapSize(map: Record<string, Msg> | undefined | null, type: 'payloads' | 'payload'): number {
  let size = 0;
  for (const value of Object.values(map ?? {})) {
    size += type === 'payloads' ? payloadsSize(value) : Payload.encode(Payload.fromObject(value)).finish().length;
  }
  return size;
}

/** Throws the server's INVALID_ARGUMENT when a payload a client sends is over the blob limit. */
export function checkBlob(limits: ServiceLimits, payloads: Msg | undefined | null): void {
  if (payloadsSize(payloads) > limits.blobSizeError) throw invalidArgument(BLOB_SIZE_EXCEEDS_LIMIT);
}

/** The reason a run must end now (it is past an error limit), or undefined. */
export function historyOverLimit(limits: ServiceLimits, execution: Execution): string | undefined {
  if (execution.history.lastEventId > limits.historyCountError) return HISTORY_COUNT_EXCEEDS_LIMIT;
  if (execution.history.sizeBytes > limits.historySizeError) return HISTORY_SIZE_EXCEEDS_LIMIT;
  return undefined;
}

/** Logs once per run when its history passes a warning limit (the server logs these lines). */
export function warnHistory(limits: ServiceLimits, execution: Execution, warn: (line: string) => void): void {
  const { lastEventId, sizeBytes } = execution.history;
  const checks: Array<[string, boolean, string]> = [
    ['count', lastEventId > limits.historyCountWarn, `history count exceeds warn limit. events=${lastEventId}`],
    ['size', sizeBytes > limits.historySizeWarn, `history size exceeds warn limit. bytes=${sizeBytes}`],
  ];
  for (const [kind, over, line] of checks) {
    if (!over || execution.warnedLimits.has(kind)) continue;
    execution.warnedLimits.add(kind);
    warn(`${line} workflowId=${execution.workflowId} runId=${execution.runId}`);
  }
}

const COMMAND_PAYLOADS: Record<string, { attributes: string; field: string; cause: string; size: (a: Msg) => number }> =
  {
    COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK: {
      attributes: 'scheduleActivityTaskCommandAttributes',
      field: 'ScheduleActivityTaskCommandAttributes.Input',
      cause: 'WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES',
      size: (a) => payloadsSize(a.input),
    },
    COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION: {
      attributes: 'completeWorkflowExecutionCommandAttributes',
      field: 'CompleteWorkflowExecutionCommandAttributes.Result',
      // Sic: the real server (1.29) gives an oversized result the activity cause; limits.test.ts checks it.
      cause: 'WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES',
      size: (a) => payloadsSize(a.result),
    },
    COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION: {
      attributes: 'continueAsNewWorkflowExecutionCommandAttributes',
      field: 'ContinueAsNewWorkflowExecutionCommandAttributes.Input',
      cause: 'WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES',
      size: (a) => payloadsSize(a.input),
    },
    COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION: {
      attributes: 'startChildWorkflowExecutionCommandAttributes',
      field: 'StartChildWorkflowExecutionCommandAttributes.Input',
      cause: 'WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES',
      size: (a) => payloadsSize(a.input),
    },
    COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION: {
      attributes: 'signalExternalWorkflowExecutionCommandAttributes',
      field: 'SignalExternalWorkflowExecutionCommandAttributes.Input',
      cause: 'WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES',
      size: (a) => payloadsSize(a.input),
    },
    COMMAND_TYPE_RECORD_MARKER: {
      attributes: 'recordMarkerCommandAttributes',
      field: 'RecordMarkerCommandAttributes.Details',
      cause: 'WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES',
      size: (a) => mapSize(a.details, 'payloads'),
    },
  };

/** `WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES` → `BadScheduleActivityAttributes`. */
function causeName(cause: string): string {
  return cause
    .replace('WORKFLOW_TASK_FAILED_CAUSE_', '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

/** The first command carrying a payload over the blob limit: the task fails and the run ends. */
export function oversizedCommand(
  limits: ServiceLimits,
  commands: Msg[],
): { cause: string; message: string; reason: string } | undefined {
  for (const command of commands) {
    const rule = COMMAND_PAYLOADS[command.commandType];
    if (!rule) continue;
    if (rule.size(command[rule.attributes] ?? {}) <= limits.blobSizeError) continue;
    const message = `${rule.field} exceeds size limit.`;
    return { cause: rule.cause, message, reason: `${causeName(rule.cause)}: ${message}` };
  }
  return undefined;
}
