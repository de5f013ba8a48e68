// On-demand provisioning as the job runs it: the Update's validator and handler, and the signal form
// it superseded (still handled, so histories and signals sent before the Update replay). Each request
// runs as a child workflow `provisioning:<appId>:ondemand:<requestId>`, so a request id provisions once.
import {
  ApplicationFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  condition,
  log,
  startChild,
} from '@temporalio/workflow';
import type { OnDemandReport } from '../activities/types.ts';
import { provisionOnDemandWorkflow } from './on-demand.ts';
import { onDemandWorkflowId, type OnDemandRequest } from './messages.ts';

const childOptions = {
  // The caller awaits the child by id; it must outlive this run of the job (and app deletion ends it by id).
  parentClosePolicy: ParentClosePolicy.ABANDON,
  // The request id names one provisioning: a repeated request must not provision twice.
  workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
};

/** Rejects (before anything is written) a malformed request, or one for a job that is ending. */
export function validateOnDemand(request: OnDemandRequest, ended: boolean): void {
  const bad = (message: string): never => {
    throw ApplicationFailure.create({ type: 'OnDemandInvalid', message, nonRetryable: true });
  };
  if (!request || typeof request !== 'object') bad('the request is missing');
  if (typeof request.requestId !== 'string' || request.requestId === '') bad('requestId must be a non-empty string');
  if (request.objectType !== 'user' && request.objectType !== 'group') bad('objectType must be user or group');
  if (typeof request.objectId !== 'string' || request.objectId === '') bad('objectId must be a non-empty string');
  if (ended) {
    throw ApplicationFailure.create({
      type: 'JobEnding',
      message: 'the job is ending: its app no longer exists',
      nonRetryable: true,
    });
  }
}

/**
 * Runs the on-demand child and answers with its report. A failed child becomes an ApplicationFailure of
 * the root cause's type (ObjectBusy, TooManyMembers, TransientError, …); a request id that already ran
 * (an earlier run of the job) fails with `OnDemandAlreadyStarted`, and the caller reads that child's result.
 */
export async function provisionOnDemandNow(appId: string, request: OnDemandRequest): Promise<OnDemandReport> {
  let child;
  try {
    child = await startChild(provisionOnDemandWorkflow, {
      workflowId: onDemandWorkflowId(appId, request.requestId),
      args: [{ appId, requestId: request.requestId, objectType: request.objectType, objectId: request.objectId }],
      ...childOptions,
    });
  } catch (err) {
    if (err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError') {
      throw ApplicationFailure.create({
        type: 'OnDemandAlreadyStarted',
        message: `on-demand request ${request.requestId} already ran`,
        nonRetryable: true,
      });
    }
    throw err;
  }
  try {
    return await child.result();
  } catch (err) {
    let root: unknown = err;
    while (root instanceof Error && root.cause instanceof Error) root = root.cause;
    const type = root instanceof ApplicationFailure && root.type ? root.type : 'TransientError';
    const message = root instanceof Error ? root.message : String(root);
    const details = root instanceof ApplicationFailure ? root.details : undefined;
    throw ApplicationFailure.create({ type, message, nonRetryable: true, details: details ?? undefined });
  }
}

/**
 * Starts a child for each request the superseded signal queued, in order, at once (even while a cycle
 * runs: the activity serializes per object). `busy` tells the job a start is in flight, so it does not
 * continue-as-new in the middle of one.
 */
export async function dispatchSignalledOnDemand(
  appId: string,
  queue: OnDemandRequest[],
  busy: (inFlight: boolean) => void,
): Promise<never> {
  for (;;) {
    await condition(() => queue.length > 0);
    busy(true);
    const request = queue[0];
    try {
      await startChild(provisionOnDemandWorkflow, {
        workflowId: onDemandWorkflowId(appId, request.requestId),
        args: [{ appId, ...request }],
        ...childOptions,
      });
    } catch (err) {
      // A repeated signal for the same request: the first child answers it. Anything else is logged
      // and the request dropped: one bad request must not stop the job.
      if (!(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')) {
        log.warn('on-demand child not started', { appId, requestId: request.requestId, error: String(err) });
      }
    }
    queue.shift();
    busy(false);
  }
}
