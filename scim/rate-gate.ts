// Per-app sending discipline: a rate limit, a concurrency limit and a pause that holds the whole
// app back after a 429/503 Retry-After. One RateGate per ScimClient (= per app).

export interface RateGateOptions {
  /** Requests started per second; spaced evenly (no bursts). */
  requestsPerSecond: number;
  /** Requests in flight at once. */
  concurrency: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type Release = () => void;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

  constructor(options: RateGateOptions) {
    if (!(options.requestsPerSecond > 0)) throw new RangeError('requestsPerSecond must be positive');
    if (!(options.concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
    this.intervalMs = 1000 / options.requestsPerSecond;
    this.concurrency = Math.floor(options.concurrency);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** Wait for a concurrency slot and a rate slot; call the returned function when the request ends. */
  async acquire(): Promise<Release> {
    await this.takeConcurrencySlot();
    try {
      await this.takeRateSlot();
    } catch (error) {
      this.releaseConcurrencySlot();
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.releaseConcurrencySlot();
    };
  }

  /** Hold every request of this app back until `untilMs` (epoch ms), e.g. from a Retry-After. */
  pauseUntil(untilMs: number): void {
    if (untilMs > this.pausedUntilMs) {
      this.throttledMs += untilMs - Math.max(this.pausedUntilMs, this.now());
      this.pausedUntilMs = untilMs;
    }
  }

  get pausedUntil(): number {
    return this.pausedUntilMs;
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
      for (;;) {
        const now = this.now();
        const at = Math.max(this.lastStart + this.intervalMs, this.pausedUntilMs);
        if (at <= now) break;
        await this.sleep(at - now);
      }
      this.lastStart = this.now();
    } finally {
      done();
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
