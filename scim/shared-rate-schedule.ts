// One app's request schedule shared by every worker process: the RateGate asks it for the next start
// time, and it hands out the run of starts this process reserved in the database (one statement per
// run, at most ~200 ms worth), reserving the next run when one is used up. A Retry-After is written
// to the same row, so every worker's next run starts after it. When the database does not answer,
// the gate keeps the limit locally for a while (the `onUnavailable` hook warns) and tries again.
// A run is sized by what this process took lately: where the app's rate is far above what the process
// sends (e.g. a fast target at 1,000,000 req/s), its starts pass within microseconds, so a start may be
// used up to LATE_START_MS after its time (the gate spaces this process's starts by the interval):
// one reservation then serves the requests of the next tens of ms, not one request each.
// The next run is reserved ahead, shortly before the one in use runs out (about two round trips of
// the database before), so the requests of a busy app do not all wait for a statement every run.
import { MAX_TIMER_MS } from './sleep.ts';

/**
 * How late a start of a run may still be handed out (half the gate's tolerance, so the gate keeps it).
 * Every start is used at most this late, so in any second the app gets at most its rate plus this much
 * of it, the bound the gate's tolerance already sets.
 */
export const LATE_START_MS = 25;

/** A run of starts reserved in the source (times on the source's clock, epoch ms). */
export interface SharedSlotRun {
  firstStartMs: number;
  slots: number;
  intervalMs: number;
  /** The source's clock when it reserved the run. */
  databaseNowMs: number;
  /** End of the app's shared pause on the source's clock (0 = none). */
  pausedUntilMs: number;
}

/** Where the runs are reserved: the app's row in `app_rate_slots` (store/rate-slots.ts). */
export interface RateSlotSource {
  /** Null when the app is gone (nothing to share any more). */
  reserve(slots: number, intervalMs: number): Promise<SharedSlotRun | null>;
  pause(forMs: number): Promise<unknown>;
}

export interface SharedRateScheduleOptions {
  source: RateSlotSource;
  /** The most of the schedule one reservation takes (default 200 ms; at least one start). */
  maxRunMs?: number;
  /** A reservation not answered within this long counts as a failure (default 2 s). */
  answerTimeoutMs?: number;
  /** After a failure, this process keeps the limit alone this long before asking again (default 5 s). */
  localAfterFailureMs?: number;
  /** Every failed reservation or pause (the caller decides how often to say so). */
  onUnavailable?: (error: unknown) => void;
  /** The first reservation that succeeds after a failure. */
  onAvailable?: () => void;
  now?: () => number;
}

/** A start time for one request, on this process's clock. */
export interface SharedSlot {
  atMs: number;
  /** The first start of a fresh reservation (used even when it is already a little late). */
  fresh: boolean;
  /** End of the app's shared pause on this process's clock (0 = none). */
  pausedUntilMs: number;
}

/** Clock offset (source minus local) from the reservation that took the least time lately. */
class ClockOffset {
  private offsetMs = 0;
  private roundTripMs = Number.POSITIVE_INFINITY;
  private sampledAt = Number.NEGATIVE_INFINITY;

  sample(sourceNowMs: number, sentMs: number, answeredMs: number): void {
    const roundTripMs = answeredMs - sentMs;
    // A quicker round trip measures better; an old sample gives way, so drift is followed.
    if (roundTripMs <= this.roundTripMs || answeredMs - this.sampledAt > 30_000) {
      this.offsetMs = sourceNowMs - (sentMs + roundTripMs / 2);
      this.roundTripMs = roundTripMs;
      this.sampledAt = answeredMs;
    }
  }

  toLocal(sourceMs: number): number {
    return sourceMs - this.offsetMs;
  }
}

