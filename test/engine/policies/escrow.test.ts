import { describe, expect, it } from 'vitest';
import type { ErrorKind } from '../../../engine/errors.ts';
import { escrowDelayMs, isEscrowDue, nextEscrowRetry } from '../../../engine/policies/index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const first = new Date('2024-03-01T00:00:00.000Z');
const at = (ms: number) => new Date(first.getTime() + ms);
const iso = (ms: number) => at(ms).toISOString();

describe('escrow: retry schedule of a failed object', () => {
  it.each<
    [
      failureCount: number,
      elapsed: number,
      kind: ErrorKind,
      retryAfterMs: number | undefined,
      retryAt: string | null,
      giveUp: boolean,
    ]
  >([
    [1, 0, 'permanent', undefined, null, false], // first failure: next cycle
    [2, HOUR, 'permanent', undefined, iso(HOUR + 6 * HOUR), false], // then 6 h
    [3, DAY, 'permanent', undefined, iso(DAY + 12 * HOUR), false], // then 12 h
    [4, 2 * DAY, 'conflict', undefined, iso(2 * DAY + DAY), false], // then 24 h
    [5, 3 * DAY, 'permanent', undefined, iso(4 * DAY), false], // then daily
    [20, 18 * DAY, 'notFound', undefined, iso(19 * DAY), false],
    [3, 5 * DAY, 'transient', undefined, null, false], // transient errors retry at the next cycle
    [1, 0, 'transient', 30_000, iso(30_000), false], // 429: Retry-After is honoured
    [6, 4 * DAY, 'transient', 2 * HOUR, iso(4 * DAY + 2 * HOUR), false],
    [30, 27.5 * DAY, 'permanent', undefined, iso(28 * DAY), false], // never scheduled past day 28
    [30, 28 * DAY - 1, 'permanent', undefined, iso(28 * DAY), false], // just before day 28: one last try
    [30, 28 * DAY, 'permanent', undefined, null, true], // day 28: give up
    [30, 28 * DAY, 'transient', 1000, null, true],
    [30, 40 * DAY, 'transient', undefined, null, true],
  ])(
    'failure %i after %i ms (%s, Retry-After %s) → %s, giveUp %s',
    (failureCount, elapsed, kind, retryAfterMs, retryAt, giveUp) => {
      expect(
        nextEscrowRetry({ failureCount, firstFailedAt: first.toISOString(), now: at(elapsed), kind, retryAfterMs }),
      ).toEqual({
        retryAt,
        giveUp,
      });
    },
  );

  it('accepts the first failure as a Date as well', () => {
    expect(nextEscrowRetry({ failureCount: 2, firstFailedAt: first, now: first, kind: 'permanent' }).retryAt).toBe(
      iso(6 * HOUR),
    );
  });

  it.each<[count: number, delay: number | null]>([
    [1, null],
    [2, 6 * HOUR],
    [3, 12 * HOUR],
    [4, DAY],
    [5, DAY],
    [100, DAY],
  ])('gap after failure %i is %s ms', (count, delay) => {
    expect(escrowDelayMs(count)).toBe(delay);
  });

  it('an escrowed object is due once its retry time has come', () => {
    expect(isEscrowDue(null, first)).toBe(true);
    expect(isEscrowDue(iso(HOUR), at(HOUR - 1))).toBe(false);
    expect(isEscrowDue(iso(HOUR), at(HOUR))).toBe(true);
  });
});
