// Counting what arrived at a target over time: the rate-limit tests and the scale-out bench judge a
// limit by the busiest one-second window of arrival times.

/** Most arrivals (times in ms) within any one-second window. */
export function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= 1000) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
