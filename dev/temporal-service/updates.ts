// Workflow Updates: UpdateWorkflowExecution / PollWorkflowExecutionUpdate, the update protocol
// messages a workflow task carries (`<updateId>/request` out; Acceptance, Rejection, Response back),
// and the two events an update leaves (WorkflowExecutionUpdateAccepted / …Completed). A rejected
// update leaves no history: it travels on a speculative workflow task whose events are written only
// when the task does more than reject (see workflow-tasks.ts).
//
// Lifecycle as on the real server: admitted (in memory) → sent (on a task) → accepted (event) →
// completed (event). Update ids are de-duplicated per run. A run that continues (continue-as-new,
// retry) hands updates the workflow has not accepted yet to the new run; a run that ends fails them
// with NOT_FOUND, or, once accepted, completes them with the server's failure.
import { notFound } from './errors.ts';
import type { Execution } from './execution.ts';
import { lookupType, type Msg } from './proto.ts';

/** UpdateWorkflowExecutionLifecycleStage, as numbers the client compares (`stage < ACCEPTED`). */
export const STAGE = {
  UNSPECIFIED: 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED',
  ADMITTED: 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED',
  ACCEPTED: 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED',
  COMPLETED: 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED',
} as const;
type Stage = (typeof STAGE)[keyof typeof STAGE];
const STAGE_ORDER: Stage[] = [STAGE.UNSPECIFIED, STAGE.ADMITTED, STAGE.ACCEPTED, STAGE.COMPLETED];
const rank = (stage: Stage): number => STAGE_ORDER.indexOf(stage);

/** The server's failure for an update accepted by a run that then closed (continue-as-new included). */
export const ACCEPTED_UPDATE_COMPLETED_WORKFLOW_FAILURE: Msg = {
  message: 'Workflow Update failed because the Workflow completed before the Update completed.',
  source: 'Server',
  applicationFailureInfo: { type: 'AcceptedUpdateCompletedWorkflow', nonRetryable: true },
};

/** The server's rejection of an update a worker was sent but neither accepted nor rejected. */
const UNPROCESSED_UPDATE_FAILURE: Msg = {
  message:
    "Workflow Update is rejected because it wasn't processed by worker. Probably, Workflow Update is not supported by the worker.",
  source: 'Server',
  applicationFailureInfo: { type: 'UnprocessedUpdate', nonRetryable: true },
};

export interface UpdateState {
  id: string;
  /** temporal.api.update.v1.Request as sent by the client. */
  request: Msg;
  state: 'admitted' | 'sent' | 'accepted' | 'completed';
  /** Generation of the workflow task that carried the request (state `sent`). */
  sentWith: number;
  acceptedEventId: number;
  outcome: Msg | undefined;
  /** Woken on every change of state, and with `moved`/`error` when the run closes. */
  waiters: Set<() => void>;
  /** The run continued before the workflow saw the update: it goes to the new run. */
  moved: boolean;
  /** The run ended before the workflow accepted the update. */
  error: Error | undefined;
}

const TYPE_PREFIX = 'type.googleapis.com/';

export function encodeAny(typeName: string, value: Msg): Msg {
  const Type = lookupType(typeName);
  return { type_url: TYPE_PREFIX + typeName, value: Type.encode(Type.fromObject(value)).finish() };
}

