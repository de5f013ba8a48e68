// Quarantine: after each cycle (or a manual quarantine/release) decide whether the
// job is quarantined, why, whether to e-mail, and whether four weeks of quarantine disable it.
import type { ErrorKind } from '../errors.ts';
import type { ErrorCode } from '../types.ts';

const DAY_MS = 86_400_000;
/** A job quarantined this long (continuously) is disabled. */
export const QUARANTINE_DISABLE_AFTER_MS = 28 * DAY_MS;
/** Failure-rate criterion: at least this many failures… */
export const FAILURE_RATE_MIN_FAILURES = 5_000;
/** …and more than this share of the cycle's operations failed. */
export const FAILURE_RATE_THRESHOLD = 0.4;
/** Absolute criterion: more failures than this. */
export const MAX_FAILURES = 40_000;

/**
 * Why a job is quarantined: the code of the configuration error that stopped the cycle
 * (`Unauthorized` for invalid credentials, `NonScimResponse` for a non-SCIM answer, …),
 * `TooManyDeletes`, `HighFailureRate` (≥ 5,000 failures and > 40 %), `TooManyFailures`
 * (> 40,000) or `Manual`.
 */
export type QuarantineReason = ErrorCode | 'HighFailureRate' | 'TooManyFailures' | 'Manual';

export interface Quarantine {
  reason: QuarantineReason;
  /** When this continuous quarantine began (ISO); kept when only the reason changes. */
  since: string;
}

/** What the policy needs of a finished cycle; a subset of the cycle summary's fields. */
export interface QuarantineCycleOutcome {
  status: 'succeeded' | 'failed';
  /** Set when a failure stopped the whole cycle. */
  failure: { kind: ErrorKind; code: ErrorCode } | null;
  counts: { failed: number };
  /** Operations attempted against the target. */
  operations: number;
  deletionThresholdExceeded: boolean;
}

export interface QuarantineInput {
  /** The job's quarantine before this evaluation. */
  current: { reason: string; since: string } | null;
  /** The cycle that just ended; null/absent when evaluating a manual request or just the clock. */
  cycle?: QuarantineCycleOutcome | null;
  /** An admin's request: quarantine now, or release. */
  manual?: 'quarantine' | 'release';
  now: Date;
}

export type QuarantineEvent = 'entered' | 'reasonChanged' | 'released' | null;

export interface QuarantineDecision {
  quarantine: Quarantine | null;
  /** Four weeks in quarantine: disable the job. */
  disable: boolean;
  /** E-mail the app's notification address: quarantine began or its reason changed. */
  notify: boolean;
  event: QuarantineEvent;
}

/** The quarantine criterion a cycle meets, most specific first; null when it meets none. */
export function cycleQuarantineReason(cycle: QuarantineCycleOutcome): QuarantineReason | null {
  if (cycle.failure?.kind === 'configuration') return cycle.failure.code;
  if (cycle.deletionThresholdExceeded) return 'TooManyDeletes';
  const failures = cycle.counts.failed;
  if (failures > MAX_FAILURES) return 'TooManyFailures';
  if (
    failures >= FAILURE_RATE_MIN_FAILURES &&
    cycle.operations > 0 &&
    failures / cycle.operations > FAILURE_RATE_THRESHOLD
  ) {
    return 'HighFailureRate';
  }
  return null;
}

export function evaluateQuarantine(input: QuarantineInput): QuarantineDecision {
  const { current, cycle, manual, now } = input;
  if (manual === 'release') {
    return { quarantine: null, disable: false, notify: false, event: current ? 'released' : null };
  }

  let reason: QuarantineReason | null;
  if (manual === 'quarantine' || current?.reason === 'Manual') {
    reason = 'Manual'; // an admin's quarantine holds until an admin releases it
  } else {
    const found = cycle ? cycleQuarantineReason(cycle) : null;
    if (found) reason = found;
    else if (current && cycle?.status === 'succeeded')
      reason = null; // a good cycle ends quarantine
    else reason = (current?.reason as QuarantineReason | undefined) ?? null;
  }

  if (reason === null) return { quarantine: null, disable: false, notify: false, event: current ? 'released' : null };
  const since = current?.since ?? now.toISOString();
  const event: QuarantineEvent = current === null ? 'entered' : current.reason !== reason ? 'reasonChanged' : null;
  const elapsed = now.getTime() - Date.parse(since);
  return {
    quarantine: { reason, since },
    disable: elapsed >= QUARANTINE_DISABLE_AFTER_MS,
    notify: event !== null,
    event,
  };
}
