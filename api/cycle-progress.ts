// The progress of the running cycle, as the status route shows it. The job's status query says which
// cycle runs (kind, number), not how far it is: progress signals would make the job's history grow
// with the length of the cycle. processBatch writes `processed` to the cycle row after every batch and
// beginCycle writes `total`; the route reads them from there.
import type { CurrentCycleStatus, JobStatus, RunningCycleStatus } from '../workflows/messages.ts';

/** The cycle row's figures: objects done in the users and groups phases, objects staged, start time. */
export interface CycleProgress {
  processed: number;
  total: number;
  startedAt: string;
}

/** Where the route finds a running cycle's progress (the store's cycles table, once wired). */
export interface CycleProgressSource {
  /** The running cycle `number` of the app (or the later number it runs as); null when it is not running. */
  runningCycle(appId: string, number: number): Promise<CycleProgress | null>;
}

/** The job's status with its running cycle's progress: what GET /apps/{id}/provisioning answers. */
export type ProvisioningJobStatus = Omit<JobStatus, 'cycle'> & { cycle: CurrentCycleStatus | null };

/**
 * The running cycle with its progress: percent as a whole number (0 while the total is unknown), the
 * ETA from the rate so far (null until something was processed). Before the cycle row exists (the
 * target is being tested) everything is 0.
 */
export function cycleWithProgress(
  cycle: RunningCycleStatus,
  progress: CycleProgress | null,
  now: Date,
): CurrentCycleStatus {
  const processed = progress?.processed ?? 0;
  const total = progress?.total ?? 0;
  const percent = total > 0 ? Math.min(100, Math.floor((processed * 100) / total)) : 0;
  let etaSeconds: number | null = null;
  if (progress && processed > 0) {
    const elapsedSeconds = Math.max(0, (now.getTime() - Date.parse(progress.startedAt)) / 1000);
    etaSeconds = Math.max(0, Math.round((elapsedSeconds * Math.max(0, total - processed)) / processed));
  }
  return { kind: cycle.kind, number: cycle.number, processed, total, percent, etaSeconds };
}

/** The job's status with the progress of its running cycle read from `source` (0s without one). */
export async function withCycleProgress(
  appId: string,
  status: JobStatus,
  source: CycleProgressSource | undefined,
  now: () => Date = () => new Date(),
): Promise<ProvisioningJobStatus> {
  if (!status.cycle) return { ...status, cycle: null };
  const progress = source ? await source.runningCycle(appId, status.cycle.number) : null;
  return { ...status, cycle: cycleWithProgress(status.cycle, progress, now()) };
}
