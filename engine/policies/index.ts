// The job's pure policies: cadence/backoff, escrow retries, quarantine, deletion threshold.
export {
  backoffLevel,
  DEFAULT_INTERVAL_MINUTES,
  MAX_BACKOFF_MS,
  nextCycleDelayMs,
  QUARANTINE_INTERVAL_MS,
  type CadenceInput,
} from './cadence.ts';
export {
  DEFAULT_DELETION_THRESHOLD,
  deletionLimit,
  exceedsDeletionThreshold,
  type DeletionThresholdInput,
  type DeletionThresholdSetting,
} from './deletionThreshold.ts';
export {
  ESCROW_GIVE_UP_MS,
  escrowDelayMs,
  isEscrowDue,
  nextEscrowRetry,
  type EscrowDecision,
  type EscrowInput,
} from './escrow.ts';
export {
  cycleQuarantineReason,
  evaluateQuarantine,
  FAILURE_RATE_MIN_FAILURES,
  FAILURE_RATE_THRESHOLD,
  MAX_FAILURES,
  QUARANTINE_DISABLE_AFTER_MS,
  type Quarantine,
  type QuarantineCycleOutcome,
  type QuarantineDecision,
  type QuarantineEvent,
  type QuarantineInput,
  type QuarantineReason,
} from './quarantine.ts';
export {
  evaluateSourceQuarantine,
  NO_FAILURES,
  SOURCE_QUARANTINE_AFTER_MS,
  SOURCE_QUARANTINE_MIN_FAILURES,
  type SourceFailureStreak,
  type SourceQuarantineDecision,
  type SourceQuarantineInput,
} from './sourceQuarantine.ts';
export { DEFAULT_SOURCE_DELETION_THRESHOLD_PERCENT, sourceDeletionsNeedApproval } from './sourceDeletions.ts';