/** A protocol message body (google.protobuf.Any) as [type name, plain object]. */
export function decodeAny(any: Msg | undefined): [string, Msg] {
  const typeName = String(any?.typeUrl ?? any?.type_url ?? '').replace(/^.*\//, '');
  const Type = lookupType(typeName);
  const decoded = Type.toObject(Type.decode(Buffer.from(any?.value ?? [])), {
    longs: Number,
    enums: String,
    defaults: false,
  });
  return [typeName, decoded];
}

function wake(update: UpdateState): void {
  for (const waiter of [...update.waiters]) waiter();
}

/** Admits an update on an open run (or finds the one with the same id); a task will carry it. */
export function admitUpdate(execution: Execution, request: Msg): UpdateState {
  const id = String(request.meta?.updateId ?? '');
  const existing = execution.updates.get(id);
  if (existing) return existing;
  const update: UpdateState = {
    id,
    request,
    state: 'admitted',
    sentWith: -1,
    acceptedEventId: 0,
    outcome: undefined,
    waiters: new Set(),
    moved: false,
    error: undefined,
  };
  execution.updates.set(id, update);
  return update;
}

/** The stage an update has reached, and its outcome once completed. */
export function stageOf(update: UpdateState): { stage: Stage; outcome: Msg | undefined } {
  if (update.state === 'completed') return { stage: STAGE.COMPLETED, outcome: update.outcome };
  if (update.state === 'accepted') return { stage: STAGE.ACCEPTED, outcome: undefined };
  return { stage: STAGE.ADMITTED, outcome: undefined };
}

/**
 * Waits until the update reaches `wanted` (ACCEPTED or COMPLETED), the run moves it, or `signal`
 * aborts (the long poll's soft end: the caller answers with the stage reached so far).
 */
export function waitForStage(update: UpdateState, wanted: Stage, signal: AbortSignal): Promise<void> {
  const reached = (): boolean =>
    update.moved || update.error !== undefined || rank(stageOf(update).stage) >= rank(wanted) || signal.aborted;
  if (reached()) return Promise.resolve();
  return new Promise((resolve) => {
    const check = (): void => {
      if (!reached()) return;
      update.waiters.delete(check);
      signal.removeEventListener('abort', check);
      resolve();
    };
    update.waiters.add(check);
    signal.addEventListener('abort', check);
  });
}

/** Protocol messages carrying the run's admitted updates, for the task being started. */
export function outgoingMessages(execution: Execution, generation: number, startedEventId: number): Msg[] {
  const messages: Msg[] = [];
  for (const update of execution.updates.values()) {
    if (update.state !== 'admitted' && update.state !== 'sent') continue;
    update.state = 'sent';
    update.sentWith = generation;
    messages.push({
      id: `${update.id}/request`,
      protocolInstanceId: update.id,
      // As the real server: the event before WorkflowTaskStarted sequences the request.
      eventId: startedEventId - 1,
      body: encodeAny('temporal.api.update.v1.Request', update.request),
    });
  }
  return messages;
}

export function hasAdmittedUpdates(execution: Execution): boolean {
  for (const update of execution.updates.values()) if (update.state === 'admitted') return true;
  return false;
}

export type ProtocolMessage = { id: string; protocolInstanceId: string; type: string; body: Msg };

export function parseMessages(messages: Msg[] | undefined): ProtocolMessage[] {
  return (messages ?? []).map((message) => {
    const [type, body] = decodeAny(message.body);
    return { id: String(message.id), protocolInstanceId: String(message.protocolInstanceId ?? ''), type, body };
  });
}

/** Only rejections: a speculative task that did nothing else leaves no trace. */
export function onlyRejections(messages: ProtocolMessage[]): boolean {
  return messages.every((m) => m.type === 'temporal.api.update.v1.Rejection');
}

/**
 * Applies one protocol message from a completed task. Acceptance and Response write their events
 * through `append` (which returns the event id); a rejection completes the update with its failure
 * and writes nothing.
 */
export function applyMessage(
  execution: Execution,
  message: ProtocolMessage,
  append: (type: string, attributes: Msg) => number,
): void {
  const update = execution.updates.get(message.protocolInstanceId);
  if (!update) return;
  switch (message.type) {
    case 'temporal.api.update.v1.Acceptance': {
      if (update.state !== 'sent' && update.state !== 'admitted') return;
      update.acceptedEventId = append('WorkflowExecutionUpdateAccepted', {
        protocolInstanceId: update.id,
        acceptedRequestMessageId: `${update.id}/request`,
        acceptedRequestSequencingEventId: message.body.acceptedRequestSequencingEventId,
        acceptedRequest: update.request,
      });
      update.state = 'accepted';
      break;
    }
    case 'temporal.api.update.v1.Rejection': {
      if (update.state !== 'sent' && update.state !== 'admitted') return;
      // Rejected updates are forgotten: a poll for one answers NOT_FOUND, as on the real server.
      execution.updates.delete(update.id);
      update.state = 'completed';
      update.outcome = { failure: message.body.failure };
      break;
    }
    case 'temporal.api.update.v1.Response': {
      if (update.state !== 'accepted') return;
      append('WorkflowExecutionUpdateCompleted', {
        meta: message.body.meta,
        acceptedEventId: update.acceptedEventId,
        outcome: message.body.outcome,
      });
      update.state = 'completed';
      update.outcome = message.body.outcome;
      break;
    }
    default:
      return;
  }
  wake(update);
}

/** Updates the task carried that the worker answered neither way are rejected for it. */
export function rejectUnprocessed(execution: Execution, generation: number): void {
  for (const update of [...execution.updates.values()]) {
    if (update.state !== 'sent' || update.sentWith !== generation) continue;
    execution.updates.delete(update.id);
    update.state = 'completed';
    update.outcome = { failure: UNPROCESSED_UPDATE_FAILURE };
    wake(update);
  }
}

/** A failed or timed-out task: the updates it carried go out again with the next task. */
export function resendAfterFailure(execution: Execution): void {
  for (const update of execution.updates.values()) if (update.state === 'sent') update.state = 'admitted';
}

/**
 * The run closed. `continued`: a new run follows (continue-as-new, retry), and the updates the
 * workflow has not accepted move there; otherwise they fail with NOT_FOUND. Accepted updates
 * complete with the server's failure either way.
 */
export function closeUpdates(execution: Execution, continued: boolean): void {
  for (const update of [...execution.updates.values()]) {
    if (update.state === 'admitted' || update.state === 'sent') {
      execution.updates.delete(update.id);
      if (continued) update.moved = true;
      else update.error = notFound('workflow execution already completed');
    } else if (update.state === 'accepted') {
      update.state = 'completed';
      update.outcome = { failure: ACCEPTED_UPDATE_COMPLETED_WORKFLOW_FAILURE };
    } else {
      continue;
    }
    wake(update);
  }
}

/** The update with `id` on a run, open or closed (completed ones stay, for de-duplication and polls). */
export function findUpdate(execution: Execution, id: string): UpdateState | undefined {
  return execution.updates.get(id);
}
