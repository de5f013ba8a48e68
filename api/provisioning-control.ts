// What the API needs from a provisioning job: send it a signal, start it, ask its
// status. Implemented for real over @temporalio/client in temporal.ts; route tests use a fake.
import type { OnDemandReport } from '../activities/types.ts';
import type { ApiError } from './errors.ts';
import type { JobStatus, OnDemandRequest, RestartReset } from '../workflows/messages.ts';

// The shapes are those of the job workflow's messages (type-only import: no workflow code loads).
export type { JobStatus, OnDemandRequest, RestartReset };

/** The on-demand workflow of one request as Temporal knows it. */
export type OnDemandOutcome =
  | { state: 'running' }
  | { state: 'done'; report: OnDemandReport }
  | { state: 'failed'; error: ApiError }
  | { state: 'unknown' };

export interface StartOptions {
  /** Shown in the Temporal Web UI (memo). */
  appName?: string;
  /** `ensure` only: a job it creates starts paused (the app was paused before a restart). */
  paused?: boolean;
}

/**
 * Control of the job workflow `provisioning:<appId>`. Signals to a job that is not running fail
 * with ApiError `job_not_running`; a Temporal that cannot be reached fails with ApiError `unavailable`.
 */
export interface ProvisioningControl {
  /** Starts the job if it is not running and (signal-with-start `resume`) un-pauses it if it is. */
  start(appId: string, options?: StartOptions): Promise<void>;
  /** Starts the job if it is not running; leaves a running job untouched (used at process start). */
  ensure(appId: string, options?: StartOptions): Promise<void>;
  pause(appId: string): Promise<void>;
  resume(appId: string): Promise<void>;
  runNow(appId: string): Promise<void>;
  restart(appId: string, reset: RestartReset): Promise<void>;
  /** Mappings or scoping changed: the job runs an initial cycle. */
  configChanged(appId: string): Promise<void>;
  quarantine(appId: string, reason: string): Promise<void>;
  release(appId: string): Promise<void>;
  approveDeletions(appId: string): Promise<void>;
  rejectDeletions(appId: string): Promise<void>;
  /** Signals the job, then awaits the on-demand child workflow's report (ApiError `timeout` after timeoutMs). */
  provisionOnDemand(appId: string, request: OnDemandRequest, options?: { timeoutMs?: number }): Promise<OnDemandReport>;
  /**
   * Sends the job the same Update and returns once the job accepted it, without waiting for the
   * report: the caller follows the request with `onDemandOutcome` and the progress in the store.
   */
  startOnDemand(appId: string, request: OnDemandRequest): Promise<void>;
  /** Where the on-demand workflow of a request is: running, done with its report, failed, or unknown (not started). */
  onDemandOutcome(appId: string, requestId: string, options?: { timeoutMs?: number }): Promise<OnDemandOutcome>;
  /**
   * Ends the job for good (the app is being deleted): terminates the job workflow and its running
   * children. A job that is not running is no error.
   */
  stop(appId: string): Promise<void>;
  /**
   * The job's `status` query, or null when no job is running for the app. With `timeoutMs` the
   * calls to Temporal (retries included) end by then, so an answer nobody waits for any more does
   * not keep asking.
   */
  status(appId: string, options?: { timeoutMs?: number }): Promise<JobStatus | null>;
}
