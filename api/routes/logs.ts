// GET /api/v1/apps/{id}/logs — provisioning logs, newest first, filtered by cycle, object, action,
// status and time; JSON pages, or CSV (`Accept: text/csv`) of every matching entry for export.
import { createRoute, z } from '@hono/zod-openapi';
import type { LogStatus, ProvisioningAction } from '../../engine/types.ts';
import { logsToCsv, type LogQuery, type Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { pageQuerySchema, pageSchema } from '../pagination.ts';
import { idParams, idSchema } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { storeCursor } from '../store-cursor.ts';

const ACTIONS = ['Create', 'Update', 'Disable', 'Delete', 'StagedDelete', 'Skip', 'Other'] as const;
const STATUSES = ['Success', 'Failure', 'Skipped', 'Warning'] as const;
/** Rows per page read from the store while streaming CSV. */
const CSV_PAGE = 1000;

/** `a,b` or repeated values of an enum. */
const listOf = <T extends readonly [string, ...string[]]>(values: T, name: string) =>
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(values)).min(1))
    .optional()
    .openapi({ param: { name, in: 'query' }, description: `One or more of ${values.join(', ')}, comma-separated` });

const logsQuery = pageQuerySchema.extend({
  cycleId: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name: 'cycleId', in: 'query' } }),
  objectId: idSchema
    .optional()
    .openapi({ param: { name: 'objectId', in: 'query' }, description: 'Source or target id' }),
  action: listOf(ACTIONS, 'action'),
  status: listOf(STATUSES, 'status'),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ param: { name: 'since', in: 'query' }, description: 'Inclusive, ISO 8601' }),
  until: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ param: { name: 'until', in: 'query' }, description: 'Exclusive, ISO 8601' }),
  format: z
    .enum(['json', 'csv'])
    .optional()
    .openapi({ param: { name: 'format', in: 'query' }, description: 'Same as `Accept: text/csv` when `csv`' }),
});

export const logEntrySchema = z
  .object({
    id: z.string(),
    time: z.string(),
    appId: z.string(),
    cycleId: z.string().nullable(),
    changeId: z.string().nullable(),
    objectType: z.enum(['user', 'group']),
    sourceId: z.string(),
    sourceDisplayName: z.string().nullable(),
    targetId: z.string().nullable(),
    action: z.enum(ACTIONS),
    status: z.enum(STATUSES),
    errorCode: z.string().nullable(),
    errorMessage: z.string().nullable(),
    steps: z.array(z.looseObject({ name: z.string(), status: z.string(), details: z.record(z.string(), z.unknown()) })),
    modifiedAttributes: z.array(z.object({ name: z.string(), oldValue: z.unknown(), newValue: z.unknown() })),
    durationMs: z.number(),
    onDemand: z.boolean(),
  })
  .openapi('ProvisioningLogEntry');

export function logsRouter({ store }: { store: Store }) {
  return createRouter().openapi(
    createRoute({
      method: 'get',
      path: '/apps/{id}/logs',
      tags: ['provisioning'],
      summary: 'Provisioning logs',
      description:
        'One entry per object per action, newest first, with steps and modified attributes; also for a deleted app while its logs are kept (its retention period, unless deleted with `purge=true`). JSON pages by default; with `Accept: text/csv` (or `?format=csv`) every matching entry as one CSV file (`limit`/`cursor` ignored).',
      request: { params: idParams, query: logsQuery },
      responses: {
        200: {
          description: 'Entries',
          content: {
            'application/json': { schema: pageSchema(logEntrySchema, 'LogPage') },
            'text/csv': { schema: z.string() },
          },
        },
        ...errorResponses(400, 401, 404, 429),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      // A deleted app's logs stay readable for their retention period (unless it was deleted with purge).
      if (!(await store.apps.get(id)) && !(await store.retention.deletedAppLogs(id))) {
        throw new ApiError('not_found', `App ${id} not found`);
      }
      if (q.since && q.until && Date.parse(q.since) >= Date.parse(q.until)) {
        throw new ApiError('validation_failed', 'since must be before until', {
          details: [{ path: 'until', message: 'must be after since', in: 'query' }],
        });
      }
      const filter: LogQuery = {
        appId: id,
        ...(q.cycleId !== undefined ? { cycleId: q.cycleId } : {}),
        ...(q.objectId !== undefined ? { objectId: q.objectId } : {}),
        ...(q.action !== undefined ? { action: q.action as ProvisioningAction[] } : {}),
        ...(q.status !== undefined ? { status: q.status as LogStatus[] } : {}),
        ...(q.since !== undefined ? { since: q.since } : {}),
        ...(q.until !== undefined ? { until: q.until } : {}),
      };
      const wantsCsv =
        q.format === 'csv' || (q.format === undefined && /\btext\/csv\b/i.test(c.req.header('accept') ?? ''));
      if (!wantsCsv) {
        return c.json(
          await store.logs.query({ ...filter, limit: q.limit, cursor: storeCursor(q.cursor, 'timeAndId') }),
          200,
        );
      }
      const encoder = new TextEncoder();
      let cursor: string | null = null;
      let first = true;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const page = await store.logs.query({ ...filter, limit: CSV_PAGE, cursor });
          controller.enqueue(encoder.encode(logsToCsv(page.items, { header: first })));
          first = false;
          cursor = page.nextCursor;
          if (!cursor) controller.close();
        },
      });
      return c.body(stream, 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="ferry-logs-${id}.csv"`,
      });
    },
  );
}
