// What the provisioning job remembers between runs, and the pure rules that change it: the state it is
// in, the state once the recorded intents are acted on, when the next cycle is due, and what a cycle's
// outcome does to the job. No Temporal calls here: the job workflow (job.ts) applies these with the
// workflow clock.
import type { AnnouncedQuarantine, AppSummary, CycleSummary, JobStateChange } from '../activities/types.ts';
import type { CycleKind, JobState } from '../engine/types.ts';
import { DEFAULT_INTERVAL_MINUTES, evaluateQuarantine, nextCycleDelayMs } from '../engine/policies/index.ts';
import type { LastCycleStatus, OnDemandRequest, QuarantineStatus, RestartReset } from './messages.ts';

/** A recorded signal, waiting for the main loop. Plain JSON: it travels through continue-as-new. */
export type JobIntent =
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'runNow' }
  | { type: 'restart'; reset: RestartReset }
  | { type: 'configChanged' }
  | { type: 'quarantine'; reason: string }
  | { type: 'release' }
  | { type: 'approveDeletions' }
  | { type: 'rejectDeletions' };

/** Everything the job remembers between runs (continue-as-new). Small and plain JSON. */
export interface JobMemory {
  /** Number of the last cycle started (cycle ids are never reused; see `nextCycleNumber`). */
  cycleNumber: number;
  /** The next cycle must be initial (first run, restart, configuration change). */
  initialDue: boolean;
  /** Directory change-log sequence provisioned so far; null before the first successful cycle. */
  watermark: number | null;
  paused: boolean;
  disabled: boolean;
  /** Whole-cycle failures in a row; drives the backoff. */
  consecutiveFailures: number;
  quarantine: QuarantineStatus | null;
  pendingDeletions: number;
  /** The admin approved the staged deletions: the next cycle exports them. */
  deletionsApproved: boolean;
  /** The admin rejected the staged deletions: the next cycle drops them. */
  deletionsRejected: boolean;
  lastCycle: LastCycleStatus | null;
  /** ISO time the next cycle is due; null = as soon as possible. */
  nextCycleAt: string | null;
  /** Last configuration version seen; a different one makes the next cycle initial. */
  configVersion: string | null;
  /** The app as last loaded (interval, notification address); kept when a reload fails. */
  app: AppSummary | null;
  inbox: JobIntent[];
  onDemandQueue: OnDemandRequest[];
  /**
   * Job-clock ISO time of the first `directoryChanged` signal not yet covered by a cycle; null (or absent,
   * in runs from before push) when none is pending. One flag for any number of changes.
   */
  changesPendingSince?: string | null;
}

/** Cycle tuning passed through to every cycle and to the next run. */
export interface CycleOptions {
  /** Objects per processBatch call, passed to every cycle (default: the cycle's). */
  batchSize?: number;
  /** Batches per cycle run before the cycle continues-as-new (default: the cycle's). */
  maxBatchesPerRun?: number;
  /** Least workflow time between two progress reports of a cycle begun before `progress-in-store`. */
  progressIntervalMs?: number;
}

export interface JobInput extends Partial<JobMemory>, CycleOptions {
  appId: string;
  appName?: string;
}

const CYCLE_OPTION_KEYS = ['batchSize', 'maxBatchesPerRun', 'progressIntervalMs'] as const;

export function initialJobMemory(): JobMemory {
  return {
    cycleNumber: 0,
    initialDue: true,
    watermark: null,
    paused: false,
    disabled: false,
    consecutiveFailures: 0,
    quarantine: null,
    pendingDeletions: 0,
    deletionsApproved: false,
    deletionsRejected: false,
    lastCycle: null,
    nextCycleAt: null,
    configVersion: null,
    app: null,
    inbox: [],
    onDemandQueue: [],
  };
}

/** The job's memory from its input: what the last run handed over, the rest as on a first run. */
export function jobMemoryFromInput(input: JobInput): JobMemory {
  const carried: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const notMemory = key === 'appId' || key === 'appName' || (CYCLE_OPTION_KEYS as readonly string[]).includes(key);
    if (value !== undefined && !notMemory) carried[key] = value;
  }
  return { ...initialJobMemory(), ...(carried as Partial<JobMemory>) };
}

