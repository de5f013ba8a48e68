// The maintenance run's retention: each step deletes what Ferry no longer needs, in batches of
// BATCH_ROWS rows (one short transaction each), heartbeating between batches so a long first run
// (a year of logs) is watched, and idempotent: a retried run deletes what is left.
import { heartbeat as temporalHeartbeat } from '@temporalio/activity';
import {
  ANNOUNCEMENT_MARK_DAYS,
  cycleWorkCutoff,
  DEFAULT_LOG_RETENTION_DAYS,
  logCutoff,
  ON_DEMAND_PROGRESS_DAYS,
} from '../engine/policies/retention.ts';
import {
  DEFAULT_AUDIT_RETENTION_DAYS,
  DELETED_APP_LOGS_NAMESPACE,
  type DeletedAppLogs,
  type Store,
} from '../store/index.ts';
import { ANNOUNCEMENTS_NAMESPACE } from './job-events.ts';
import type { RetentionInput, RetentionSummary } from './types.ts';

/** Rows per delete statement (one transaction). */
const BATCH_ROWS = 5_000;

function heartbeat(details: unknown): void {
  try {
    temporalHeartbeat(details);
  } catch {
    // Not inside an activity (direct calls in tests): nothing to report to.
  }
}

/** Runs `batch` until it deletes fewer than a full batch; returns how many rows it deleted. */
async function untilDone(step: string, batch: (limit: number) => Promise<number>, limit = BATCH_ROWS): Promise<number> {
  let deleted = 0;
  for (;;) {
    const n = await batch(limit);
    deleted += n;
    heartbeat({ step, deleted });
    if (n < limit) return deleted;
  }
}

interface RetentionStep {
  name: keyof RetentionSummary;
  run(store: Store, now: Date): Promise<number>;
}

/**
 * Provisioning logs: each app's entries older than its `retention.logDays` (default 30). A deleted
 * app's logs stay for the days it had (remembered at deletion), then the memory of it goes too; logs
 * of an app nothing is known of (deleted before Ferry kept that memory) get the default.
 */
async function deleteExpiredLogs(store: Store, now: Date): Promise<number> {
  let deleted = 0;
  const kept = new Map(
    (await store.keyValues.list(DELETED_APP_LOGS_NAMESPACE)).map((e) => [e.key, e.value as DeletedAppLogs]),
  );
  for (const appId of await store.retention.logAppIds()) {
    const app = await store.apps.get(appId);
    const days =
      (app?.configuration as { retention?: { logDays?: number } } | undefined)?.retention?.logDays ??
      kept.get(appId)?.logDays ??
      DEFAULT_LOG_RETENTION_DAYS;
    const before = logCutoff(now, days);
    deleted += await untilDone('provisioningLogs', (limit) => store.retention.deleteLogsBefore(appId, before, limit));
  }
  // A deleted app whose last entries are gone is forgotten.
  const remaining = new Set(await store.retention.logAppIds());
  for (const appId of kept.keys()) {
    if (!remaining.has(appId)) await store.keyValues.delete(DELETED_APP_LOGS_NAMESPACE, appId);
  }
  return deleted;
}

/** Directory changes below the lowest watermark of every app and running cycle. */
async function compactDirectoryChanges(store: Store): Promise<number> {
  const bound = await store.retention.changesCompactionBound();
  if (bound === null) return 0;
  return untilDone('directoryChanges', (limit) => store.retention.deleteChangesBelow(bound, limit));
}

/**
 * Staged work of cycles that ended more than an hour ago (held deletions stay), and their listings of
 * the target (initial cycles' matching, activities/target-listing.ts).
 */
async function deleteFinishedCycleWork(store: Store, now: Date): Promise<number> {
  const before = cycleWorkCutoff(now);
  const listings = await untilDone('cycleWork', (limit) => store.retention.deleteFinishedTargetListings(before, limit));
  return listings + (await untilDone('cycleWork', (limit) => store.retention.deleteFinishedCycleWork(before, limit)));
}

/** Audit entries older than DEFAULT_AUDIT_RETENTION_DAYS (a year: longer than provisioning logs). */
async function deleteExpiredAuditEntries(store: Store, now: Date): Promise<number> {
  const deleted = await store.audit.deleteOlderThan(logCutoff(now, DEFAULT_AUDIT_RETENTION_DAYS), {
    batchSize: BATCH_ROWS,
  });
  heartbeat({ step: 'auditLog', deleted });
  return deleted;
}

/** Webhook events and their delivery log, kept as long as provisioning logs by default. */
async function deleteDeliveredWebhookEvents(store: Store, now: Date): Promise<number> {
  const before = logCutoff(now, DEFAULT_LOG_RETENTION_DAYS);
  return untilDone('webhooks', (limit) => store.retention.deleteDeliveredWebhookEvents(before, limit));
}

/** The job's marks of announced state changes, once no retry of their announcement can come. */
async function deleteAnnouncementMarks(store: Store, now: Date): Promise<number> {
  const before = logCutoff(now, ANNOUNCEMENT_MARK_DAYS);
  return untilDone('announcements', (limit) =>
    store.keyValues.deleteUpdatedBefore(ANNOUNCEMENTS_NAMESPACE, before, limit),
  );
}

/** On-demand requests' progress (store/on-demand-progress.ts), a week after it last changed. */
async function deleteOnDemandProgress(store: Store, now: Date): Promise<number> {
  const before = logCutoff(now, ON_DEMAND_PROGRESS_DAYS);
  return untilDone('onDemandProgress', (limit) => store.onDemandProgress.deleteUpdatedBefore(before, limit));
}

/** Every retention step, in order — the one place a new kind of data gets its retention. */
export const RETENTION_STEPS: readonly RetentionStep[] = [
  { name: 'provisioningLogs', run: deleteExpiredLogs },
  { name: 'directoryChanges', run: compactDirectoryChanges },
  { name: 'cycleWork', run: deleteFinishedCycleWork },
  { name: 'auditLog', run: deleteExpiredAuditEntries },
  { name: 'webhooks', run: deleteDeliveredWebhookEvents },
  { name: 'announcements', run: deleteAnnouncementMarks },
  { name: 'onDemandProgress', run: deleteOnDemandProgress },
];

/** The applyRetention activity: every step at `input.now` (the workflow's clock); rows deleted per step. */
export async function applyRetention(store: Store, input: RetentionInput): Promise<RetentionSummary> {
  const now = new Date(input.now);
  const summary: RetentionSummary = {
    provisioningLogs: 0,
    directoryChanges: 0,
    cycleWork: 0,
    auditLog: 0,
    webhooks: 0,
    announcements: 0,
    onDemandProgress: 0,
  };
  for (const step of RETENTION_STEPS) summary[step.name] = await step.run(store, now);
  return summary;
}
