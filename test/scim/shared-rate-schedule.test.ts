// The app's shared request schedule on a clock of the test's own: how many reservations (database
// statements) a worker makes for its requests, how late a reserved start is used, and that a worker's
// own starts stay an interval apart.
import { describe, expect, it } from 'vitest';
import { RateGate } from '../../scim/rate-gate.ts';
import { LATE_START_MS, SharedRateSchedule, type SharedSlotRun } from '../../scim/shared-rate-schedule.ts';

/** The app's row as store/rate-slots.ts keeps it: runs start where the previous one ends, never before now. */
function scheduleRow(now: () => number) {
  let nextStartMs = Number.NEGATIVE_INFINITY;
  const runs: SharedSlotRun[] = [];
  return {
    runs,
    reserve: (slots: number, intervalMs: number): Promise<SharedSlotRun> => {
      const firstStartMs = Math.max(nextStartMs, now());
      nextStartMs = firstStartMs + slots * intervalMs;
      const run = { firstStartMs, slots, intervalMs, databaseNowMs: now(), pausedUntilMs: 0 };
      runs.push(run);
      return Promise.resolve(run);
    },
    pause: () => Promise.resolve(),
  };
}

describe('shared rate schedule', () => {
  it('at a rate far above what the worker sends, one reservation serves its requests of the next tens of ms, each start used at most 25 ms late and once', async () => {
    let now = 1_000_000;
    const row = scheduleRow(() => now);
    const schedule = new SharedRateSchedule({ source: row, now: () => now });
    // 1,000,000 req/s allowed (no limit in the way); the worker sends one request a ms, one waiting at a time.
    const intervalMs = 0.001;
    const starts: number[] = [];
    for (let n = 0; n < 200; n++) {
      const slot = await schedule.next(intervalMs, 1);
      expect(slot).not.toBeNull();
      starts.push(slot!.atMs);
      expect(now - slot!.atMs).toBeLessThanOrEqual(LATE_START_MS);
      now += 1;
    }
    // One statement a request before; now one for each ~25 ms of requests (the first runs grow to it).
    expect(row.runs.length).toBeLessThanOrEqual(20);
    // Every start handed out lies in a reserved run, and none twice.
    expect(new Set(starts).size).toBe(starts.length);
    for (const at of starts) {
      expect(row.runs.some((r) => at >= r.firstStartMs && at < r.firstStartMs + r.slots * r.intervalMs - 1e-9)).toBe(
        true,
      );
    }
  });

  it('a busy worker does not wait for the database at each run: the next run is reserved before the one in use runs out', async () => {
    let now = 1_000_000;
    // The database answers 4 ms after it is asked (on the test's clock), each run where the last ended.
    const row = scheduleRow(() => now);
    const due: { at: number; answer: () => void }[] = [];
    const source = {
      reserve: (slots: number, intervalMs: number) =>
        new Promise<SharedSlotRun>((resolve) => {
          const askedAt = now;
          due.push({ at: askedAt + 4, answer: () => void row.reserve(slots, intervalMs).then(resolve) });
        }),
      pause: () => Promise.resolve(),
    };
    const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
    const advance = async (ms: number) => {
      now += ms;
      for (const d of due.splice(0)) {
        if (d.at <= now) d.answer();
        else due.push(d);
      }
      await settle();
    };
    const schedule = new SharedRateSchedule({ source, now: () => now });
    let waits = 0;
    const starts: number[] = [];
    // One request a ms for 300 ms at an unlimited rate: each asks for a start, and waits only when
    // the start is not at hand. The first runs are small (they grow with the pace) and are waited for.
    for (let n = 0; n < 300; n++) {
      let slot: Awaited<ReturnType<SharedRateSchedule['next']>> | undefined;
      void schedule.next(0.001, 1).then((s) => (slot = s));
      await settle();
      if (slot === undefined && n >= 50) waits++;
      while (slot === undefined) await advance(1);
      expect(slot).not.toBeNull();
      expect(now - slot!.atMs).toBeLessThanOrEqual(LATE_START_MS);
      starts.push(slot!.atMs);
      await advance(1);
    }
    // A run reserved ahead hands out its own starts: none twice.
    expect(new Set(starts).size).toBe(starts.length);
    // Without reserving ahead, every run (about 25 ms of requests) waited for its statement.
    expect(waits).toBe(0);
    expect(row.runs.length).toBeGreaterThan(5);
  });

  it('a worker that sends rarely still reserves one start at a time', async () => {
    let now = 1_000_000;
    const row = scheduleRow(() => now);
    const schedule = new SharedRateSchedule({ source: row, now: () => now });
    for (let n = 0; n < 5; n++) {
      await schedule.next(0.001, 1);
      now += 1_000;
    }
    expect(row.runs.map((r) => r.slots)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('rate gate with a shared schedule', () => {
  it('starts handed out late (after a stall) go out an interval apart, not as a burst', async () => {
    let now = 1_000_000;
    // A sleep ends on a later turn of the event loop, as a timer would.
    const sleep = (ms: number) =>
      new Promise<void>((resolve) =>
        setImmediate(() => {
          now += ms;
          resolve();
        }),
      );
    // The schedule hands out starts of a run that all passed 20 ms ago (within what may still be used).
    let nextAt = now - 20;
    const shared = {
      next: (intervalMs: number) => {
        const atMs = nextAt;
        nextAt += intervalMs;
        return Promise.resolve({ atMs, fresh: false, pausedUntilMs: 0 });
      },
      pause: () => {},
    } as unknown as SharedRateSchedule;
    const gate = new RateGate({ requestsPerSecond: 1_000, concurrency: 4, shared, now: () => now, sleep });
    const started: number[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        await gate.acquire();
        started.push(now);
      }),
    );
    started.sort((a, b) => a - b);
    for (let i = 1; i < started.length; i++) expect(started[i] - started[i - 1]).toBeGreaterThanOrEqual(1);
  });
});
