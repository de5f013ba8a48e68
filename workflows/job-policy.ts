// How the job judges time and cycles: a thin adapter from the job's memory to the engine's pure
// cadence and quarantine policies.
import type { CycleSummary } from '../activities/types.ts';
import type { JobState } from '../engine/types.ts';
import type { QuarantineStatus } from './messages.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export function cycleDelayMs(state: JobState, consecutiveFailures: number, intervalMinutes: number): number | null {
  if (state === 'paused' || state === 'disabled') return null;
  if (state === 'quarantined') return DAY;
  return Math.min(DAY, intervalMinutes * MINUTE * 2 ** consecutiveFailures);
}

export interface CycleVerdict {
  quarantine: QuarantineStatus | null;
  notify: boolean;
  disable: boolean;
}

export function judgeCycle(current: QuarantineStatus | null, summary: CycleSummary, now: Date): CycleVerdict {
  let reason: string | null = null;
  if (summary.failure?.kind === 'configuration') reason = summary.failure.code;
  else if (summary.deletionThresholdExceeded) reason = 'TooManyDeletes';
  if (reason === null) {
    const healthy = summary.status === 'succeeded';
    return { quarantine: healthy ? null : current, notify: false, disable: quarantineExpired(current, now) && !healthy };
  }
  const since = current?.since ?? now.toISOString();
  const next = { reason, since };
  return { quarantine: next, notify: current?.reason !== reason, disable: quarantineExpired(next, now) };
}

export function quarantineExpired(q: QuarantineStatus | null, now: Date): boolean {
  return q !== null && now.getTime() - Date.parse(q.since) >= 28 * DAY;
}
