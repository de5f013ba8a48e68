// What a running on-demand request has done so far, for the person waiting on it: every step is
// written to the store as it completes (store/on-demand-progress.ts), then the report or the failure.
// The activity also heartbeats on a clock, so a worker that dies is noticed within the activity's
// heartbeat timeout (seconds) and the request retried elsewhere, not at its start-to-close timeout.
import { Context, heartbeat as temporalHeartbeat } from '@temporalio/activity';
import type { OnDemandProgress, OnDemandProgressStep, Store } from '../store/index.ts';
import type { ActivityLogger } from './deps.ts';
import type { OnDemandInput, OnDemandReport } from './types.ts';

/** How often a running on-demand request heartbeats (its heartbeat timeout is 10 s: workflows/activity-options.ts). */
export const ON_DEMAND_HEARTBEAT_INTERVAL_MS = 2_000;

function heartbeat(details: unknown): void {
  try {
    temporalHeartbeat(details);
  } catch {
    // Not inside an activity (direct calls in tests): nothing to report to.
  }
}

/** This attempt's number (1 outside an activity). */
function attemptNumber(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

export type ProgressStep = Omit<OnDemandProgressStep, 'at'>;

/**
 * The progress of one attempt of one request. Writes are chained, so they land in order without the
 * pipeline waiting on them; a write that fails is logged and the request goes on (progress is shown,
 * never needed: the report is the answer).
 */
export class OnDemandProgressRecorder {
  private readonly doc: OnDemandProgress;
  private pending: Promise<void> = Promise.resolve();
  private readonly beat: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    input: OnDemandInput,
    private readonly log: ActivityLogger,
    now: Date,
  ) {
    this.doc = {
      appId: input.appId,
      requestId: input.requestId,
      objectType: input.objectType === 'group' ? 'group' : 'user',
      objectId: input.objectId,
      attempt: attemptNumber(),
      startedAt: now.toISOString(),
      steps: [],
      finished: false,
      report: null,
      failure: null,
    };
    // A retried attempt starts its list again: the steps shown are those of the attempt that runs.
    this.write();
    heartbeat({ steps: 0 });
    this.beat = setInterval(() => heartbeat({ steps: this.doc.steps.length }), ON_DEMAND_HEARTBEAT_INTERVAL_MS);
  }

  step(step: ProgressStep): void {
    this.doc.steps.push({ ...step, at: new Date().toISOString() });
    heartbeat({ steps: this.doc.steps.length });
    this.write();
  }

  /** The request is done: its report is the answer. */
  async finish(report: OnDemandReport): Promise<void> {
    this.doc.finished = true;
    this.doc.report = report;
    await this.close();
  }

  /**
   * The attempt failed. A failure no retry can change ends the request (`final`); otherwise it is
   * noted and Temporal retries the activity, whose next attempt starts the steps again.
   */
  async fail(failure: { type: string; message: string }, final: boolean): Promise<void> {
    this.doc.failure = failure;
    this.doc.finished = final;
    await this.close();
  }

  private async close(): Promise<void> {
    clearInterval(this.beat);
    this.write();
    await this.pending;
  }

  private write(): void {
    const snapshot: OnDemandProgress = { ...this.doc, steps: [...this.doc.steps] };
    this.pending = this.pending
      .then(() => this.store.onDemandProgress.set(snapshot))
      .catch((error: unknown) => {
        this.log.warn('on-demand progress not written', {
          requestId: snapshot.requestId,
          error,
        });
      });
  }
}
