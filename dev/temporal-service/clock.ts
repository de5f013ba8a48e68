// The virtual clock: real time plus the time skipped so far. Every deadline the workflow can observe
// (timers, retry backoffs, workflow timeouts, schedule-to-close) is a virtual deadline kept here.

interface Deadline {
  at: number;
  seq: number;
  fire: () => void;
}

export class VirtualClock {
  private offsetMs = 0;
  private frozenAt: number | undefined;
  private deadlines: Deadline[] = [];
  private seq = 0;
  private realTimer: NodeJS.Timeout | undefined;
  private closed = false;

  now(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }

  /** Runs `fire` once the virtual clock reaches `at`. Returns a function that cancels it. */
  schedule(at: number, fire: () => void): () => void {
    const deadline: Deadline = { at, seq: this.seq++, fire };
    const index = this.deadlines.findIndex((d) => d.at > at);
    if (index === -1) this.deadlines.push(deadline);
    else this.deadlines.splice(index, 0, deadline);
    this.arm();
    return () => {
      const i = this.deadlines.indexOf(deadline);
      if (i !== -1) {
        this.deadlines.splice(i, 1);
        this.arm();
      }
    };
  }

  nextDeadline(): number | undefined {
    return this.deadlines[0]?.at;
  }

  /** Stops the clock (explicit skips step it deadline by deadline). */
  freeze(): void {
    if (this.frozenAt === undefined) this.frozenAt = this.now();
    this.arm();
  }

  unfreeze(): void {
    if (this.frozenAt === undefined) return;
    this.offsetMs = this.frozenAt - Date.now();
    this.frozenAt = undefined;
    this.arm();
    this.fireDue();
  }

  /** Moves the clock forward to `at` (never backwards) and fires the deadlines due at `at`. */
  jumpTo(at: number): void {
    const now = this.now();
    if (at > now) {
      if (this.frozenAt !== undefined) this.frozenAt = at;
      else this.offsetMs += at - now;
    }
    this.fireDue();
  }

  private fireDue(): void {
    const now = this.now();
    while (this.deadlines.length > 0 && this.deadlines[0].at <= now) {
      const deadline = this.deadlines.shift() as Deadline;
      deadline.fire();
    }
    this.arm();
  }

  private arm(): void {
    if (this.realTimer) clearTimeout(this.realTimer);
    this.realTimer = undefined;
    const next = this.deadlines[0];
    if (!next || this.frozenAt !== undefined || this.closed) return;
    const delay = Math.min(Math.max(next.at - this.now(), 0), 2 ** 31 - 1);
    this.realTimer = setTimeout(() => this.fireDue(), delay);
  }

  close(): void {
    this.closed = true;
    this.deadlines = [];
    if (this.realTimer) clearTimeout(this.realTimer);
    this.realTimer = undefined;
  }
}

/** Real-time timers (task timeouts, long-poll holds) that `close()` clears all at once. */
export class RealTimers {
  private timers = new Set<NodeJS.Timeout>();

  set(ms: number, fire: () => void): () => void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        fire();
      },
      Math.min(ms, 2 ** 31 - 1),
    );
    this.timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    };
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
