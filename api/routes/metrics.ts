// GET /metrics — Prometheus text: the API's own request metrics and, when the worker runs in the same
// process (npm start), the provisioning metrics too. Needs an API key with `read`, or the bearer
// token FERRY_METRICS_TOKEN (a scraper then holds no API key at all).
import { createRoute, z } from '@hono/zod-openapi';
import type { FerryMetrics } from '../../telemetry/metrics.ts';
import { createRouter } from '../router.ts';

const route = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['health'],
  summary: 'Prometheus metrics',
  description:
    'The Prometheus text exposition (cycles, objects, SCIM requests, API requests, process; the job states, read from Temporal when scraped and absent from a scrape Temporal did not answer within 2 s). Authorized by an API key with `read` or by `Authorization: Bearer <FERRY_METRICS_TOKEN>`.',
  responses: {
    200: {
      description: 'Metrics in the Prometheus text format',
      content: { 'text/plain': { schema: z.string() } },
    },
  },
});

export function metricsRouter(metrics: FerryMetrics) {
  return createRouter().openapi(route, async (c) => {
    c.header('Cache-Control', 'no-store');
    const text = await metrics.text();
    return c.text(text, 200, { 'Content-Type': metrics.registry.contentType });
  });
}
