// When the provisioning job wakes up next.
import type { JobState } from '../types.ts';

export const DEFAULT_INTERVAL_MINUTES = 40;
const MINUTE_MS = 60_000;
/** Backoff never waits longer than this (unless the app's own interval is longer). */
export const MAX_BACKOFF_MS = 24 * 60 * MINUTE_MS;
/** In quarantine the job runs once a day. */
export const QUARANTINE_INTERVAL_MS = 24 * 60 * MINUTE_MS;

export interface CadenceInput {
  state: JobState;
  /** Cycles in a row that failed as a whole (target unreachable, 401/403); 0 after a good cycle. */
  consecutiveFailures: number;
  /** The app's cycle interval; default 40 minutes. */
  intervalMinutes?: number;
}

function intervalMs(intervalMinutes: number | undefined): number {
  const minutes = intervalMinutes !== undefined && intervalMinutes > 0 ? intervalMinutes : DEFAULT_INTERVAL_MINUTES;
  return minutes * MINUTE_MS;
}

/**
 * How many doublings apply: one per consecutive whole-cycle failure, up to the level that reaches
 * the 24 h cap (6 for the default 40 minutes: 40 → 80 → … → 2,560 min, capped at 1,440).
 */
export function backoffLevel(consecutiveFailures: number, intervalMinutes?: number): number {
  const failures = Math.max(0, Math.floor(consecutiveFailures));
  const base = intervalMs(intervalMinutes);
  const maxLevel = base >= MAX_BACKOFF_MS ? 0 : Math.ceil(Math.log2(MAX_BACKOFF_MS / base));
  return Math.min(failures, maxLevel);
}

/**
 * Milliseconds until the next cycle, or null when no timer should run (paused, disabled).
 * `initial` and `steady` use the app's interval doubled per whole-cycle failure (cap 24 h, or the
 * interval itself if that is longer); `quarantined` runs once a day.
 */
export function nextCycleDelayMs(input: CadenceInput): number | null {
  switch (input.state) {
    case 'paused':
    case 'disabled':
      return null;
    case 'quarantined':
      return QUARANTINE_INTERVAL_MS;
    case 'initial':
    case 'steady': {
      const base = intervalMs(input.intervalMinutes);
      const level = backoffLevel(input.consecutiveFailures, input.intervalMinutes);
      return Math.max(base, Math.min(MAX_BACKOFF_MS, base * 2 ** level));
    }
  }
}
