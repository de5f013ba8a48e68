// Counts failed authentications per client address in a sliding window. Once an address reaches
// the limit it is refused (429) until its oldest failure leaves the window, which makes guessing
// API keys slow without ever locking out a client that authenticates correctly. No timers: stale
// entries are swept on use, so nothing keeps the process alive.
export interface FailedAuthLimiterOptions {
  /** Failures allowed per window and address (default 20). */
  maxFailures?: number;
  /** Window length in milliseconds (default 60 000). */
  windowMs?: number;
  now?: () => number;
  /** Addresses tracked at most; beyond it the stalest are dropped (default 10 000). */
  maxAddresses?: number;
}

export class FailedAuthLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly maxAddresses: number;

  constructor(options: FailedAuthLimiterOptions = {}) {
    this.maxFailures = options.maxFailures ?? 20;
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.maxAddresses = options.maxAddresses ?? 10_000;
  }

  /** Milliseconds the address must wait before trying again, or 0 when it may try now. */
  blockedFor(address: string): number {
    const times = this.recent(address);
    if (times.length < this.maxFailures) return 0;
    return Math.max(1, times[times.length - this.maxFailures] + this.windowMs - this.now());
  }

  recordFailure(address: string): void {
    const times = this.recent(address);
    times.push(this.now());
    // Only the newest maxFailures matter for blockedFor.
    if (times.length > this.maxFailures) times.splice(0, times.length - this.maxFailures);
    this.failures.delete(address);
    this.failures.set(address, times);
    if (this.failures.size > this.maxAddresses) this.sweep();
  }

  private recent(address: string): number[] {
    const times = this.failures.get(address);
    if (!times) return [];
    const cutoff = this.now() - this.windowMs;
    const kept = times.filter((t) => t > cutoff);
    if (kept.length === 0) this.failures.delete(address);
    return kept;
  }

  private sweep(): void {
    const cutoff = this.now() - this.windowMs;
    for (const [address, times] of this.failures) {
      if (times[times.length - 1] <= cutoff) this.failures.delete(address);
    }
    // Map iteration order is insertion order and recordFailure re-inserts: the first are stalest.
    for (const address of this.failures.keys()) {
      if (this.failures.size <= this.maxAddresses) break;
      this.failures.delete(address);
    }
  }
}
