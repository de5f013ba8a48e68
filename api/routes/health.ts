// GET /healthz — the only route without authentication (load balancers, docker health checks).
import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../router.ts';

/** Throws (or rejects) when the dependency it checks is unhealthy. */
export type HealthCheck = () => Promise<void>;

const healthSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.record(z.string(), z.enum(['ok', 'failed'])),
  })
  .openapi('Health');

const route = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['health'],
  summary: 'Liveness and readiness',
  description: 'Runs each readiness check (database, Temporal). No API key needed; reveals no detail of failures.',
  security: [],
  responses: {
    200: { description: 'Every check passed', content: { 'application/json': { schema: healthSchema } } },
    503: { description: 'A check failed', content: { 'application/json': { schema: healthSchema } } },
  },
});

export function healthRouter(checks: Record<string, HealthCheck>) {
  return createRouter().openapi(route, async (c) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await check();
          return [name, 'ok'] as const;
        } catch {
          return [name, 'failed'] as const;
        }
      }),
    );
    const failed = results.some(([, r]) => r === 'failed');
    const body = { status: failed ? ('unavailable' as const) : ('ok' as const), checks: Object.fromEntries(results) };
    return failed ? c.json(body, 503) : c.json(body, 200);
  });
}
