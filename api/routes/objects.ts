// One object of one app: GET /api/v1/apps/{id}/objects/{objectId} explains it (link, scope, mapping,
// matching key, next export, latest log entries; nothing written, no request to the target);
// POST …/objects/{objectId}/retry runs it through the pipeline now; POST /api/v1/apps/{id}/retry
// does so for the app's failed and escrowed objects, a bounded number per call. Retries are the
// on-demand path (the job's `onDemand` Update), so they never race a cycle on the same object, and
// a successful one clears the object's escrow.
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { ObjectType } from '../../engine/types.ts';
import type { Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { explainAppObject, objectTypeIn } from '../object-explain.ts';
import type { ProvisioningControl } from '../provisioning-control.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { logEntrySchema } from './logs.ts';
import { onDemandReportSchema } from './on-demand.ts';

/** At most this many objects per bulk retry call; the answer says how many remain. */
export const BULK_RETRY_MAX = 100;
/** A bulk retry starts no new object after this long (ms); the rest remain for the next call. */
export const BULK_RETRY_BUDGET_MS = 30_000;

const objectParams = idParams.extend({
  objectId: idSchema.openapi({ param: { name: 'objectId', in: 'path' }, description: 'A user or group id' }),
});

const explanationSchema = z
  .looseObject({
    appId: z.string(),
    objectType: z.enum(['user', 'group']),
    objectId: z.string(),
    displayName: z.string().nullable(),
    inDirectory: z.boolean(),
    link: z
      .looseObject({ targetId: z.string().nullable(), active: z.boolean() })
      .nullable()
      .openapi({ description: 'Target id, last exported values (secrets as [Redact]) and escrow state' }),
    scope: z.looseObject({ inScope: z.boolean() }).nullable().openapi({
      description: 'Each check (active, assigned, role, scopingFilters) and each clause with the value it saw',
    }),
    mapping: z
      .looseObject({ operation: z.enum(['create', 'update']) })
      .nullable()
      .openapi({ description: 'The source attributes the mappings read and the values they give' }),
    matching: z.looseObject({ linked: z.boolean(), targetId: z.string().nullable() }),
    next: z.looseObject({ action: z.string(), reason: z.string() }).openapi({
      description: 'What the next export would do: the action, the body or PATCH operations, the modified attributes',
    }),
    logs: z.array(logEntrySchema),
  })
  .openapi('ObjectExplanation');

const bulkRetryRequestSchema = z
  .object({
    errorCode: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .openapi({ example: 'TooManyRequests', description: 'Only objects whose last error has this code' }),
    limit: z.number().int().min(1).max(BULK_RETRY_MAX).default(BULK_RETRY_MAX),
  })
  .strict()
  .openapi('BulkRetryRequest');

const retryOutcomeSchema = z.object({
  objectType: z.enum(['user', 'group']),
  objectId: z.string(),
  action: z.string(),
  status: z.string(),
  errorCode: z.string().nullable(),
});

const bulkRetrySchema = z
  .object({
    retried: z.array(retryOutcomeSchema),
    succeeded: z.number().int(),
    failed: z.number().int(),
    remaining: z
      .number()
      .int()
      .openapi({ description: 'Failed or escrowed objects (matching the filter) left after this call' }),
  })
  .openapi('BulkRetryResult');

export interface ObjectsRouterDeps {
  store: Store;
  provisioning: ProvisioningControl;
  /** How long one retry waits for its report (default: the control's own). */
  timeoutMs?: number;
}

export function objectsRouter({ store, provisioning, timeoutMs }: ObjectsRouterDeps) {
  const retry = (appId: string, objectType: ObjectType, objectId: string) =>
    provisioning.provisionOnDemand(
      appId,
      { requestId: randomUUID(), objectType, objectId },
      timeoutMs === undefined ? undefined : { timeoutMs },
    );
  const requireApp = async (appId: string) => {
    if (!(await store.apps.get(appId))) throw new ApiError('not_found', `App ${appId} not found`);
  };

  return createRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/apps/{id}/objects/{objectId}',
        tags: ['provisioning'],
        summary: 'Explain one object: link, scope, mapping, matching, next export, latest log entries',
        description:
          'Computed from the directory, the configuration and the link as a cycle would, without writing anything and without a request to the target. A linked object shows the exact PATCH the next export would send; an unlinked one the create it would send if matching finds no account.',
        request: {
          params: objectParams,
          query: z.object({
            logs: z.coerce
              .number()
              .int()
              .min(0)
              .max(100)
              .default(10)
              .openapi({
                param: { name: 'logs', in: 'query' },
                description: 'How many of the latest log entries (0–100)',
              }),
          }),
        },
        responses: {
          200: jsonContent(explanationSchema, 'The explanation'),
          ...errorResponses(400, 401, 404, 409, 429),
        },
      }),
      async (c) => {
        const { id, objectId } = c.req.valid('param');
        const { logs } = c.req.valid('query');
        return c.json(await explainAppObject(store, id, objectId, { logs }), 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/apps/{id}/objects/{objectId}/retry',
        tags: ['provisioning'],
        summary: 'Retry one object now',
        description:
          'Runs the object through the pipeline at once, as provision-on-demand does (same errors); success clears its escrow. Works for an object hard-deleted from the directory that is still linked.',
        request: { params: objectParams },
        responses: {
          200: jsonContent(onDemandReportSchema, 'The step report'),
          ...errorResponses(400, 401, 404, 409, 422, 429, 503, 504),
        },
      }),
      async (c) => {
        const { id, objectId } = c.req.valid('param');
        await requireApp(id);
        const objectType = await objectTypeIn(store, id, objectId);
        if (!objectType)
          throw new ApiError('not_found', `No user or group ${objectId} in the directory or linked to app ${id}`);
        return c.json(await retry(id, objectType, objectId), 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/apps/{id}/retry',
        tags: ['provisioning'],
        summary: 'Retry failed and escrowed objects now',
        description: `Retries, one after another, the app's objects whose last export failed (users first, longest failing first), optionally only those with one error code: at most \`limit\` (≤ ${BULK_RETRY_MAX}) per call, and none started after ${BULK_RETRY_BUDGET_MS / 1000} s. The answer lists each retry and how many remain; call again for the rest. An object a cycle holds counts as failed with \`object_busy\`.`,
        request: {
          params: idParams,
          body: { ...jsonBody(bulkRetryRequestSchema), required: false },
        },
        responses: {
          200: jsonContent(bulkRetrySchema, 'What was retried and what remains'),
          ...errorResponses(400, 401, 404, 409, 429, 503),
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        // Without a body the validator is skipped and the schema defaults are not applied.
        const body = c.req.valid('json') as Partial<z.infer<typeof bulkRetryRequestSchema>> | undefined;
        const errorCode = body?.errorCode;
        const limit = body?.limit ?? BULK_RETRY_MAX;
        await requireApp(id);
        const { items } = await store.links.failed(id, { errorCode, limit });
        const started = Date.now();
        const retried: z.infer<typeof retryOutcomeSchema>[] = [];
        for (const link of items) {
          if (Date.now() - started > BULK_RETRY_BUDGET_MS) break;
          const key = { objectType: link.objectType, objectId: link.sourceId };
          try {
            const report = await retry(id, link.objectType, link.sourceId);
            const failed = report.status === 'Failure';
            const code = failed ? (report.steps.at(-1)?.details?.errorCode as string | undefined) : undefined;
            retried.push({ ...key, action: report.action, status: report.status, errorCode: code ?? null });
          } catch (error) {
            // The job is not there or Temporal is away: nothing else can be retried either.
            if (!(error instanceof ApiError) || error.code === 'job_not_running' || error.status >= 500) throw error;
            retried.push({ ...key, action: 'Other', status: 'Failure', errorCode: error.code });
          }
        }
        const { total } = await store.links.failed(id, { errorCode, limit: 1 });
        const failed = retried.filter((r) => r.status === 'Failure').length;
        return c.json({ retried, succeeded: retried.length - failed, failed, remaining: total }, 200);
      },
    );
}
