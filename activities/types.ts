// The contract between workflows/ and activities/: what each activity takes and returns.
// Workflows import these with `import type` only. Everything here is small plain JSON — ids,
// cursors and counts, never lists of users.
import type {
  CycleCounts,
  CycleKind,
  ErrorCode,
  ModifiedAttribute,
  ObjectType,
  ProvisioningAction,
} from '../engine/types.ts';
import type { ErrorKind } from '../engine/errors.ts';
import type { JobState } from '../engine/types.ts';

/** A failure that stopped a whole cycle (target unreachable, 401/403, non-SCIM answers). */
export interface CycleFailure {
  kind: ErrorKind;
  code: ErrorCode;
  message: string;
}

/**
 * `details[0]` of the ApplicationFailure an activity throws for a Ferry error (activities/failures.ts):
 * workflows read `code` from it when an activity fails for good. `type` is the error class name.
 */
export interface ActivityFailureDetails {
  kind: ErrorKind;
  code: ErrorCode;
  status: number | null;
}

export interface AppSummary {
  appId: string;
  appName: string;
  provisioningEnabled: boolean;
  cycleIntervalMinutes: number;
  /** Deletion threshold already resolved to a number of objects for this app. */
  notificationEmail: string | null;
  /** Changes whenever mappings/scoping change: a new value means an initial cycle is due. */
  configVersion: string;
  /**
   * The number the app's next cycle takes, from the database: a job re-created after a restart (or
   * terminated and started again) continues the cycle history instead of numbering from 1.
   * Absent in histories recorded before it existed.
   */
  nextCycleNumber?: number;
}

export interface BeginCycleInput {
  appId: string;
  cycleNumber: number;
  kind: CycleKind;
  /** Directory change-log sequence already provisioned; null for initial cycles. */
  watermark: number | null;
  /** Export disables/deletes even above the deletion threshold (after approveDeletions). */
  deletionsApproved: boolean;
  /** When set, staged deletions of the previous cycle are dropped (rejectDeletions). */
  deletionsRejected: boolean;
}

export interface BeginCycleResult {
  cycleId: string;
  /**
   * The cycle's number: the one asked for, unless that cycle had already finished (the job numbered
   * from an older state); then the app's next free number.
   */
  cycleNumber?: number;
  /** Objects staged for this cycle (users + groups). */
  total: number;
  /** Change-log sequence this cycle covers up to; saved as the watermark when the cycle ends. */
  watermarkTo: number;
}

export type CyclePhase = 'users' | 'groups' | 'references';

export interface ProcessBatchInput {
  appId: string;
  cycleId: string;
  phase: CyclePhase;
  /** Position in the cycle's staged work (exclusive); 0 at the start of a phase. */
  cursor: number;
  batchSize: number;
}

export interface ProcessBatchResult {
  nextCursor: number;
  /** Objects handled by this call (cumulative counts are kept in the cycle row). */
  processed: number;
  done: boolean;
  /** Set when the target failed in a way that stops the whole cycle. */
  failure: CycleFailure | null;
}

export interface DeletionGuardResult {
  /** Objects this cycle would disable or delete. */
  pendingDeletions: number;
  /** True when pendingDeletions exceeds the app's threshold: they are staged, not exported. */
  exceeded: boolean;
}

export interface CycleSummary {
  cycleId: string;
  cycleNumber: number;
  kind: CycleKind;
  /** `stopped`: the job interrupted the cycle between batches; the watermark is not advanced. */
  status: 'succeeded' | 'failed' | 'stopped';
  startedAt: string;
  endedAt: string;
  counts: CycleCounts;
  /** Operations attempted against the target in this cycle (for the failure-rate criterion). */
  operations: number;
  watermarkTo: number;
  failure: CycleFailure | null;
  pendingDeletions: number;
  deletionThresholdExceeded: boolean;
}

export interface NotifyInput {
  appId: string;
  to: string;
  subject: string;
  text: string;
  /** Idempotency key: the same notification is sent at most once. */
  notificationId: string;
}

/**
 * What a finished reconcile pass found: per kind (`edited`, `deleted`, `orphan`) and per outcome, the
 * groups' alone again as `group.<kind>` / `group.<outcome>`, and `accounts` and `groups` read.
 */
export interface ReconcileSummary {
  passId: string;
  counts: Record<string, number>;
}

export interface OnDemandInput {
  appId: string;
  requestId: string;
  objectType: ObjectType;
  objectId: string;
}

export interface OnDemandStep {
  name: 'testConnection' | 'import' | 'scoping' | 'matching' | 'action';
  status: 'Success' | 'Failure' | 'Skipped' | 'Warning';
  details: Record<string, unknown>;
}

