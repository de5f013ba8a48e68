// GET /api/v1/apps/{id}/cycles — the app's cycles, newest first: kind, status, counts, times.
import { createRoute, z } from '@hono/zod-openapi';
import type { Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { pageQuerySchema, pageSchema } from '../pagination.ts';
import { idParams, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { storeCursor } from '../store-cursor.ts';

const cycleSchema = z
  .object({
    id: z.string(),
    appId: z.string(),
    number: z.number().int(),
    kind: z.enum(['initial', 'incremental']),
    status: z.enum(['running', 'succeeded', 'failed', 'stopped']).openapi({
      description: '`stopped`: interrupted between batches by pause, restart, configChanged or quarantine',
    }),
    counts: z.record(z.string(), z.number()),
    processed: z.number().int(),
    total: z.number().int(),
    operations: z.number().int(),
    watermarkFrom: z.number().nullable(),
    watermarkTo: z.number().nullable(),
    failure: z.record(z.string(), z.unknown()).nullable(),
    pendingDeletions: z.number().int(),
    deletionThresholdExceeded: z.boolean(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
  })
  .openapi('Cycle');

export function cyclesRouter({ store }: { store: Store }) {
  return createRouter().openapi(
    createRoute({
      method: 'get',
      path: '/apps/{id}/cycles',
      tags: ['provisioning'],
      summary: "The app's cycles, newest first",
      request: { params: idParams, query: pageQuerySchema },
      responses: {
        200: jsonContent(pageSchema(cycleSchema, 'CyclePage'), 'A page of cycles'),
        ...errorResponses(400, 401, 404, 429),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { limit, cursor } = c.req.valid('query');
      if (!(await store.apps.get(id))) throw new ApiError('not_found', `App ${id} not found`);
      return c.json(await store.cycles.list(id, { limit, cursor: storeCursor(cursor, 'number') }), 200);
    },
  );
}
