import type { ExpressionEnv } from '../../../engine/expressions/index.ts';

/** A fixed environment: time 2021-07-02T15:33:38Z, random from a seeded generator, numbered GUIDs. */
export function makeEnv(attributes: Record<string, unknown> = {}, extra: Partial<ExpressionEnv> = {}): ExpressionEnv {
  let seed = 42;
  let guids = 0;
  return {
    attributes,
    now: () => new Date('2021-07-02T15:33:38.000Z'),
    random: () => {
      // mulberry32: deterministic, good enough spread for tests
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
    guid: () => `00000000-0000-4000-8000-${String(++guids).padStart(12, '0')}`,
    ...extra,
  };
}
