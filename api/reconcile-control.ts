// What the API needs to start an app's reconcile pass: its workflow `reconcile:<appId>`, one at a
// time per app (a pass already running answers 409), over @temporalio/client; names and ids come
// from workflows/messages.ts. Absent (no Temporal): POST /apps/{id}/reconcile answers 503.
import type { WorkflowClient } from '@temporalio/client';
import type { reconcileWorkflow } from '../workflows/reconcile.ts';
import {
  RECONCILE_WORKFLOW_TYPE,
  reconcileWorkflowId,
  TASK_QUEUE,
  type ReconcileWorkflowInput,
} from '../workflows/messages.ts';
import { ApiError } from './errors.ts';

export interface ReconcileControl {
  /** Starts the pass `passId` (its row already written); ApiError `conflict` when one is running. */
  start(appId: string, passId: string): Promise<void>;
}

export function createTemporalReconcileControl(client: WorkflowClient, taskQueue = TASK_QUEUE): ReconcileControl {
  return {
    async start(appId, passId) {
      try {
        // The default conflict policy refuses a second run of a running id; a finished one may run again.
        await client.start<typeof reconcileWorkflow>(RECONCILE_WORKFLOW_TYPE, {
          taskQueue,
          workflowId: reconcileWorkflowId(appId),
          args: [{ appId, passId } satisfies ReconcileWorkflowInput],
        });
      } catch (error) {
        const name = error instanceof Error ? error.name : '';
        if (name === 'WorkflowExecutionAlreadyStartedError') {
          throw new ApiError('conflict', `A reconcile pass of app ${appId} is already running`, { cause: error });
        }
        if (name === 'ServiceError' || name === 'TransportError') {
          throw new ApiError('unavailable', 'Temporal is unavailable', { cause: error });
        }
        throw error;
      }
    },
  };
}
