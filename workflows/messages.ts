// Signals, queries, ids, task queue and type name of the provisioning workflows: the one source for
// every name. The wire names (the strings) are recorded in histories and used by the API, the worker,
// bench/ and tests: they never change. The API imports this file (it holds no workflow code).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OnDemandReport } from '../activities/types.ts';
import type { CycleKind, CycleCounts, JobState, ObjectType } from '../engine/types.ts';
import type * as workflows from './index.ts';

export type RestartReset = 'watermark' | 'full';

export interface RestartRequest {
  /** `watermark`: clear watermark, escrows and quarantine, keep links; `full`: also forget links. */
  reset: RestartReset;
}

export interface QuarantineRequest {
  reason: string;
}

export interface OnDemandRequest {
  requestId: string;
  objectType: ObjectType;
  objectId: string;
}

/**
 * Sent by cycles begun before the patch `progress-in-store` (workflows/cycle.ts) to their job, throttled.
 * No cycle sends it any more: progress is read from the store's cycle row. The job keeps a handler (that
 * does nothing) so the signal of a cycle still running from before is not left unhandled.
 */
export interface CycleProgressUpdate {
  cycleNumber: number;
  processed: number;
  total: number;
  /** ISO time (workflow clock) the cycle started, for the ETA. */
  startedAt: string;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const runNowSignal = defineSignal('runNow');
export const restartSignal = defineSignal<[RestartRequest]>('restart');
export const configChangedSignal = defineSignal('configChanged');
export const quarantineSignal = defineSignal<[QuarantineRequest]>('quarantine');
export const releaseSignal = defineSignal('release');
export const approveDeletionsSignal = defineSignal('approveDeletions');
export const rejectDeletionsSignal = defineSignal('rejectDeletions');
/**
 * Directory changes reached the app (sent by the API process's change push, api/change-push.ts, at most
 * about once a second per app): the job runs an incremental cycle for them after the push window.
 */
export const directoryChangedSignal = defineSignal('directoryChanged');
/** Superseded by `onDemandUpdate`; still handled, so histories and signals sent before it replay. */
export const provisionOnDemandSignal = defineSignal<[OnDemandRequest]>('provisionOnDemand');
/**
 * On-demand provisioning as a workflow Update on the job: the update id is the request id, so a
 * repeated call is answered once. It answers with the report, or fails with an ApplicationFailure
 * whose type is one of ON_DEMAND_FAILURE_TYPES (the API turns each into its HTTP error).
 */
export const onDemandUpdate = defineUpdate<OnDemandReport, [OnDemandRequest]>('onDemand');

/**
 * Failure types of `onDemandUpdate`: `OnDemandInvalid` (the validator rejected the request),
 * `JobEnding` (the validator rejected it: the job ends, its app is gone),
 * `OnDemandAlreadyStarted` (the request id ran before, in an earlier run of the job: its child has
 * the report), `ObjectBusy` (a cycle held the object past the wait), `TooManyMembers` (a group
 * larger than ON_DEMAND_MAX_GROUP_MEMBERS), and the error classes of engine/errors.ts for a failed
 * provisioning (`TransientError`, `ConfigurationError`, `PermanentError`, …).
 */
export const ON_DEMAND_FAILURE_TYPES = [
  'OnDemandInvalid',
  'JobEnding',
  'OnDemandAlreadyStarted',
  'ObjectBusy',
  'TooManyMembers',
] as const;

/** Users (transitive members) a group on-demand provisions at most with the group, as Entra's 5. */
export const ON_DEMAND_MAX_GROUP_MEMBERS = 5;
/** Internal: cycle child → job, only from cycles begun before the patch `progress-in-store`. */
export const cycleProgressSignal = defineSignal<[CycleProgressUpdate]>('cycleProgress');
/**
 * Internal: job → cycle child, when pause, restart, configChanged or a manual quarantine must not wait
 * for the cycle's end. The child finishes the batch in flight, starts no other and closes the cycle as
 * `stopped`.
 */
export const stopCycleSignal = defineSignal('stopCycle');

/**
 * The running cycle as the job knows it: which one, not how far. A job's history must not grow with the
 * length of a cycle, so progress is not sent to it; the API reads it from the store (cycles table).
 */
export interface RunningCycleStatus {
  kind: CycleKind;
  number: number;
}

/** The running cycle as the API shows it: the job's `RunningCycleStatus` and the store's progress. */
export interface CurrentCycleStatus extends RunningCycleStatus {
  processed: number;
  total: number;
  /** 0–100, whole number; 0 while the total is still unknown. */
  percent: number;
  /** Estimated seconds left (workflow clock), null until something was processed. */
  etaSeconds: number | null;
}

export interface LastCycleStatus {
  number: number;
  kind: CycleKind;
  /** `stopped`: interrupted by pause, restart, configChanged or quarantine; still due, not a failure. */
  status: 'succeeded' | 'failed' | 'stopped';
  startedAt: string;
  endedAt: string;
  counts: CycleCounts;
  /** Why the cycle failed as a whole, when it did. */
  failure: { code: string; message: string } | null;
}

export interface QuarantineStatus {
  /** `Unauthorized`, `NonScimResponse`, … (the error code that stopped the cycle), `TooManyDeletes`,
   *  `HighFailureRate`, `TooManyFailures` or `Manual` (engine/policies/quarantine.ts). */
  reason: string;
  since: string;
  /** The admin's words for a manual quarantine. */
  message?: string;
}

export interface JobStatus {
  appId: string;
  appName: string;
  state: JobState;
  cycle: RunningCycleStatus | null;
  lastCycle: LastCycleStatus | null;
  /** ISO time of the next scheduled cycle; null while paused, disabled or running. */
  nextCycleAt: string | null;
  /** Consecutive whole-cycle failures; each doubles the wait (capped at 24 h). */
  backoffLevel: number;
  quarantine: QuarantineStatus | null;
  /** Disables/deletes held as StagedDelete, waiting for approveDeletions / rejectDeletions. */
  pendingDeletions: number;
}

export const statusQuery = defineQuery<JobStatus>('status');

/** The task queue the worker serves and clients start jobs on, unless `FERRY_TASK_QUEUE` names another. */
export const TASK_QUEUE = 'ferry';

/** Workflow type of the job (its function's name, checked against workflows/index.ts by the compiler). */
export const JOB_WORKFLOW_TYPE = 'provisioningJobWorkflow' satisfies keyof typeof workflows;

/** Workflow type of the maintenance workflow (retention), one per Ferry installation. */
export const MAINTENANCE_WORKFLOW_TYPE = 'maintenanceWorkflow' satisfies keyof typeof workflows;

/** Id of the maintenance workflow; it runs on the worker's task queue (TASK_QUEUE or FERRY_TASK_QUEUE). */
export const MAINTENANCE_WORKFLOW_ID = 'ferry:maintenance';

/** Workflow type and id of the webhook dispatcher, one per Ferry installation (workflows/webhooks.ts). */
export const WEBHOOKS_WORKFLOW_TYPE = 'webhooksWorkflow' satisfies keyof typeof workflows;
export const WEBHOOKS_WORKFLOW_ID = 'ferry:webhooks';

export function jobWorkflowId(appId: string): string {
  return `provisioning:${appId}`;
}

export function cycleWorkflowId(appId: string, cycleNumber: number): string {
  return `provisioning:${appId}:cycle:${cycleNumber}`;
}

export function onDemandWorkflowId(appId: string, requestId: string): string {
  return `provisioning:${appId}:ondemand:${requestId}`;
}

/**
 * Search attributes (Keyword) the job keeps up to date for the Web UI and for listing jobs, e.g.
 * `FerryJobState = 'quarantined'`. A real cluster must have them registered (docker-compose does).
 */
export const appIdSearchAttribute = defineSearchAttributeKey('FerryAppId', SearchAttributeType.KEYWORD);
export const jobStateSearchAttribute = defineSearchAttributeKey('FerryJobState', SearchAttributeType.KEYWORD);

// ---- sources (workflows/source.ts) ----

/** `auto`: a full import when due (first run, daily), else incremental; `full` / `incremental` force one. */
export type SourceSyncMode = 'auto' | 'full' | 'incremental';

export interface SourceSyncRequest {
  mode: SourceSyncMode;
}

export interface SourceWorkflowInput {
  sourceId: string;
  paused?: boolean;
  /** An import asked for and not yet run (carried over continue-as-new). */
  pending?: SourceSyncMode | null;
  /** Failed imports in a row and when the first ended (carried over continue-as-new). */
  streak?: { failures: number; failingSince: string | null };
  /** Quarantined: no imports on the cadence until resume or a successful manual sync. */
  quarantined?: boolean;
}

export const SOURCE_WORKFLOW_TYPE = 'sourceWorkflow' satisfies keyof typeof workflows;
export const sourceWorkflowId = (sourceId: string): string => `source:${sourceId}`;
/**
 * Run an import now (in quarantine too: a success ends it). Pause and resume use pauseSignal /
 * resumeSignal; resume also releases a quarantined source and imports at once.
 */
export const syncSourceSignal = defineSignal<[SourceSyncRequest]>('syncSource');

// ---- reconcile passes (workflows/reconcile.ts) ----

/** `report`: only record drift; `repair`: also restore edited accounts and re-create deleted ones. */
export type ReconcileMode = 'report' | 'repair';

/** The pass row (mode included) is written before the workflow starts; the workflow carries only ids. */
export interface ReconcileWorkflowInput {
  appId: string;
  passId: string;
}

/** Workflow type and id of an app's reconcile pass: one at a time per app, apart from its job. */
export const RECONCILE_WORKFLOW_TYPE = 'reconcileWorkflow' satisfies keyof typeof workflows;
export const reconcileWorkflowId = (appId: string): string => `reconcile:${appId}`;
