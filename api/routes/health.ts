// GET /healthz (alive) and GET /readyz (database and Temporal reachable): the only routes without
// authentication (load balancers, docker health checks). Neither reveals the detail of a failure.
import { createRoute, z } from '@hono/zod-openapi';
import { runHealthChecks, type HealthCheck } from '../../telemetry/health.ts';
import { createRouter } from '../router.ts';

export type { HealthCheck } from '../../telemetry/health.ts';

const healthSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.record(z.string(), z.enum(['ok', 'failed'])),
  })
  .openapi('Health');

const liveRoute = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['health'],
  summary: 'Liveness',
  description: 'Answers 200 while the process serves requests; checks no dependency. No API key needed.',
  security: [],
  responses: {
    200: { description: 'The process is alive', content: { 'application/json': { schema: healthSchema } } },
  },
});

const readyRoute = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['health'],
  summary: 'Readiness',
  description: 'Runs each readiness check (database, Temporal). No API key needed; reveals no detail of failures.',
  security: [],
  responses: {
    200: { description: 'Every check passed', content: { 'application/json': { schema: healthSchema } } },
    503: { description: 'A check failed', content: { 'application/json': { schema: healthSchema } } },
  },
});

export function healthRouter(checks: Record<string, HealthCheck>) {
  return createRouter()
    .openapi(liveRoute, (c) => c.json({ status: 'ok' as const, checks: {} }, 200))
    .openapi(readyRoute, async (c) => {
      const report = await runHealthChecks(checks);
      return report.status === 'ok' ? c.json(report, 200) : c.json(report, 503);
    });
}
