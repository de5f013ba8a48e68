// Signals, queries and ids of the provisioning workflows. The wire names (the strings) are recorded in
// histories and used by the API: they never change. The API imports this file (it holds no workflow code).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CycleKind, CycleCounts, JobState, ObjectType } from '../engine/types.ts';

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

/** Sent by a running cycle to its job (throttled) so the `status` query can show progress. */
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
export const provisionOnDemandSignal = defineSignal<[OnDemandRequest]>('provisionOnDemand');
/** Internal: cycle child → job. */
export const cycleProgressSignal = defineSignal<[CycleProgressUpdate]>('cycleProgress');
/**
 * Internal: job → cycle child, when pause, restart, configChanged or a manual quarantine must not wait
 * for the cycle's end. The child finishes the batch in flight, starts no other and closes the cycle as
 * `stopped`.
 */
export const stopCycleSignal = defineSignal('stopCycle');

export interface CurrentCycleStatus {
  kind: CycleKind;
  number: number;
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
  cycle: CurrentCycleStatus | null;
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

export const TASK_QUEUE = 'ferry';

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
