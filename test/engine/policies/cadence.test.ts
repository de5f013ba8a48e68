import { describe, expect, it } from 'vitest';
import { backoffLevel, nextCycleDelayMs } from '../../../engine/policies/index.ts';
import type { JobState } from '../../../engine/types.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('cadence: when the job wakes up next', () => {
  it.each<[state: JobState, failures: number, interval: number | undefined, expected: number | null]>([
    ['steady', 0, undefined, 40 * MIN], // default interval
    ['steady', 0, 15, 15 * MIN], // per-app interval
    ['initial', 0, undefined, 40 * MIN],
    ['steady', 1, undefined, 80 * MIN], // each whole-cycle failure doubles
    ['steady', 2, undefined, 160 * MIN],
    ['steady', 5, undefined, 1280 * MIN], // 21 h 20 min, still below the cap
    ['steady', 6, undefined, 24 * HOUR], // 2,560 min would exceed: exactly the 24 h cap
    ['steady', 50, undefined, 24 * HOUR], // stays at the cap
    ['initial', 3, 60, 8 * HOUR],
    ['steady', 4, 90, 24 * HOUR], // 90 · 16 = 1,440 min: exactly 24 h
    ['steady', 3, 48 * 60, 48 * HOUR], // a longer interval than the cap is never shortened
    ['quarantined', 0, undefined, 24 * HOUR],
    ['quarantined', 9, 5, 24 * HOUR],
    ['paused', 0, undefined, null],
    ['disabled', 3, undefined, null],
  ])('%s with %i failures, interval %s min → %s ms', (state, consecutiveFailures, intervalMinutes, expected) => {
    expect(nextCycleDelayMs({ state, consecutiveFailures, intervalMinutes })).toBe(expected);
  });

  it.each<[failures: number, interval: number | undefined, level: number]>([
    [0, undefined, 0],
    [1, undefined, 1],
    [6, undefined, 6],
    [7, undefined, 6], // the level stops growing once the cap is reached
    [10, 90, 4],
    [3, 24 * 60, 0],
  ])('backoff level after %i failures (interval %s) is %i', (failures, interval, level) => {
    expect(backoffLevel(failures, interval)).toBe(level);
  });
});
