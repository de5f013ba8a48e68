// SourceControl over @temporalio/client: each source is its workflow `source:<sourceId>`; names
// and ids come from workflows/messages.ts.
import type { WorkflowClient } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowNotFoundError } from '@temporalio/common';
import type { sourceWorkflow } from '../workflows/source.ts';
import {
  SOURCE_WORKFLOW_TYPE,
  resumeSignal,
  sourceWorkflowId,
  syncSourceSignal,
  TASK_QUEUE,
  type SourceWorkflowInput,
} from '../workflows/messages.ts';
import { ApiError } from './errors.ts';
import type { SourceControl } from './source-control.ts';

const unavailable = (error: unknown): never => {
  if (error instanceof Error && (error.name === 'ServiceError' || error.name === 'TransportError')) {
    throw new ApiError('unavailable', 'Temporal is unavailable', { cause: error });
  }
  throw error;
};

export function createTemporalSourceControl(client: WorkflowClient, taskQueue = TASK_QUEUE): SourceControl {
  const options = (sourceId: string, input: SourceWorkflowInput) => ({
    taskQueue,
    workflowId: sourceWorkflowId(sourceId),
    args: [input] as [SourceWorkflowInput],
  });
  return {
    async ensure(sourceId, { quarantined = false } = {}) {
      const input: SourceWorkflowInput = quarantined ? { sourceId, quarantined, pending: null } : { sourceId };
      await client
        .start<typeof sourceWorkflow>(SOURCE_WORKFLOW_TYPE, {
          ...options(sourceId, input),
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        })
        .catch(unavailable);
    },
    async stop(sourceId) {
      try {
        await client.getHandle(sourceWorkflowId(sourceId)).terminate(`Source ${sourceId} deleted or disabled`);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError || (error as Error)?.name === 'WorkflowNotFoundError')) {
          unavailable(error);
        }
      }
    },
    async resume(sourceId) {
      await client
        .signalWithStart<typeof sourceWorkflow, []>(SOURCE_WORKFLOW_TYPE, {
          ...options(sourceId, { sourceId }),
          signal: resumeSignal,
          signalArgs: [],
        })
        .catch(unavailable);
    },
    async syncNow(sourceId, mode) {
      await client
        .signalWithStart<typeof sourceWorkflow, [{ mode: typeof mode }]>(SOURCE_WORKFLOW_TYPE, {
          ...options(sourceId, { sourceId, pending: null }),
          signal: syncSourceSignal,
          signalArgs: [{ mode }],
        })
        .catch(unavailable);
    },
  };
}
