import { describe, expect, it } from 'vitest';
import {
  deletionLimit,
  exceedsDeletionThreshold,
  type DeletionThresholdSetting,
} from '../../../engine/policies/index.ts';

describe('deletion threshold: too many disables/deletes in one cycle are held back', () => {
  it.each<
    [deletions: number, linkedObjects: number, threshold: DeletionThresholdSetting | null | undefined, exceeds: boolean]
  >([
    [500, 10_000, undefined, false], // default 500: exactly 500 is allowed
    [501, 10_000, undefined, true],
    [0, 0, undefined, false],
    [10, 100, { count: 10 }, false],
    [11, 100, { count: 10 }, true],
    [1, 100, { count: 0 }, true], // a zero count holds back every deletion
    [100, 1000, { percent: 10 }, false], // exactly 10 %
    [101, 1000, { percent: 10 }, true],
    [100, 1005, { percent: 10 }, false], // 10 % of 1,005 is 100.5
    [101, 1005, { percent: 10 }, true],
    [1, 0, { percent: 50 }, true],
    [1000, 1000, { percent: 100 }, false],
    [1_000_000, 10, null, false], // null: no guard
  ])('%i deletions of %i linked, threshold %j → %s', (deletions, linkedObjects, threshold, exceeds) => {
    expect(exceedsDeletionThreshold({ deletions, linkedObjects, threshold })).toBe(exceeds);
  });

  it('reports the limit for logs and the console', () => {
    expect(deletionLimit(undefined, 0)).toBe(500);
    expect(deletionLimit({ percent: 25 }, 2001)).toBe(500);
    expect(deletionLimit(null, 10)).toBeNull();
  });
});