export interface OnDemandReport {
  requestId: string;
  objectType: ObjectType;
  objectId: string;
  action: ProvisioningAction;
  status: 'Success' | 'Failure' | 'Skipped' | 'Warning';
  targetId: string | null;
  steps: OnDemandStep[];
  modifiedAttributes: ModifiedAttribute[];
  /** Group on-demand: one report line per member provisioned with it. */
  members?: { objectId: string; action: ProvisioningAction; status: string; targetId: string | null }[];
  /** The SCIM requests made: method, path and status only (bodies stay out of workflow histories). */
  requests: { method: string; path: string; status: number | null }[];
  /** How much it did: SCIM requests, members provisioned with a group, and how many of them failed. */
  counts: { requests: number; members: number; membersFailed: number };
  /** Id of the provisioning log entry of the object (GET /apps/{id}/logs/{logId} has every step). */
  logId: string | null;
  durationMs: number;
}

/** A quarantine as the job's status shows it (workflows/messages.ts QuarantineStatus). */
export interface AnnouncedQuarantine {
  reason: string;
  since: string;
  /** The admin's words for a manual quarantine. */
  message?: string;
}

/**
 * What the job tells webhook subscribers after acting on an intent or a cycle: `job.state_changed`
 * when `from` and `to` differ, `quarantine.entered` / `quarantine.left` when the job got or lost a
 * quarantine (also while paused, when the state shows `paused` either way).
 */
export interface JobStateChange {
  appId: string;
  from: JobState;
  to: JobState;
  /** What changed it: the intent the job acted on, `cycle` (a cycle's outcome) or `start` (the app reloaded). */
  cause: string;
  /** The job's clock (ISO). */
  at: string;
  /** The quarantine the job entered (it had none before). */
  quarantineEntered: AnnouncedQuarantine | null;
  /** The quarantine the job left (it has none now). */
  quarantineLeft: AnnouncedQuarantine | null;
}

/** Every activity Ferry registers. Implemented by `createActivities(deps)` in activities/index.ts. */
export interface RetentionInput {
  /** ISO time the maintenance run counts from (the workflow's clock, so tests can move it forward). */
  now: string;
}

/** Rows deleted by each retention step of one maintenance run. */
export interface RetentionSummary {
  provisioningLogs: number;
  directoryChanges: number;
  cycleWork: number;
  auditLog: number;
  /** Webhook events (with their delivery log) dispatched before the log retention period. */
  webhooks: number;
  /** The job's marks of state changes already announced, older than a week. */
  announcements: number;
  /** The step-by-step progress of on-demand requests, a week after it last changed. */
  onDemandProgress: number;
}

export interface FerryActivities {
  loadApp(input: { appId: string }): Promise<AppSummary>;
  /** Test connection before a cycle; a configuration failure stops the cycle early. */
  checkTarget(input: { appId: string }): Promise<CycleFailure | null>;
  beginCycle(input: BeginCycleInput): Promise<BeginCycleResult>;
  deletionGuard(input: { appId: string; cycleId: string; deletionsApproved: boolean }): Promise<DeletionGuardResult>;
  processBatch(input: ProcessBatchInput): Promise<ProcessBatchResult>;
  /**
   * Closes the cycle. The cycle workflow calls beginCycle even when checkTarget reported a failure (so the
   * failed cycle is recorded), then finishCycle with that failure: a failed cycle keeps the old watermark.
   * `stopped`: the job interrupted the cycle (no failure); it keeps the old watermark too.
   */
  finishCycle(input: {
    appId: string;
    cycleId: string;
    failure: CycleFailure | null;
    stopped?: boolean;
  }): Promise<CycleSummary>;
  /** Restart: clear watermark-related state, escrows, and (full) links. */
  resetApp(input: { appId: string; reset: 'watermark' | 'full' }): Promise<void>;
  provisionOnDemand(input: OnDemandInput): Promise<OnDemandReport>;
  notify(input: NotifyInput): Promise<void>;
  /** Maintenance: deletes expired logs, compacts directory changes, removes finished cycles' work (batched). */
  applyRetention(input: RetentionInput): Promise<RetentionSummary>;
  /** Webhooks: writes the job's state change to the outbox, once per change however often it is retried. */
  announceJobState(change: JobStateChange): Promise<void>;
  /** Webhooks: fans new outbox events out to their subscriptions; the ids of every pending delivery. */
  dispatchWebhooks(): Promise<string[]>;
  /** Webhooks: POSTs one delivery, signed; throws (transient) for Temporal to retry a failed attempt. */
  /**
   * Reconcile: reads the target's users page by page and compares them with the links, recording
   * drift (and, in repair mode, restoring edits and re-creating deleted accounts); resumable from its
   * heartbeat. Finishes the pass and returns its counts.
   */
  reconcileApp(input: { appId: string; passId: string }): Promise<ReconcileSummary>;
  /** Marks a pass that could not finish as failed (the workflow's last word). */
  failReconcilePass(input: { passId: string; error: string }): Promise<void>;
  deliverWebhook(input: {
    deliveryId: string;
  }): Promise<{ status: 'delivered' | 'failed' | 'skipped'; responseStatus: number | null }>;
}
