// The job's state changes as webhook events. The job workflow keeps its state in its memory, so it
// announces each change through this activity; the outbox row and an idempotency mark are written in
// one transaction, so a retried attempt (its first one committed, then the worker died) adds nothing.
import { Context } from '@temporalio/activity';
import type { Store } from '../store/index.ts';
import type { JobStateChange } from './types.ts';

/** key_values namespace of the announcements already written (key: `<runId>:<activityId>`). */
export const ANNOUNCEMENTS_NAMESPACE = 'job-state-announcements';

/**
 * The announcement's identity: the scheduling workflow run and the activity's id in it, the same on
 * every retry. Outside a workflow (a standalone activity) the change itself stands for it.
 */
export function announcementId(change: JobStateChange): string {
  const info = Context.current().info;
  const runId = info.workflowExecution?.runId;
  if (runId) return `${runId}:${info.activityId}`;
  return `${change.appId}:${change.at}:${change.from}:${change.to}:${change.cause}`;
}

export async function announceJobState(
  store: Store,
  change: JobStateChange,
  id = announcementId(change),
): Promise<void> {
  const { appId, from, to, cause, at } = change;
  await store.transaction(async (tx) => {
    if (!(await tx.keyValues.setIfAbsent(ANNOUNCEMENTS_NAMESPACE, id, { appId, at }))) return;
    if (from !== to) {
      await tx.webhooks.emit({ appId, type: 'job.state_changed', data: { appId, from, to, cause, at } });
    }
    if (change.quarantineEntered) {
      await tx.webhooks.emit({ appId, type: 'quarantine.entered', data: { appId, ...change.quarantineEntered, at } });
    }
    if (change.quarantineLeft) {
      await tx.webhooks.emit({ appId, type: 'quarantine.left', data: { appId, ...change.quarantineLeft, at } });
    }
  });
}