/** The cycle tuning of the input (only the keys that are set). */
export function cycleOptionsFromInput(input: JobInput): CycleOptions {
  const options: CycleOptions = {};
  for (const key of CYCLE_OPTION_KEYS) if (input[key] !== undefined) options[key] = input[key];
  return options;
}

/**
 * The memory after a restart: progress and health start afresh (as in `initialJobMemory`); the job keeps
 * its history (cycle numbers, last cycle), the app as loaded and what is still queued.
 */
export function restartedJobMemory(m: JobMemory): JobMemory {
  const { cycleNumber, lastCycle, nextCycleAt, configVersion, app, inbox, onDemandQueue } = m;
  return { ...initialJobMemory(), cycleNumber, lastCycle, nextCycleAt, configVersion, app, inbox, onDemandQueue };
}

export function jobState(m: JobMemory): JobState {
  if (m.disabled) return 'disabled';
  if (m.paused) return 'paused';
  if (m.quarantine) return 'quarantined';
  return m.initialDue ? 'initial' : 'steady';
}

const announced = (q: QuarantineStatus): AnnouncedQuarantine => ({
  reason: q.reason,
  since: q.since,
  ...(q.message !== undefined ? { message: q.message } : {}),
});

/**
 * What webhook subscribers hear of the job's latest step: its state moved (`from` → `to`), it got a
 * quarantine or lost one (also while paused or disabled, which hide `quarantined` in the state). A
 * quarantine whose reason changes is neither entered nor left. Null: nothing to tell.
 */
export function jobStateChange(step: {
  appId: string;
  from: JobState;
  to: JobState;
  quarantineBefore: QuarantineStatus | null;
  quarantineAfter: QuarantineStatus | null;
  cause: string;
  at: string;
}): JobStateChange | null {
  const { appId, from, to, quarantineBefore: before, quarantineAfter: after, cause, at } = step;
  const quarantineEntered = before === null && after !== null ? announced(after) : null;
  const quarantineLeft = before !== null && after === null ? announced(before) : null;
  if (from === to && !quarantineEntered && !quarantineLeft) return null;
  return { appId, from, to, cause, at, quarantineEntered, quarantineLeft };
}

/**
 * Intents that stop a running cycle (after its batch in flight) instead of waiting up to hours for its
 * end. runNow, resume, release and the deletion decisions wait: they change nothing a running cycle does.
 */
export const INTERRUPTING_INTENTS: readonly JobIntent['type'][] = ['pause', 'restart', 'configChanged', 'quarantine'];

/**
 * The memory once the recorded intents are acted on, as far as they decide the state, the quarantine and
 * the staged deletions. The status query shows it, so a pause reads `paused` and a quarantine reads
 * quarantined — state and reason alike — while the job is still busy (a cycle stopping, a notice
 * being sent). The job's `act` does the rest (reset, reload, notices, schedule).
 */
export function intendedJobMemory(m: JobMemory, now: Date): JobMemory {
  let v: JobMemory = { ...m };
  for (const intent of m.inbox) {
    if (intent.type === 'pause') v.paused = true;
    else if (intent.type === 'resume') v.paused = false;
    else if (intent.type === 'restart') v = restartedJobMemory(v);
    else if (intent.type === 'configChanged') v.initialDue = true;
    else if (intent.type === 'quarantine') {
      const { quarantine } = evaluateQuarantine({ current: v.quarantine, manual: 'quarantine', now });
      v.quarantine = quarantine && { ...quarantine, message: intent.reason };
    } else if (intent.type === 'release') v = { ...v, disabled: false, quarantine: null };
    else if (intent.type === 'rejectDeletions') {
      if (v.pendingDeletions === 0 && v.quarantine?.reason !== 'TooManyDeletes') continue;
      v.pendingDeletions = 0;
      if (v.quarantine?.reason === 'TooManyDeletes') v.quarantine = null;
    }
  }
  return v;
}

export function intervalMinutes(m: JobMemory): number {
  return m.app?.cycleIntervalMinutes ?? DEFAULT_INTERVAL_MINUTES;
}

/**
 * Sets the next cycle time from the end of the last cycle (or now) and the cadence of the current
 * state. A state with no cadence (paused, disabled) leaves it as it is.
 */
