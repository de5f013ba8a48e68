// Per-app sending discipline: a rate limit, a concurrency limit and a pause that holds the whole
// app back after a 429/503 Retry-After. One RateGate per ScimClient (= per app). With a
// SharedRateSchedule (shared-rate-schedule.ts) the rate slots and the pause are the app's across
// every worker process; the concurrency limit stays this process's own.
import type { SharedRateSchedule } from './shared-rate-schedule.ts';
import { sleep } from './sleep.ts';

export { SharedRateSchedule } from './shared-rate-schedule.ts';

export interface RateGateOptions {
  /** Requests started per second; spaced evenly (no bursts). */
  requestsPerSecond: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** The app's schedule shared with the other workers; absent = this process keeps the limit alone. */
  shared?: SharedRateSchedule;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type Release = () => void;

/** How late a reserved start may still be used (at least one interval): bounds the excess per second. */
const LATE_SLOT_TOLERANCE_MS = 50;

export class RateGate {
  private readonly intervalMs: number;
  private readonly concurrency: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private lastStart = Number.NEGATIVE_INFINITY;
  private queue: Promise<void> = Promise.resolve();
  private pausedUntilMs = 0;
  private inFlight = 0;
  private readonly waiters: Array<() => void> = [];
  private throttledMs = 0;
  private readonly shared: SharedRateSchedule | undefined;
  /** Callers waiting for a rate slot: how many start times the shared schedule is asked for at once. */
  private rateWaiting = 0;

  constructor(options: RateGateOptions) {
    if (!(options.requestsPerSecond > 0)) throw new RangeError('requestsPerSecond must be positive');
    if (!(options.concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
    this.intervalMs = 1000 / options.requestsPerSecond;
    this.concurrency = Math.floor(options.concurrency);
    // Sub-millisecond epoch time: at high rates Date.now() would round every interval up to 1 ms.
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.sleep = options.sleep ?? sleep;
    this.shared = options.shared;
  }

  /** Wait for a concurrency slot and a rate slot; call the returned function when the request ends. */
  async acquire(): Promise<Release> {
    await this.takeConcurrencySlot();
    this.rateWaiting++;
    try {
      await this.takeRateSlot();
    } catch (error) {
      this.releaseConcurrencySlot();
      throw error;
    } finally {
      this.rateWaiting--;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.releaseConcurrencySlot();
    };
  }

  /**
   * Hold every request of this app back for `ms` from now (e.g. a Retry-After); never shortens a
   * pause. With a shared schedule, every other worker's next reservation waits for it too.
   */
  pauseFor(ms: number): void {
    const now = this.now();
    const untilMs = now + ms;
    if (untilMs > this.pausedUntilMs) {
      this.throttledMs += untilMs - Math.max(this.pausedUntilMs, now);
      this.pausedUntilMs = untilMs;
    }
    this.shared?.pause(ms);
  }

  /** Milliseconds left of the current pause (0 when not paused). */
  get pauseRemainingMs(): number {
    return Math.max(0, this.pausedUntilMs - this.now());
  }

  /** Total milliseconds the app was held back by Retry-After pauses. */
  get totalPausedMs(): number {
    return this.throttledMs;
  }

  get active(): number {
    return this.inFlight;
  }

  private async takeRateSlot(): Promise<void> {
    // Waiters queue in a chain and each measures its distance from the previous request's actual
    // start, so a stalled event loop (late timers) cannot release a burst of overdue slots at once.
    // A pause set while waiting is seen on the next turn of the loop.
    const previous = this.queue;
    let done!: () => void;
    this.queue = new Promise<void>((resolve) => (done = resolve));
    await previous;
    try {
      if (!this.shared || !(await this.takeSharedSlot(this.shared))) await this.takeLocalSlot();
    } finally {
      done();
    }
  }

  /** The next start this process alone decides: `intervalMs` after the previous one. */
  private async takeLocalSlot(): Promise<void> {
    for (;;) {
      const now = this.now();
      const at = Math.max(this.lastStart + this.intervalMs, this.pausedUntilMs);
      if (at <= now) break;
      await this.sleep(at - now);
    }
    // A timer that fired a little late (timers have 1 ms granularity) keeps the schedule, so the
    // rate is not lost to rounding; after an idle spell or a stall the schedule restarts from now,
    // so overdue slots are never released as a burst.
    const now = this.now();
    const scheduled = this.lastStart + this.intervalMs;
    this.lastStart = now - scheduled < this.intervalMs ? scheduled : now;
  }

  /**
   * A start reserved in the app's shared schedule, waited for; false when the schedule cannot say
   * (the database did not answer) and this process keeps the limit alone for this request.
   */
  private async takeSharedSlot(shared: SharedRateSchedule): Promise<boolean> {
    for (;;) {
      let now = this.now();
      if (this.pausedUntilMs > now) {
        await this.sleep(this.pausedUntilMs - now);
        continue;
      }
      const slot = await shared.next(this.intervalMs, this.rateWaiting);
      if (!slot) return false;
      // Another worker's Retry-After: the slot is already after it; this process's retries wait too.
      if (slot.pausedUntilMs > this.pausedUntilMs) this.pausedUntilMs = slot.pausedUntilMs;
      // This process's own starts stay an interval apart, also when its run's starts are used a little
      // late (shared-rate-schedule.ts): overdue starts never go out as a burst.
      const startAtMs = Math.max(slot.atMs, this.lastStart + this.intervalMs);
      while ((now = this.now()) < startAtMs) await this.sleep(startAtMs - now);
      // A 429 while waiting: the slot lies inside the pause and is given up.
      if (this.pausedUntilMs > slot.atMs) continue;
      // A slot missed by more than its tolerance (a stalled event loop) is given up rather than sent
      // next to the following one; the first slot of a fresh reservation is always kept, so a slow
      // database cannot starve the app.
      if (!slot.fresh && now - slot.atMs >= Math.max(this.intervalMs, LATE_SLOT_TOLERANCE_MS)) continue;
      this.lastStart = now;
      return true;
    }
  }

  private takeConcurrencySlot(): Promise<void> {
    if (this.inFlight < this.concurrency) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private releaseConcurrencySlot(): void {
    const next = this.waiters.shift();
    // Hand the slot over directly so a newcomer cannot overtake a waiter.
    if (next) next();
    else this.inFlight--;
  }
}
