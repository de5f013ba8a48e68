// The state of one workflow run, as the service keeps it in memory.
import type { History } from './history.ts';
import type { Msg } from './proto.ts';
import type { UpdateState } from './updates.ts';

/** An event waiting to be written: buffered while a workflow task is in flight. */
export interface PendingEvent {
  type: string;
  /** Computed when the event is written, so it can refer to ids written just before it. */
  attributes: () => Msg;
  onWritten?: (eventId: number) => void;
  /** Identifies a buffered event a later command may take back (`timer:<id>`). */
  key?: string;
}

export interface PendingQuery {
  id: string;
  query: Msg;
  resolve: (result: Msg) => void;
}

export interface WorkflowTask {
  state: 'none' | 'scheduled' | 'started' | 'completing';
  /** Bumped every time a task is scheduled; stale queue entries and tokens carry an older one. */
  generation: number;
  scheduledEventId: number;
  startedEventId: number;
  attempt: number;
  queue: string;
  sticky: boolean;
  scheduledTimeMs: number;
  /**
   * A speculative task (it carries updates only): its WorkflowTaskScheduled / Started events are not
   * in the history until the task does more than reject updates; `speculativeEvents` are the events
   * sent to the worker, written then.
   */
  speculative: boolean;
  speculativeEvents: Array<{ type: string; attributes: Msg }>;
  queries: PendingQuery[];
  cancelTimeout?: () => void;
}

export interface ActivityState {
  scheduledEventId: number;
  activityId: string;
  activityType: string;
  taskQueue: string;
  input: Msg | undefined;
  header: Msg | undefined;
  retryPolicy: Msg;
  scheduleToCloseMs: number | undefined;
  scheduleToStartMs: number | undefined;
  startToCloseMs: number | undefined;
  heartbeatMs: number | undefined;
  state: 'scheduled' | 'started' | 'backoff';
  attempt: number;
  scheduledTimeMs: number;
  attemptScheduledTimeMs: number;
  startedTimeMs: number;
  startedIdentity: string;
  heartbeatDetails: Msg | undefined;
  lastHeartbeatTimeMs: number;
  lastFailure: Msg | undefined;
  cancelRequestedEventId: number;
  /** Cancels the timers of the current attempt (schedule-to-start, start-to-close, heartbeat, backoff). */
  cancelAttemptTimers: Array<() => void>;
  cancelScheduleToClose?: () => void;
  cancelHeartbeatTimeout?: () => void;
}

export interface ChildState {
  initiatedEventId: number;
  startedEventId: number;
  namespace: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  parentClosePolicy: string;
}

export interface ParentRef {
  namespace: string;
  workflowId: string;
  runId: string;
  initiatedEventId: number;
}

export interface Execution {
  namespace: string;
  workflowId: string;
  runId: string;
  firstRunId: string;
  workflowType: string;
  taskQueue: string;
  status: string;
  startTimeMs: number;
  executionTimeMs: number;
  closeTimeMs: number | undefined;
  history: History;
  started: Msg;
  memo: Msg | undefined;
  searchAttributes: Msg | undefined;
  requestIds: Set<string>;
  parent: ParentRef | undefined;
  root: { workflowId: string; runId: string };
  workflowTaskTimeoutMs: number;
  wft: WorkflowTask;
  buffered: PendingEvent[];
  lastCompletedStartedEventId: number;
  sticky: { queue: string; scheduleToStartMs: number } | undefined;
  activities: Map<number, ActivityState>;
  timers: Map<string, { startedEventId: number; cancel: () => void }>;
  children: Map<number, ChildState>;
  /** Queries that arrived while a task was started; routed once it completes. */
  waitingQueries: PendingQuery[];
  /** Updates by id: in flight, and completed ones (kept for de-duplication and polls). */
  updates: Map<string, UpdateState>;
  /** Whether the history passed the warning limits (logged once per run). */
  warnedLimits: Set<string>;
  cancelRequested: boolean;
  newRunId: string | undefined;
  cancelTimeouts: Array<() => void>;
}

export function isOpen(execution: Execution): boolean {
  return execution.status === 'WORKFLOW_EXECUTION_STATUS_RUNNING';
}