export function scheduleNextCycle(m: JobMemory, now: Date): void {
  if (m.lastCycle === null) {
    m.nextCycleAt = now.toISOString(); // the initial cycle comes first
    return;
  }
  const state = jobState(m);
  // A stopped cycle was due and did not finish: it runs again as soon as the job may run (no backoff,
  // no interval); in quarantine the daily cadence still holds.
  const stillDue = m.lastCycle.status === 'stopped' && (state === 'initial' || state === 'steady');
  const delay = stillDue
    ? 0
    : nextCycleDelayMs({ state, consecutiveFailures: m.consecutiveFailures, intervalMinutes: intervalMinutes(m) });
  if (delay === null) return;
  m.nextCycleAt = new Date(Date.parse(m.lastCycle.endedAt) + delay).toISOString();
}

/** A push cycle starts this long after the first pending change, so a burst of changes is one cycle. */
export const PUSH_WINDOW_MS = 1000;

/**
 * How long until the pending directory changes are pushed by an incremental cycle (0 = now); null when
 * none are pending or the job may not push now: only a steady job does (an initial cycle is due anyway;
 * paused, disabled and quarantined jobs keep their cadence), and not while backing off after a failed cycle.
 */
export function pushDelayMs(m: JobMemory, now: Date): number | null {
  if (!m.changesPendingSince) return null;
  if (jobState(m) !== 'steady' || m.consecutiveFailures > 0) return null;
  return Math.max(0, Date.parse(m.changesPendingSince) + PUSH_WINDOW_MS - now.getTime());
}

/**
 * The next cycle's number: after the last one this job started and after every cycle in the database
 * (`loadApp` reads it at the start of every run), so a job re-created on the same database never
 * numbers a cycle that already exists and finished.
 */
export function nextCycleNumber(m: Pick<JobMemory, 'cycleNumber' | 'app'>): number {
  return Math.max(m.cycleNumber + 1, m.app?.nextCycleNumber ?? 0);
}

/**
 * Records a cycle's outcome: its number, the last-cycle status, and — unless it was stopped — the
 * watermark, the backoff count and the deletion decisions.
 */
export function recordCycleOutcome(
  m: JobMemory,
  cycle: { number: number; kind: CycleKind; summary: CycleSummary; endedAt: Date },
): void {
  const { summary } = cycle;
  // beginCycle gives a new number when the one asked for had already finished (see store/cycles.ts).
  const ranAs = summary.cycleNumber > 0 ? summary.cycleNumber : cycle.number;
  m.cycleNumber = Math.max(m.cycleNumber, ranAs);
  m.lastCycle = {
    number: ranAs,
    kind: cycle.kind,
    status: summary.status,
    startedAt: summary.startedAt,
    // The job's clock, not the activity's: the next cycle and a quarantine's `since` count from here.
    endedAt: cycle.endedAt.toISOString(),
    counts: summary.counts,
    failure: summary.failure ? { code: summary.failure.code, message: summary.failure.message } : null,
  };
  // A stopped cycle is neither done nor failed: watermark, initialDue, backoff, the deletion decisions
  // and quarantine stay as they were, so the cycle that is still due runs with them.
  if (summary.status === 'stopped') return;
  m.deletionsApproved = false;
  m.deletionsRejected = false;
  if (summary.status === 'succeeded') {
    m.consecutiveFailures = 0;
    m.watermark = summary.watermarkTo;
    m.initialDue = false;
  } else {
    m.consecutiveFailures += 1;
  }
  m.pendingDeletions = summary.deletionThresholdExceeded ? summary.pendingDeletions : 0;
}

/** The summary of a cycle that could not run or ended without one (failed, terminated, id taken). */
export function failedCycleSummary(
  number: number,
  kind: CycleKind,
  startedAt: string,
  endedAt: Date,
  err: Error,
): CycleSummary {
  return {
    cycleId: '',
    cycleNumber: number,
    kind,
    status: 'failed',
    startedAt,
    endedAt: endedAt.toISOString(),
    counts: { created: 0, updated: 0, disabled: 0, deleted: 0, skipped: 0, failed: 0, escrowed: 0, stagedDeletes: 0 },
    operations: 0,
    watermarkTo: 0,
    failure: {
      kind: 'transient',
      code: 'Unknown',
      message: err.cause instanceof Error ? err.cause.message : err.message,
    },
    pendingDeletions: 0,
    deletionThresholdExceeded: false,
  };
}
