// The contract between workflows/ and activities/: what each activity takes and returns.
// Workflows import these with `import type` only. Everything here is small plain JSON — ids,
// cursors and counts, never lists of users (DESIGN.md §5).
import type {
  CycleCounts,
  CycleKind,
  ErrorCode,
  LogStep,
  ModifiedAttribute,
  ObjectType,
  ProvisioningAction,
} from '../engine/types.ts';
import type { ErrorKind } from '../engine/errors.ts';

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

export interface CycleProgress {
  processed: number;
  total: number;
}

export interface NotifyInput {
  appId: string;
  to: string;
  subject: string;
  text: string;
  /** Idempotency key: the same notification is sent at most once. */
  notificationId: string;
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
  /** The SCIM requests made (method + path + body without secrets). */
  requests: { method: string; path: string; status: number | null; body?: unknown }[];
  logSteps?: LogStep[];
  durationMs: number;
}

/** Every activity Ferry registers. Implemented by `createActivities(deps)` in activities/index.ts. */
export interface FerryActivities {
  loadApp(input: { appId: string }): Promise<AppSummary>;
  /** Test connection before a cycle; a configuration failure stops the cycle early. */
  checkTarget(input: { appId: string }): Promise<CycleFailure | null>;
  beginCycle(input: BeginCycleInput): Promise<BeginCycleResult>;
  deletionGuard(input: { appId: string; cycleId: string; deletionsApproved: boolean }): Promise<DeletionGuardResult>;
  processBatch(input: ProcessBatchInput): Promise<ProcessBatchResult>;
  cycleProgress(input: { cycleId: string }): Promise<CycleProgress>;
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
}
