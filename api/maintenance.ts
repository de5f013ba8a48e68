// The maintenance workflow (retention, workflows/maintenance.ts) is ensured at every start of Ferry
// and with the provisioning jobs after that, like them: started when missing, left alone when running.
import type { WorkflowClient } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { maintenanceWorkflow } from '../workflows/maintenance.ts';
import type { webhooksWorkflow } from '../workflows/webhooks.ts';
import {
  MAINTENANCE_WORKFLOW_ID,
  MAINTENANCE_WORKFLOW_TYPE,
  TASK_QUEUE,
  WEBHOOKS_WORKFLOW_ID,
  WEBHOOKS_WORKFLOW_TYPE,
} from '../workflows/messages.ts';

export async function ensureMaintenanceWorkflow(client: WorkflowClient, taskQueue: string = TASK_QUEUE): Promise<void> {
  await client.start<typeof maintenanceWorkflow>(MAINTENANCE_WORKFLOW_TYPE, {
    workflowId: MAINTENANCE_WORKFLOW_ID,
    taskQueue,
    args: [{}],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
}

/** The webhook dispatcher (workflows/webhooks.ts), ensured with the maintenance workflow. */
export async function ensureWebhooksWorkflow(client: WorkflowClient, taskQueue: string = TASK_QUEUE): Promise<void> {
  await client.start<typeof webhooksWorkflow>(WEBHOOKS_WORKFLOW_TYPE, {
    workflowId: WEBHOOKS_WORKFLOW_ID,
    taskQueue,
    args: [{}],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
}
