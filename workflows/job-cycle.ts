// One cycle as the job runs it: the cycle child workflow `provisioning:<appId>:cycle:<n>`, stopped
// (after its batch in flight) when an interrupting intent arrives, and always answered with a summary.
import { ChildWorkflowFailure, condition, log, startChild } from '@temporalio/workflow';
import type { CycleSummary } from '../activities/types.ts';
import type { CycleKind } from '../engine/types.ts';
import { provisioningCycleWorkflow } from './cycle.ts';
import { failedCycleSummary, type CycleOptions } from './job-memory.ts';
import { cycleWorkflowId, stopCycleSignal } from './messages.ts';

export interface JobCycleRequest {
  appId: string;
  number: number;
  kind: CycleKind;
  watermark: number | null;
  deletionsApproved: boolean;
  deletionsRejected: boolean;
  options: CycleOptions;
  /** True once the cycle must stop (the job received an interrupting intent). */
  interrupted: () => boolean;
}

/**
 * Runs the cycle child to its end and returns its summary. A failed or terminated cycle, or a cycle
 * id still taken, is a whole-cycle failure (the job backs off); any other error fails the workflow task.
 */
export async function runJobCycle(request: JobCycleRequest): Promise<CycleSummary> {
  const { appId, number, kind } = request;
  const startedAt = new Date().toISOString();
  try {
    const child = await startChild(provisioningCycleWorkflow, {
      workflowId: cycleWorkflowId(appId, number),
      args: [
        {
          appId,
          cycleNumber: number,
          kind,
          watermark: kind === 'initial' ? null : request.watermark,
          deletionsApproved: request.deletionsApproved,
          deletionsRejected: request.deletionsRejected,
          ...request.options,
        },
      ],
    });
    const result = child.result();
    let ended = false;
    void result.then(
      () => (ended = true),
      () => (ended = true),
    );
    await condition(() => ended || request.interrupted());
    if (!ended) {
      try {
        await child.signal(stopCycleSignal);
      } catch (err) {
        // The cycle ended between the intent and the signal: its result stands.
        log.info('stopCycle not delivered; the cycle had ended', { appId, cycle: number, error: String(err) });
      }
    }
    return await result;
  } catch (err) {
    if (
      !(err instanceof ChildWorkflowFailure) &&
      !(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')
    )
      throw err;
    return failedCycleSummary(number, kind, startedAt, new Date(), err);
  }
}
