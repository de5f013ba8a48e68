// The shared request schedule of an app (store/rate-slots.ts): what several workers reserving at once
// get, and how a Retry-After written by one reaches the others.
import { describe, expect, it } from 'vitest';
import type { RateSlotRun, Store } from '../../store/index.ts';
import { storeBackends, useStore } from '../support/postgres.ts';

describe.each(storeBackends)('app rate slots on $name', (backend) => {
  const ctx = useStore(backend);

  const newApp = async () =>
    (
      await ctx.store.apps.create({
        name: 'Rate-limited app',
        template: 'generic-scim',
        configuration: { target: { url: 'https://scim.example/v2' } },
      })
    ).id;

  /** Two stores on one database, as two worker processes have (PGlite: one process, one store). */
  async function twoWorkers(): Promise<[Store, Store]> {
    const other = await ctx.opened.reopen({ migrate: false });
    return [ctx.store, other ?? ctx.store];
  }

  it('runs reserved by workers at the same moment never overlap, and leave no gap between them', async () => {
    const appId = await newApp();
    const [a, b] = await twoWorkers();
    const intervalMs = 40;
    const runs: RateSlotRun[] = (
      await Promise.all(
        Array.from({ length: 60 }, (_, n) => (n % 2 === 0 ? a : b).rateSlots.reserve(appId, 1 + (n % 5), intervalMs)),
      )
    ).map((run) => run!);
    const sorted = [...runs].sort((x, y) => x.firstStartMs - y.firstStartMs);
    for (let i = 1; i < sorted.length; i++) {
      const previousEnd = sorted[i - 1].firstStartMs + sorted[i - 1].slots * intervalMs;
      // Microsecond timestamps: a run starts where the previous one ends, or later (never earlier).
      expect(sorted[i].firstStartMs).toBeGreaterThanOrEqual(previousEnd - 0.002);
    }
    // Reserved back to back from the first: the 60 runs together cover exactly their starts.
    const slots = runs.reduce((sum, run) => sum + run.slots, 0);
    const last = sorted[sorted.length - 1];
    expect(last.firstStartMs + last.slots * intervalMs - sorted[0].firstStartMs).toBeCloseTo(slots * intervalMs, 1);
    // Nothing is reserved in the past: a run never starts before the database's clock said now.
    for (const run of runs) expect(run.firstStartMs).toBeGreaterThanOrEqual(run.databaseNowMs - 1000);
  });

  it("a Retry-After written by one worker holds the other's next run back until it has passed", async () => {
    const appId = await newApp();
    const [a, b] = await twoWorkers();
    await b.rateSlots.reserve(appId, 5, 40);
    const pausedUntil = await a.rateSlots.pause(appId, 2_000);
    const run = (await b.rateSlots.reserve(appId, 5, 40))!;
    expect(run.pausedUntilMs).toBe(pausedUntil);
    expect(run.firstStartMs).toBeGreaterThanOrEqual(pausedUntil!);
    expect(run.pausedUntilMs - run.databaseNowMs).toBeGreaterThan(1_000);
    // A shorter Retry-After later does not shorten the pause.
    expect(await a.rateSlots.pause(appId, 10)).toBe(pausedUntil);
  });

  it('an app that was deleted has no schedule to reserve in', async () => {
    const appId = await newApp();
    await ctx.store.rateSlots.reserve(appId, 1, 100);
    await ctx.store.apps.delete(appId);
    expect(await ctx.store.rateSlots.reserve(appId, 1, 100)).toBeNull();
    expect(await ctx.store.rateSlots.pause(appId, 1_000)).toBeNull();
  });
});
