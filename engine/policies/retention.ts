// What Ferry keeps how long: pure defaults and cut-offs of the maintenance run (activities/retention.ts).

/** Provisioning logs are kept this many days by default (per app: `retention.logDays`). */
export const DEFAULT_LOG_RETENTION_DAYS = 30;
/** The longest `retention.logDays` an app may set (ten years). */
export const MAX_LOG_RETENTION_DAYS = 3650;
/**
 * The staged work of a cycle is removed once the cycle has ended at least this long ago (objects held
 * for approval, `staged`, stay until approved or rejected): long enough for a late retry of its last
 * activity, short enough that the table holds little more than the cycles running.
 */
export const CYCLE_WORK_GRACE_MS = 60 * 60_000;

/**
 * The job's marks of state changes already announced (webhook events) are kept this many days: a
 * mark only guards the few tries of one announcement, so a week is far longer than any retry.
 */
export const ANNOUNCEMENT_MARK_DAYS = 7;

/**
 * The step-by-step progress of an on-demand request is kept this many days after it last changed: it
 * is read while the request runs and soon after; its report stays in the provisioning log.
 */
export const ON_DEMAND_PROGRESS_DAYS = 7;

const DAY_MS = 24 * 60 * 60_000;

/** Log entries older than this (at `now`) are removed for an app keeping logs `days` days. */
export function logCutoff(now: Date, days: number): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

/** Staged work of cycles that ended before this is removed. */
export function cycleWorkCutoff(now: Date): Date {
  return new Date(now.getTime() - CYCLE_WORK_GRACE_MS);
}
