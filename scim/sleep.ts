// The one timer of scim/: every wait (backoff, rate slot, Retry-After pause) goes through `sleep`.
// Node fires a setTimeout longer than 2^31-1 ms after 1 ms (TimeoutOverflowWarning), which would
// turn a long wait into a busy loop; a clamped sleep just wakes early and the caller waits again.

/** The longest delay Node's `setTimeout` holds (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Resolve after `ms` (clamped to 0 … MAX_TIMER_MS, so callers that loop on a deadline never spin). */
export function sleep(ms: number): Promise<void> {
  const delay = Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_TIMER_MS) : MAX_TIMER_MS;
  return new Promise<void>((resolve) => setTimeout(resolve, delay));
}
