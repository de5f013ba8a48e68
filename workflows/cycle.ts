// One provisioning cycle of one app: test the target, stage the work, guard deletions, then export
// batch by batch, phase by phase, and close the cycle with a summary. Batches run one at a time per
// app, which is what keeps the app's rate limit true across several workers.
import {
  ActivityFailure,
  ApplicationFailure,
  getExternalWorkflowHandle,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  ActivityFailureDetails,
  CycleFailure,
  CyclePhase,
  CycleSummary,
  FerryActivities,
} from '../activities/types.ts';
import type { ErrorKind } from '../engine/errors.ts';
import type { CycleKind, ErrorCode } from '../engine/types.ts';
import { batchActivity, shortActivity, stagingActivity } from './activity-options.ts';
import { cycleProgressSignal } from './messages.ts';

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
  /** Least workflow time between two progress reports to the job (default 5 s). */
  progressIntervalMs?: number;
}

export const CYCLE_PHASES: readonly CyclePhase[] = ['users', 'groups', 'references'];
const DEFAULT_BATCH_SIZE = 200;
const DEFAULT_PROGRESS_INTERVAL_MS = 5_000;

const short = proxyActivities<FerryActivities>(shortActivity);
const staging = proxyActivities<FerryActivities>(stagingActivity);
const batch = proxyActivities<FerryActivities>(batchActivity);

export async function provisioningCycleWorkflow(input: CycleInput): Promise<CycleSummary> {
  const { appId, cycleNumber } = input;
  const batchSize = input.batchSize ?? DEFAULT_BATCH_SIZE;
  const progress = progressReporter(cycleNumber, input.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS);

  let failure = await failureOf(() => short.checkTarget({ appId }));
  // The cycle is recorded even when the target is down, so the failure shows in its history.
  const begun = await staging.beginCycle({
    appId,
    cycleNumber,
    kind: input.kind,
    watermark: input.watermark,
    deletionsApproved: input.deletionsApproved,
    deletionsRejected: input.deletionsRejected,
  });
  const { cycleId, total } = begun;

  if (failure === null) {
    failure = await failureOf(async () => {
      await short.deletionGuard({ appId, cycleId, deletionsApproved: input.deletionsApproved });
      progress.report(0, total, true);
      let processed = 0;
      for (const phase of CYCLE_PHASES) {
        let cursor = 0;
        for (;;) {
          const result = await batch.processBatch({ appId, cycleId, phase, cursor, batchSize });
          if (result.failure) return result.failure;
          // The references pass revisits objects already counted.
          if (phase !== 'references') processed += result.processed;
          cursor = result.nextCursor;
          if (result.done) break;
          progress.report(processed, total, false);
        }
      }
      return null;
    });
  }
  return short.finishCycle({ appId, cycleId, failure });
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

const KIND_BY_TYPE: Record<string, ErrorKind> = {
  TransientError: 'transient',
  NotFoundError: 'notFound',
  ConflictError: 'conflict',
  PermanentError: 'permanent',
  ConfigurationError: 'configuration',
};

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

function progressReporter(cycleNumber: number, intervalMs: number) {
  const parent = workflowInfo().parent;
  const startedAt = new Date().toISOString();
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
