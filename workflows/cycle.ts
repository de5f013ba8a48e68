// One provisioning cycle of one app: test the target, stage the work, guard deletions, then export
// batch by batch, phase by phase, and close the cycle with a summary. Batches run one at a time per
// app, which is what keeps the app's rate limit true across several workers. The job may ask the cycle
// to stop (`stopCycle`): the batch in flight finishes, no other starts, and the cycle closes `stopped`.
import {
  ActivityFailure,
  ApplicationFailure,
  getExternalWorkflowHandle,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  ActivityFailureDetails,
  CycleFailure,
  CyclePhase,
  CycleSummary,
  FerryActivities,
} from '../activities/types.ts';
import { FAILURE_TYPE_BY_KIND, type ErrorKind } from '../engine/errors.ts';
import type { CycleKind, ErrorCode } from '../engine/types.ts';
import { batchActivity, shortActivity, stagingActivity } from './activity-options.ts';
import { cycleProgressSignal, stopCycleSignal } from './messages.ts';

export interface CycleInput {
  appId: string;
  cycleNumber: number;
  kind: CycleKind;
  /** Directory change-log sequence already provisioned; null for initial cycles. */
  watermark: number | null;
  deletionsApproved: boolean;
  deletionsRejected: boolean;
  /** Objects per processBatch call (default 200). */
  batchSize?: number;
  /**
   * Least workflow time between two progress reports to the job (default 5 s). Only cycles begun before
   * the patch `progress-in-store` report; the option stays for them.
   */
  progressIntervalMs?: number;
  /** processBatch calls per run before the cycle continues-as-new (default 500), to keep histories small. */
  maxBatchesPerRun?: number;
  /** Set only by the cycle itself when it continues-as-new in the middle of its export. */
  resume?: CycleResume;
}

/** Where a long cycle stands when it continues-as-new. */
export interface CycleResume {
  cycleId: string;
  total: number;
  phase: CyclePhase;
  cursor: number;
  /** Objects processed so far in the users and groups phases. */
  processed: number;
  startedAt: string;
}

export const CYCLE_PHASES: readonly CyclePhase[] = ['users', 'groups', 'references'];
// 1,000 objects a batch: the fixed cost of a batch (reads before exporting, one write at the end)
// is ~5 % of it; with 200 a 10k-user initial cycle took 6.7 s instead of 5.6 s (bench/provisioning.ts).
const DEFAULT_BATCH_SIZE = 1_000;
const DEFAULT_PROGRESS_INTERVAL_MS = 5_000;
const DEFAULT_MAX_BATCHES_PER_RUN = 500;

/**
 * Patch id: the cycle no longer signals its progress to the job (every 5 s, ~4 events in the job's
 * history each: a long cycle filled the job's history, and the job cannot continue-as-new while it waits
 * for the cycle). processBatch writes the progress to the cycle row, where the API reads it. Runs
 * recorded before it replay the old way, signalling.
 */
export const PROGRESS_IN_STORE_PATCH = 'progress-in-store';

const short = proxyActivities<FerryActivities>(shortActivity);
const staging = proxyActivities<FerryActivities>(stagingActivity);
const batch = proxyActivities<FerryActivities>(batchActivity);

