// POST /api/v1/apps/{id}/provision-on-demand — run the whole pipeline for one user or group now
// and answer with the step report. The API sends the job the Update `onDemand` (update id = request
// id); its handler runs the child workflow `provisioning:<appId>:ondemand:<requestId>` and answers
// with the child's report, or with a typed failure the API turns into 409 / 422 / 503. An
// `Idempotency-Key` header makes the request id stable, so a retried HTTP call is the same Update.
import { createHash, randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import type { ProvisioningControl } from '../provisioning-control.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { ON_DEMAND_MAX_GROUP_MEMBERS } from '../../workflows/messages.ts';

const stepSchema = z.looseObject({ name: z.string(), status: z.string() });

export const onDemandReportSchema = z
  .looseObject({
    requestId: z.string(),
    objectType: z.enum(['user', 'group']),
    objectId: z.string(),
    action: z.string().openapi({ example: 'Create' }),
    status: z.enum(['Success', 'Failure', 'Skipped', 'Warning']),
    targetId: z.string().nullable(),
    steps: z.array(stepSchema).openapi({
      description: 'test connection (when it fails), import, scope, match, action — each with status and details',
    }),
    modifiedAttributes: z.array(z.looseObject({ name: z.string() })),
    members: z.array(z.looseObject({ objectId: z.string() })).optional(),
    requests: z.array(z.looseObject({ method: z.string(), path: z.string() })).openapi({
      description: 'The SCIM requests made: method, path and status (no bodies)',
    }),
    counts: z
      .object({ requests: z.number(), members: z.number(), membersFailed: z.number() })
      .openapi({ description: 'SCIM requests made, users provisioned with a group, and how many of them failed' }),
    logId: z.string().nullable().openapi({ description: 'The provisioning log entry of the object' }),
    durationMs: z.number(),
  })
  .openapi('OnDemandReport');

const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .optional()
    .openapi({
      description:
        "Any unique string (e.g. a UUID) the client repeats when it retries this call: a retry of the same app, object and key is answered with the first call's report, and the object is provisioned once",
    }),
});

/**
 * The request id (= the job's Update id and the on-demand child's id): derived from the client's
 * Idempotency-Key, app and object, so a retried call is the same request; otherwise a new one.
 */
export function onDemandRequestId(appId: string, objectId: string, idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return randomUUID();
  const digest = createHash('sha256').update(`${appId}\n${objectId}\n${idempotencyKey}`).digest('hex');
  return `key-${digest.slice(0, 40)}`;
}

export interface OnDemandRouterDeps {
  store: Store;
  provisioning: ProvisioningControl;
  /** How long to wait for the report (default: the control's own, 60 s). */
  timeoutMs?: number;
}

export function onDemandRouter({ store, provisioning, timeoutMs }: OnDemandRouterDeps) {
  return createRouter().openapi(
    createRoute({
      method: 'post',
      path: '/apps/{id}/provision-on-demand',
      tags: ['provisioning'],
      summary: 'Provision one user or group now',
      description: `Runs test connection, import, scoping, matching and the action for one object (a group with its users, at most ${ON_DEMAND_MAX_GROUP_MEMBERS}) and answers with each step. Needs a running job (409 \`job_not_running\` otherwise; it runs in every job state, paused and disabled included). Never races a cycle on the same object: 409 \`object_busy\` when a cycle held it past the wait. 422 \`too_many_members\` for a larger group, 422 \`on_demand_failed\` when the target refuses for a reason retrying will not fix, 503 \`unavailable\` when the target or the database stayed unreachable, 504 \`timeout\` after the wait. Send an \`Idempotency-Key\` header to retry safely: a call repeating the key for the same app and object is answered with the first call's report (waiting for it if it still runs) and provisions nothing again; the key is remembered as long as the job's or the on-demand workflow's history is kept.`,
      request: {
        params: idParams,
        headers: idempotencyHeaders,
        body: jsonBody(
          z
            .object({ objectId: idSchema.openapi({ description: 'A user or group id' }) })
            .strict()
            .openapi('OnDemandRequest'),
        ),
      },
      responses: {
        200: jsonContent(onDemandReportSchema, 'The step report'),
        ...errorResponses(400, 401, 404, 409, 422, 429, 503, 504),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { objectId } = c.req.valid('json');
      const idempotencyKey = c.req.valid('header')['idempotency-key'];
      if (!(await store.apps.get(id))) throw new ApiError('not_found', `App ${id} not found`);
      const objectType = await store.directory.objectTypeOf(objectId);
      if (!objectType) throw new ApiError('not_found', `No user or group ${objectId}`);
      const report = await provisioning.provisionOnDemand(
        id,
        { requestId: onDemandRequestId(id, objectId, idempotencyKey), objectType, objectId },
        timeoutMs === undefined ? undefined : { timeoutMs },
      );
      return c.json(report, 200);
    },
  );
}
