// Escrow: when a failed object is retried. The first retry is the
// next cycle, then the gaps grow — 6 h, 12 h, 24 h, then daily — until 28 days after the first
// failure, when Ferry gives up on the object (until it changes or the job restarts).
import type { ErrorKind } from '../errors.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
export const ESCROW_GIVE_UP_MS = 28 * DAY_MS;
/** Gaps after the 2nd, 3rd, 4th failure; every later failure waits a day. */
const GAPS_MS = [6 * HOUR_MS, 12 * HOUR_MS, 24 * HOUR_MS];

export interface EscrowInput {
  /** Failures of this object so far, including the one just seen (1 = first failure). */
  failureCount: number;
  /** When the object first failed (ISO string or Date). */
  firstFailedAt: string | Date;
  now: Date;
  kind: ErrorKind;
  /** From a 429/503 `Retry-After`. */
  retryAfterMs?: number;
}

export interface EscrowDecision {
  /** When to retry (ISO); null = at the next cycle (or never, when giveUp). */
  retryAt: string | null;
  /** 28 days have passed since the first failure: stop retrying. */
  giveUp: boolean;
}

/** The gap before the next retry by failure count; null = the next cycle. */
export function escrowDelayMs(failureCount: number): number | null {
  if (failureCount <= 1) return null;
  return GAPS_MS[failureCount - 2] ?? DAY_MS;
}

export function nextEscrowRetry(input: EscrowInput): EscrowDecision {
  const now = input.now.getTime();
  const first =
    typeof input.firstFailedAt === 'string' ? Date.parse(input.firstFailedAt) : input.firstFailedAt.getTime();
  const deadline = (Number.isNaN(first) ? now : first) + ESCROW_GIVE_UP_MS;
  if (now >= deadline) return { retryAt: null, giveUp: true };

  let retryAt: number | null;
  if (input.retryAfterMs !== undefined && input.retryAfterMs > 0) {
    retryAt = now + input.retryAfterMs; // the target said when; honour it whatever the kind
  } else if (input.kind === 'transient') {
    retryAt = null; // timeouts, 5xx, 429 without Retry-After: try again at the next cycle
  } else {
    const delay = escrowDelayMs(input.failureCount);
    retryAt = delay === null ? null : now + delay;
  }
  // The last attempt happens at the deadline, never after it.
  if (retryAt !== null && retryAt > deadline) retryAt = deadline;
  return { retryAt: retryAt === null ? null : new Date(retryAt).toISOString(), giveUp: false };
}

/** Whether an escrowed object is due in a cycle that runs at `now` (null = due at any cycle). */
export function isEscrowDue(nextRetryAt: string | null, now: Date): boolean {
  return nextRetryAt === null || Date.parse(nextRetryAt) <= now.getTime();
}
