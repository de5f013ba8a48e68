// Source quarantine: a source whose imports keep failing stops importing on its cadence until an
// operator resumes it or a manual sync succeeds. The rule: every import has failed for at least
// 24 hours in a row, and at least 3 imports failed (so one failure of a weekly source is not
// enough). The source's workflow applies it after every import; it is pure so the workflow stays
// deterministic.

/** How long every import must have failed before the source is quarantined. */
export const SOURCE_QUARANTINE_AFTER_MS = 24 * 3_600_000;
/** …and how many failed imports in a row that takes at least. */
export const SOURCE_QUARANTINE_MIN_FAILURES = 3;

/** Failed imports in a row and when the first of them ended (ISO); none: `{ failures: 0, failingSince: null }`. */
export interface SourceFailureStreak {
  failures: number;
  failingSince: string | null;
}

export const NO_FAILURES: SourceFailureStreak = { failures: 0, failingSince: null };

export interface SourceQuarantineInput {
  streak: SourceFailureStreak;
  quarantined: boolean;
  /** What just happened: an import ended, or an operator resumed the source. */
  outcome: 'succeeded' | 'failed' | 'resumed';
  now: Date;
}

export interface SourceQuarantineDecision {
  streak: SourceFailureStreak;
  quarantined: boolean;
  event: 'entered' | 'released' | null;
}

export function evaluateSourceQuarantine(input: SourceQuarantineInput): SourceQuarantineDecision {
  const { quarantined, outcome, now } = input;
  if (outcome !== 'failed') {
    return { streak: NO_FAILURES, quarantined: false, event: quarantined ? 'released' : null };
  }
  const streak: SourceFailureStreak = {
    failures: input.streak.failures + 1,
    failingSince: input.streak.failingSince ?? now.toISOString(),
  };
  const due =
    streak.failures >= SOURCE_QUARANTINE_MIN_FAILURES &&
    now.getTime() - Date.parse(streak.failingSince!) >= SOURCE_QUARANTINE_AFTER_MS;
  return { streak, quarantined: quarantined || due, event: !quarantined && due ? 'entered' : null };
}
