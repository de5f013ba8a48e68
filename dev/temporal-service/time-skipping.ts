// Time skipping. The virtual clock only jumps when the system is quiescent: no workflow task
// scheduled or running, no activity waiting for or held by a worker, no query pending. Work in
// backoff (activity retries, timers) is not outstanding; it is what the jump reaches.
//
// Two ways time moves faster than real time:
// - explicit: `advanceTime(ms)` (the test helper's skipTime, TestService Sleep) steps the frozen
//   clock deadline by deadline up to exactly now+ms, waiting for quiescence before each step;
// - automatic (only with `timeSkipping: true`): while a client awaits a run's result (a long poll
//   for its close event) and no TestService lock is held, the clock jumps to the next deadline
//   whenever the system is quiescent. Nobody waiting → no skipping, so an eternal workflow with
//   timers never makes the service spin.
import type { Cluster } from './cluster.ts';

export function isQuiescent(cluster: Cluster): boolean {
  return describeOutstanding(cluster, 1).length === 0;
}

/** Up to `limit` descriptions of outstanding work (for error messages). */
export function describeOutstanding(cluster: Cluster, limit = 5): string[] {
  const found: string[] = [];
  if (cluster.pendingQueries.size > 0) found.push(`${cluster.pendingQueries.size} pending query`);
  for (const execution of cluster.open) {
    if (found.length >= limit) break;
    if (execution.wft.state !== 'none') {
      found.push(`workflow task ${execution.wft.state} for ${execution.workflowId} on ${execution.wft.queue}`);
    }
    for (const activity of execution.activities.values()) {
      if (activity.state !== 'backoff') {
        found.push(
          `activity ${activity.activityType} ${activity.state} for ${execution.workflowId} on ${activity.taskQueue}`,
        );
      }
    }
  }
  return found.slice(0, limit);
}

const POLL_MS = 2;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once quiescent; rejects after `timeoutMs` of real time, naming what is outstanding. */
export async function waitForQuiescence(cluster: Cluster, timeoutMs: number): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  // Let I/O callbacks already queued (a worker's response in flight) land before the first check.
  await delay(POLL_MS);
  while (!isQuiescent(cluster)) {
    if (cluster.closing.signal.aborted) throw new Error('temporal test service closed');
    if (Date.now() > giveUpAt) {
      throw new Error(
        `time skipping waited ${timeoutMs} ms for outstanding work: ${describeOutstanding(cluster).join('; ')}` +
          ' (is a worker polling that task queue?)',
      );
    }
    await delay(POLL_MS);
  }
}

/**
 * Advances the virtual clock by exactly `ms`, firing every deadline in the window in order and
 * waiting for quiescence before each one and at the end.
 */
export async function advanceTime(cluster: Cluster, ms: number, quiescenceTimeoutMs = 30_000): Promise<void> {
  while (cluster.explicitSkip) await delay(POLL_MS);
  cluster.explicitSkip = true;
  cluster.clock.freeze();
  const target = cluster.now() + Math.max(0, ms);
  try {
    for (;;) {
      await waitForQuiescence(cluster, quiescenceTimeoutMs);
      const next = cluster.clock.nextDeadline();
      if (next === undefined || next > target) break;
      cluster.clock.jumpTo(next);
    }
    cluster.clock.jumpTo(target);
    await waitForQuiescence(cluster, quiescenceTimeoutMs);
  } finally {
    cluster.explicitSkip = false;
    cluster.clock.unfreeze();
  }
}

/** Runs the automatic skipping loop while someone awaits a result (see the header comment). */
export class AutoSkipper {
  private timer: NodeJS.Timeout | undefined;
  private readonly cluster: Cluster;

  constructor(cluster: Cluster) {
    this.cluster = cluster;
  }

  /** Call when `cluster.resultWaiters` changed. */
  update(): void {
    const wanted =
      this.cluster.options.timeSkipping && this.cluster.resultWaiters > 0 && !this.cluster.closing.signal.aborted;
    if (wanted && !this.timer) this.timer = setInterval(() => this.tick(), POLL_MS);
    if (!wanted && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private quiescentTicks = 0;

  private tick(): void {
    const cluster = this.cluster;
    if (cluster.explicitSkip || cluster.timeSkippingLocks > 0 || !isQuiescent(cluster)) {
      this.quiescentTicks = 0;
      return;
    }
    // Two quiescent ticks in a row: a worker response already on the wire has had time to land.
    if (++this.quiescentTicks < 2) return;
    this.quiescentTicks = 0;
    const next = cluster.clock.nextDeadline();
    if (next !== undefined) cluster.clock.jumpTo(next);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
