// An app's reconcile pass `reconcile:<appId>`: one long activity that reads the target page by page
// (heartbeating its position, so a retry resumes where the last attempt stopped) and compares it
// with the links. Kept apart from the job workflow, whose history and replay it leaves untouched;
// the workflow id makes it one pass at a time per app.
import { proxyActivities } from '@temporalio/workflow';
import type { FerryActivities } from '../activities/types.ts';
import { reconcileActivity, shortActivity } from './activity-options.ts';
import type { ReconcileWorkflowInput } from './messages.ts';

const { reconcileApp } = proxyActivities<FerryActivities>(reconcileActivity);
const { failReconcilePass } = proxyActivities<FerryActivities>(shortActivity);

/** The root cause's message (an ActivityFailure wraps the activity's ApplicationFailure). */
function rootMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(error);
}

export async function reconcileWorkflow(input: ReconcileWorkflowInput) {
  try {
    return await reconcileApp(input);
  } catch (error) {
    await failReconcilePass({ passId: input.passId, error: rootMessage(error) });
    throw error;
  }
}