export async function provisioningCycleWorkflow(input: CycleInput): Promise<CycleSummary> {
  const { appId, cycleNumber } = input;
  const batchSize = input.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxBatches = input.maxBatchesPerRun ?? DEFAULT_MAX_BATCHES_PER_RUN;
  let at = input.resume;
  // A flag, not a cancellation: cancelling would also cut the batch in flight, and that batch is short
  // and must end with its outcomes written. Checked before every batch and before continue-as-new, so
  // a stop is never carried into a new run.
  let stopRequested = false;
  setHandler(stopCycleSignal, () => void (stopRequested = true));

  if (!at) {
    const failure = await failureOf(() => short.checkTarget({ appId }));
    // The cycle is recorded even when the target is down, so the failure shows in its history.
    const { cycleId, total } = await staging.beginCycle({
      appId,
      cycleNumber,
      kind: input.kind,
      watermark: input.watermark,
      deletionsApproved: input.deletionsApproved,
      deletionsRejected: input.deletionsRejected,
    });
    if (failure) return short.finishCycle({ appId, cycleId, failure });
    const guardFailure = await failureOf(async () => {
      await staging.deletionGuard({ appId, cycleId, deletionsApproved: input.deletionsApproved });
      return null;
    });
    if (guardFailure) return short.finishCycle({ appId, cycleId, failure: guardFailure });
    if (stopRequested) return short.finishCycle({ appId, cycleId, failure: null, stopped: true });
    at = { cycleId, total, phase: CYCLE_PHASES[0], cursor: 0, processed: 0, startedAt: new Date().toISOString() };
  }

  const { cycleId, total } = at;
  const progress = patched(PROGRESS_IN_STORE_PATCH)
    ? null
    : progressReporter(cycleNumber, at.startedAt, input.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS);
  progress?.report(at.processed, total, true);
  const position: CycleResume = { ...at };
  let batches = 0;
  let stopped = false;
  const failure = await failureOf(async () => {
    for (let p = CYCLE_PHASES.indexOf(position.phase); p < CYCLE_PHASES.length; p++) {
      const phase = CYCLE_PHASES[p];
      if (phase !== position.phase) Object.assign(position, { phase, cursor: 0 });
      for (;;) {
        if (stopRequested) {
          stopped = true;
          return null;
        }
        if (batches >= maxBatches || workflowInfo().continueAsNewSuggested) {
          await makeContinueAsNewFunc<typeof provisioningCycleWorkflow>()({ ...input, resume: position });
        }
        const result = await batch.processBatch({ appId, cycleId, phase, cursor: position.cursor, batchSize });
        batches += 1;
        if (result.failure) return result.failure;
        // The references pass revisits objects already counted.
        if (phase !== 'references') position.processed += result.processed;
        position.cursor = result.nextCursor;
        if (result.done) break;
        progress?.report(position.processed, total, false);
      }
    }
    return null;
  });
  return short.finishCycle({ appId, cycleId, failure, ...(stopped ? { stopped } : {}) });
}

/** Runs a step that may end the cycle: a returned failure, or an activity that failed for good. */
async function failureOf(step: () => Promise<CycleFailure | null>): Promise<CycleFailure | null> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof ActivityFailure) return cycleFailureFrom(err);
    throw err;
  }
}

const KIND_BY_TYPE: Record<string, ErrorKind> = Object.fromEntries(
  Object.entries(FAILURE_TYPE_BY_KIND).map(([kind, type]) => [type, kind as ErrorKind]),
);

/**
 * Activities report Ferry errors as ApplicationFailure with `type` = the error class name and, by the
 * contract in activities/types.ts, `details[0]` = `{ code }`. Anything else counts as transient.
 */
export function cycleFailureFrom(err: ActivityFailure): CycleFailure {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure) {
    const kind = KIND_BY_TYPE[cause.type ?? ''] ?? 'transient';
    const detail = cause.details?.[0] as Partial<ActivityFailureDetails> | undefined;
    const code: ErrorCode = detail?.code ?? (kind === 'configuration' ? 'Unauthorized' : 'Unknown');
    return { kind, code, message: cause.message };
  }
  return { kind: 'transient', code: 'Timeout', message: cause?.message ?? err.message };
}

/** Progress signals to the job, as cycles begun before `progress-in-store` sent them (see the patch). */
function progressReporter(cycleNumber: number, startedAt: string, intervalMs: number) {
  const parent = workflowInfo().parent;
  let lastReportAt = -Infinity;
  return {
    report(processed: number, total: number, force: boolean): void {
      if (!parent) return;
      const now = Date.now();
      if (!force && now - lastReportAt < intervalMs) return;
      lastReportAt = now;
      // Not awaited: the next batch is scheduled in the same workflow task. Progress is cosmetic, so a
      // job that cannot be signalled must not fail the cycle.
      getExternalWorkflowHandle(parent.workflowId)
        .signal(cycleProgressSignal, { cycleNumber, processed, total, startedAt })
        .catch(() => undefined);
    },
  };
}
