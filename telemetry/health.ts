// Readiness checks shared by the API's and the worker's /readyz: each check throws (or rejects)
// when the dependency it looks at is unavailable. Results name the check, never the failure's detail.

/** Throws (or rejects) when the dependency it checks is unhealthy. */
export type HealthCheck = () => Promise<void>;

export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, 'ok' | 'failed'>;
}

/** How long one check may take before it counts as failed (a hung database must not hang the probe). */
const CHECK_TIMEOUT_MS = 5_000;

function withTimeout(check: HealthCheck, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('health check timed out')), ms);
  });
  return Promise.race([check(), timeout]).finally(() => clearTimeout(timer));
}

/** Runs every check at once; the report is `unavailable` when one failed. */
export async function runHealthChecks(
  checks: Record<string, HealthCheck>,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<HealthReport> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check, timeoutMs);
        return [name, 'ok'] as const;
      } catch {
        return [name, 'failed'] as const;
      }
    }),
  );
  const failed = results.some(([, r]) => r === 'failed');
  return { status: failed ? 'unavailable' : 'ok', checks: Object.fromEntries(results) };
}