/** A run as the source reserved it, and when it was asked for (local clock). */
interface Reservation {
  run: SharedSlotRun;
  sentMs: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the database did not answer within ${ms} ms`)),
      Math.min(ms, MAX_TIMER_MS),
    );
    timer.unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export class SharedRateSchedule {
  private readonly source: RateSlotSource;
  private readonly maxRunMs: number;
  private readonly answerTimeoutMs: number;
  private readonly localAfterFailureMs: number;
  private readonly now: () => number;
  private readonly clock = new ClockOffset();
  /** The rest of this process's reserved run: the next start (local clock) and how many are left. */
  private run: { nextMs: number; left: number; intervalMs: number; pausedUntilMs: number } | null = null;
  /** The next run, reserved before `run` is used up; null when none is asked for. */
  private ahead: { intervalMs: number; answer: Promise<Reservation | null> } | null = null;
  /** The quickest recent answer of the source (ms): how early the next run is asked for. */
  private roundTripMs = Number.NaN;
  /** Starts handed out since the last reservation, and when it was made (local clock): the demand. */
  private taken = 0;
  private reservedAtMs = Number.NaN;
  private localUntilMs = Number.NEGATIVE_INFINITY;
  private failing = false;
  /** Gates of one app (an old and a new client) take slots one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SharedRateScheduleOptions) {
    this.source = options.source;
    this.maxRunMs = options.maxRunMs ?? 200;
    this.answerTimeoutMs = options.answerTimeoutMs ?? 2_000;
    this.localAfterFailureMs = options.localAfterFailureMs ?? 5_000;
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
  }

  /**
   * The next start reserved for this process, `intervalMs` apart (the app's rate), reserving up to
   * `wanted` starts (capped at ~200 ms worth) when the run is used up; null when the source cannot
   * answer and the caller keeps the limit alone.
   */
  next(intervalMs: number, wanted: number): Promise<SharedSlot | null> {
    const taken = this.queue.then(() => this.take(intervalMs, wanted));
    this.queue = taken.catch(() => undefined);
    return taken;
  }

  /** Shares a Retry-After pause of `ms` from now; this process's reserved runs are given up. */
  pause(ms: number): void {
    this.run = null;
    this.ahead = null;
    void withTimeout(this.source.pause(ms), this.answerTimeoutMs).catch((error: unknown) => this.failed(error));
  }

  private async take(intervalMs: number, wanted: number): Promise<SharedSlot | null> {
    const now = this.now();
    if (now < this.localUntilMs) return null;
    const slot = this.fromRun(intervalMs, now);
    if (slot) return slot;
    const ahead = this.ahead;
    this.ahead = null;
    const early = ahead && ahead.intervalMs === intervalMs ? await ahead.answer : null;
    if (early) {
      this.use(early, intervalMs);
      const next = this.fromRun(intervalMs, this.now());
      if (next) return next;
    }
    this.run = null;
    const reserved = await this.reserve(intervalMs, wanted, true);
    if (!reserved) return null;
    this.use(reserved, intervalMs);
    const atMs = this.clock.toLocal(reserved.run.firstStartMs);
    const fresh = this.fromRun(intervalMs, atMs) as SharedSlot;
    return { ...fresh, fresh: true };
  }

  /**
   * The next start of the run in use that can still be used, or null. Starts missed meanwhile are
   * skipped: the first one at most LATE_START_MS late, or the last one passed (as late as it is) when
   * that is earlier.
   */
  private fromRun(intervalMs: number, now: number): SharedSlot | null {
    const run = this.run;
    if (!run || run.left <= 0 || run.intervalMs !== intervalMs) return null;
    const lateMs = now - run.nextMs;
    const passed = Math.max(0, Math.floor(lateMs / intervalMs));
    const tooLate = Math.max(0, Math.ceil((lateMs - LATE_START_MS) / intervalMs));
    const skip = Math.min(passed, tooLate, run.left - 1);
    const atMs = run.nextMs + skip * intervalMs;
    // All that is left passed too long ago: a fresh run instead.
    if (now - atMs > Math.max(LATE_START_MS, intervalMs)) return null;
    run.nextMs = atMs + intervalMs;
    run.left -= skip + 1;
    this.taken++;
    const pausedUntilMs = run.pausedUntilMs;
    run.pausedUntilMs = 0;
    this.reserveAheadIfDue(intervalMs, now);
    return { atMs, fresh: false, pausedUntilMs };
  }

  /** Makes a reserved run the one in use. */
  private use({ run, sentMs }: Reservation, intervalMs: number): void {
    this.taken = 0;
    this.reservedAtMs = sentMs;
    this.run = {
      nextMs: this.clock.toLocal(run.firstStartMs),
      left: run.slots,
      intervalMs,
      pausedUntilMs: run.pausedUntilMs > 0 ? this.clock.toLocal(run.pausedUntilMs) : 0,
    };
  }

  /**
   * Reserves a run of `wanted` starts or what the demand says (at most ~200 ms worth). `report`: a
   * failure switches this process to its local limit; a run asked for ahead fails quietly (the
   * reservation made when it is needed reports).
   */
  private async reserve(intervalMs: number, wanted: number, report: boolean): Promise<Reservation | null> {
    const slots = Math.max(
      1,
      Math.min(Math.max(Math.floor(wanted), this.demand(this.now())), Math.floor(this.maxRunMs / intervalMs)),
    );
    const sentMs = this.now();
    let run: SharedSlotRun | null;
    try {
      run = await withTimeout(this.source.reserve(slots, intervalMs), this.answerTimeoutMs);
    } catch (error) {
      if (report) this.failed(error);
      return null;
    }
    const answeredMs = this.now();
    if (this.failing) {
      this.failing = false;
      this.options.onAvailable?.();
    }
    if (!run) return null;
    this.clock.sample(run.databaseNowMs, sentMs, answeredMs);
    // The quickest recent answer, forgotten slowly (10 % a reservation) when answers get slower.
    const roundTripMs = answeredMs - sentMs;
    this.roundTripMs = Number.isNaN(this.roundTripMs) ? roundTripMs : Math.min(roundTripMs, this.roundTripMs * 1.1);
    return { run, sentMs };
  }

  /**
   * Asks for the next run once the one in use can serve for only about two more answers of the
   * source (its last start is near, or about to be too late to use, or this process takes starts so
   * fast that the ones left will be gone by then), when this process is likely to want a start within
   * that time at all: a process sending now and then reserves when it sends, as before.
   */
  private reserveAheadIfDue(intervalMs: number, now: number): void {
    const run = this.run;
    if (this.ahead || !run || Number.isNaN(this.roundTripMs)) return;
    const leadMs = 2 * this.roundTripMs + 1;
    const wantedWithinLead = (this.taken * leadMs) / Math.max(now - this.reservedAtMs, LATE_START_MS);
    if (wantedWithinLead < 1) return;
    const usableUntilMs = run.nextMs + Math.max(0, run.left - 1) * intervalMs + LATE_START_MS;
    if (usableUntilMs - now > leadMs && run.left > wantedWithinLead) return;
    this.ahead = { intervalMs, answer: this.reserve(intervalMs, 1, false) };
  }

  /**
   * Starts this process may want within LATE_START_MS: twice what it took at its recent pace (the
   * starts of the last run over the time since it was reserved, at least LATE_START_MS), so a run
   * doubles at most from one reservation to the next, and shrinks when the process sends less.
   */
  private demand(now: number): number {
    if (Number.isNaN(this.reservedAtMs)) return 1;
    const elapsedMs = Math.max(now - this.reservedAtMs, LATE_START_MS);
    return Math.ceil((2 * this.taken * LATE_START_MS) / elapsedMs);
  }

  private failed(error: unknown): void {
    this.failing = true;
    this.localUntilMs = this.now() + this.localAfterFailureMs;
    this.options.onUnavailable?.(error);
  }
}
