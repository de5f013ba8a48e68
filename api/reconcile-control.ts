// What the API needs to start an app's reconcile pass: its workflow `reconcile:<appId>`, one at a
// time per app (a pass already running answers 409), over @temporalio/client; names and ids come
// from workflows/messages.ts. Absent (no Temporal): POST /apps/{id}/reconcile answers 503.
// The schedule that starts passes on its own is in reconcile-schedule.ts.
import { randomUUID } from 'node:crypto';
import type { WorkflowClient } from '@temporalio/client';
import type { AppRecord, ReconcileMode, ReconcilePassRecord, Store } from '../store/index.ts';
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

/** The mode of a pass not told one: the app setting `driftRepair`. */
export function configuredMode(app: Pick<AppRecord, 'configuration'>): ReconcileMode {
  return (app.configuration as { driftRepair?: string }).driftRepair === 'repair' ? 'repair' : 'report';
}

/**
 * Writes the pass and starts its workflow; a pass that did not start is not kept (ApiError `conflict`
 * when one runs). Once started, earlier passes still shown running are marked failed.
 */
export async function startReconcilePass(
  store: Store,
  control: ReconcileControl,
  appId: string,
  mode: ReconcileMode,
): Promise<ReconcilePassRecord> {
  const pass = await store.reconcile.createPass({ id: randomUUID(), appId, mode });
  try {
    await control.start(appId, pass.id);
  } catch (error) {
    await store.reconcile.deletePass(pass.id);
    throw error;
  }
  await store.reconcile.failAbandoned(appId, pass.id);
  return pass;
}
