// POST /api/v1/apps/{id}/provision-on-demand — run the whole pipeline for one user or group now
// and answer with the step report. The API sends the job the Update `onDemand` (update id = request
// id); its handler runs the child workflow `provisioning:<appId>:ondemand:<requestId>` and answers
// with the child's report, or with a typed failure the API turns into 409 / 422 / 503. An
// `Idempotency-Key` header makes the request id stable, so a retried HTTP call is the same Update.
// With `Prefer: respond-async` it answers 202 as soon as the job accepted the Update, and
// GET /api/v1/apps/{id}/provision-on-demand/{requestId} shows each step as it completes (the activity
// writes them to the store), then the report or the failure.
import { createHash, randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { OnDemandProgress, Store } from '../../store/index.ts';
import { ApiError, errorResponses, onDemandFailureCode, type ApiErrorCode } from '../errors.ts';
import type { OnDemandOutcome, ProvisioningControl } from '../provisioning-control.ts';
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

const progressStepSchema = z
  .object({
    name: z.string().openapi({
      description:
        'testConnection, a `member` line per user provisioned with a group, then the pipeline steps of the object: import, scoping, matching, processing, export (as the provisioning log names them)',
    }),
    status: z.string(),
    objectId: z.string().optional().openapi({ description: 'The member a `member` line is about' }),
    details: z.record(z.string(), z.unknown()),
    at: z.string().openapi({ description: 'When the step completed' }),
  })
  .openapi('OnDemandProgressStep');

export const onDemandProgressSchema = z
  .object({
    requestId: z.string(),
    objectType: z.enum(['user', 'group']).nullable(),
    objectId: z.string().nullable(),
    finished: z.boolean().openapi({ description: 'false while it runs; then `report` or `error` is set' }),
    attempt: z.number().openapi({
      description: 'The attempt running (a retried attempt, e.g. after a worker was lost, lists its steps again)',
    }),
    startedAt: z.string().nullable(),
    steps: z.array(progressStepSchema).openapi({ description: 'The steps completed so far, in order' }),
    report: onDemandReportSchema.nullable().openapi({ description: 'The final report, once finished' }),
    error: z.object({ code: z.string(), message: z.string() }).nullable().openapi({
      description:
        'Why it failed, once finished with a failure: the code POST would have answered with (object_busy, too_many_members, on_demand_failed, unavailable, job_not_running)',
    }),
  })
  .openapi('OnDemandProgress');

type ProgressBody = z.infer<typeof onDemandProgressSchema>;

const acceptedSchema = z
  .object({
    requestId: z.string(),
    progress: z.string().openapi({ description: 'The progress route of this request' }),
  })
  .openapi('OnDemandAccepted');

const progressParams = idParams.extend({
  requestId: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9-]+$/, 'letters, digits and -')
    .openapi({ param: { name: 'requestId', in: 'path' } }),
});

/** The progress answer: what the store recorded, completed by what Temporal knows of the request. */
function progressBody(requestId: string, doc: OnDemandProgress | null, outcome: OnDemandOutcome | null): ProgressBody {
  const base = {
    requestId,
    objectType: doc?.objectType ?? null,
    objectId: doc?.objectId ?? null,
    attempt: doc?.attempt ?? 0,
    startedAt: doc?.startedAt ?? null,
    steps: doc?.steps ?? [],
  };
  if (doc?.finished) {
    const error = doc.failure
      ? { code: onDemandFailureCode(doc.failure.type) as ApiErrorCode, message: doc.failure.message }
      : null;
    return { ...base, finished: true, report: error ? null : (doc.report as unknown as ProgressBody['report']), error };
  }
  if (outcome?.state === 'done') {
    return {
      ...base,
      objectType: base.objectType ?? outcome.report.objectType,
      objectId: base.objectId ?? outcome.report.objectId,
      finished: true,
      report: outcome.report as unknown as ProgressBody['report'],
      error: null,
    };
  }
  if (outcome?.state === 'failed') {
    return {
      ...base,
      finished: true,
      report: null,
      error: { code: outcome.error.code, message: outcome.error.message },
    };
  }
  return { ...base, finished: false, report: null, error: null };
}

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
  prefer: z.string().max(200).optional().openapi({
    description:
      '`respond-async`: answer 202 with the request id as soon as the job accepted the request, and follow it with GET /apps/{id}/provision-on-demand/{requestId}',
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
  return createRouter()
    .openapi(
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
          202: jsonContent(acceptedSchema, 'With `Prefer: respond-async`: the job accepted the request; follow it'),
          ...errorResponses(400, 401, 404, 409, 422, 429, 503, 504),
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const { objectId } = c.req.valid('json');
        const headers = c.req.valid('header');
        const idempotencyKey = headers['idempotency-key'];
        if (!(await store.apps.get(id))) throw new ApiError('not_found', `App ${id} not found`);
        const objectType = await store.directory.objectTypeOf(objectId);
        if (!objectType) throw new ApiError('not_found', `No user or group ${objectId}`);
        const request = { requestId: onDemandRequestId(id, objectId, idempotencyKey), objectType, objectId };
        if (/\brespond-async\b/i.test(headers.prefer ?? '')) {
          await provisioning.startOnDemand(id, request);
          // A placeholder until the activity writes its first step, so the request is known at once.
          await store.onDemandProgress.begin({
            appId: id,
            ...request,
            attempt: 0,
            startedAt: new Date().toISOString(),
            steps: [],
            finished: false,
            report: null,
            failure: null,
          });
          const progress = `/api/v1/apps/${encodeURIComponent(id)}/provision-on-demand/${request.requestId}`;
          c.header('Location', progress);
          c.header('Preference-Applied', 'respond-async');
          return c.json({ requestId: request.requestId, progress }, 202);
        }
        const report = await provisioning.provisionOnDemand(
          id,
          request,
          timeoutMs === undefined ? undefined : { timeoutMs },
        );
        return c.json(report, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/apps/{id}/provision-on-demand/{requestId}',
        tags: ['provisioning'],
        summary: 'Follow an on-demand request',
        description:
          'The steps an on-demand request has completed so far, in order, and whether it is finished; once it is, the report (as POST answers it) or the failure (`error.code` as POST would have answered). Poll it every second or so after `POST …/provision-on-demand` with `Prefer: respond-async`; requests made without it can be read here too. Kept for 7 days after the request last changed.',
        request: { params: progressParams },
        responses: {
          200: jsonContent(onDemandProgressSchema, 'The progress of the request'),
          ...errorResponses(400, 401, 404, 429, 503),
        },
      }),
      async (c) => {
        const { id, requestId } = c.req.valid('param');
        if (!(await store.apps.get(id))) throw new ApiError('not_found', `App ${id} not found`);
        const doc = await store.onDemandProgress.get(id, requestId);
        if (doc?.finished) return c.json(progressBody(requestId, doc, null), 200);
        let outcome: OnDemandOutcome | null;
        try {
          outcome = await provisioning.onDemandOutcome(id, requestId);
        } catch (error) {
          // Temporal out of reach: what the store holds is still worth showing.
          if (doc && error instanceof ApiError && error.code === 'unavailable') outcome = null;
          else throw error;
        }
        if (!doc && (outcome === null || outcome.state === 'unknown')) {
          throw new ApiError('not_found', `No on-demand request ${requestId} for app ${id}`);
        }
        return c.json(progressBody(requestId, doc, outcome), 200);
      },
    );
}
