// Staged deletions one by one: GET /api/v1/apps/{id}/staged-deletions lists the disables/deletes a
// cycle held back because the deletion threshold was exceeded; POST …/approve exports chosen ones
// now (each through the on-demand path, so never racing a cycle) and POST …/reject drops them,
// by id or by type, a bounded number per call. Once none is left, the job is told the hold is over
// (the `rejectDeletions` signal: nothing remains to drop), which ends its TooManyDeletes quarantine.
// `approve-deletions` / `reject-deletions` under /provisioning still act on all at once.
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { ObjectType } from '../../engine/types.ts';
import { logEntryId, type StagedDelete, type Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import type { ProvisioningControl } from '../provisioning-control.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';

/** At most this many staged deletions per approve or reject call, and per page of the list. */
export const STAGED_DELETIONS_MAX = 100;

const objectTypeSchema = z.enum(['user', 'group']);

const stagedSchema = z
  .object({
    objectType: objectTypeSchema,
    objectId: z.string(),
    displayName: z.string().nullable(),
    targetId: z.string().nullable(),
    heldAction: z.string().nullable().openapi({ description: '`Disable` or `Delete`' }),
    reason: z.string().nullable(),
    cycleId: z.string(),
  })
  .openapi('StagedDeletion');

const selectionSchema = z
  .object({
    objectIds: z
      .array(idSchema)
      .min(1)
      .max(STAGED_DELETIONS_MAX)
      .optional()
      .openapi({ description: 'Only these objects (default: all, oldest first)' }),
    objectType: objectTypeSchema.optional().openapi({ description: 'Only users, or only groups' }),
  })
  .strict()
  .openapi('StagedDeletionSelection');

const outcomeSchema = z
  .object({
    results: z.array(
      z.object({
        objectType: objectTypeSchema,
        objectId: z.string(),
        status: z.string().openapi({ description: '`approved`, `rejected`, or `failed` (still staged)' }),
        action: z.string().nullable(),
        errorCode: z.string().nullable(),
      }),
    ),
    remaining: z.number().int().openapi({ description: 'Staged deletions of the app left after this call' }),
    released: z.boolean().openapi({ description: 'None is left: the job was told the hold is over' }),
  })
  .openapi('StagedDeletionOutcome');

type Outcome = z.infer<typeof outcomeSchema>;
type Selection = z.infer<typeof selectionSchema>;

export interface StagedDeletionsRouterDeps {
  store: Store;
  provisioning: ProvisioningControl;
  timeoutMs?: number;
}

export function stagedDeletionsRouter({ store, provisioning, timeoutMs }: StagedDeletionsRouterDeps) {
  const requireApp = async (appId: string) => {
    if (!(await store.apps.get(appId))) throw new ApiError('not_found', `App ${appId} not found`);
  };
  const select = (appId: string, selection: Selection | undefined) =>
    store.cycleWork.stagedDeletions(appId, { ...selection, limit: STAGED_DELETIONS_MAX });
  /** The staged deletions a request body chooses (no body: all), of an app that exists. */
  const selected = async (appId: string, body: unknown) => {
    await requireApp(appId);
    return select(appId, body as Selection | undefined);
  };

  /** What is left, and the job told the hold is over when nothing is. */
  const finish = async (appId: string, results: Outcome['results']): Promise<Outcome> => {
    const { total } = await store.cycleWork.stagedDeletions(appId, { limit: 1 });
    let released = false;
    if (total === 0 && results.some((r) => r.status !== 'failed')) {
      try {
        await provisioning.rejectDeletions(appId);
        released = true;
      } catch (error) {
        // No job to tell: nothing is held there either.
        if (!(error instanceof ApiError) || error.code !== 'job_not_running') throw error;
      }
    }
    return { results, remaining: total, released };
  };

  const approveOne = async (appId: string, item: StagedDelete): Promise<Outcome['results'][number]> => {
    const key = { objectType: item.objectType as ObjectType, objectId: item.objectId };
    try {
      const report = await provisioning.provisionOnDemand(
        appId,
        { requestId: randomUUID(), ...key },
        timeoutMs === undefined ? undefined : { timeoutMs },
      );
      if (report.status === 'Failure') {
        const code = report.steps.at(-1)?.details?.errorCode;
        return { ...key, status: 'failed', action: report.action, errorCode: typeof code === 'string' ? code : null };
      }
      await store.cycleWork.resolveStaged(appId, [key], 'approved');
      return { ...key, status: 'approved', action: report.action, errorCode: null };
    } catch (error) {
      if (!(error instanceof ApiError) || error.code === 'job_not_running' || error.status >= 500) throw error;
      return { ...key, status: 'failed', action: null, errorCode: error.code };
    }
  };

  return createRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/apps/{id}/staged-deletions',
        tags: ['provisioning'],
        summary: 'The disables and deletes held back for approval',
        request: { params: idParams, query: z.object({ objectType: objectTypeSchema.optional() }) },
        responses: {
          200: jsonContent(
            z.object({ items: z.array(stagedSchema), total: z.number().int() }).openapi('StagedDeletionList'),
            `The oldest ${STAGED_DELETIONS_MAX} and how many there are`,
          ),
          ...errorResponses(400, 401, 404, 429),
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const { objectType } = c.req.valid('query');
        await requireApp(id);
        const { items, total } = await select(id, { objectType });
        const entries = await Promise.all(
          items.map((i) => store.logs.get(logEntryId(i.cycleId, i.objectType, i.objectId, 'export'))),
        );
        const view = items.map((item, n) => {
          const entry = entries[n];
          const details = entry?.steps[0]?.details ?? {};
          return {
            objectType: item.objectType as ObjectType,
            objectId: item.objectId,
            cycleId: item.cycleId,
            displayName: entry?.sourceDisplayName ?? null,
            targetId: entry?.targetId ?? null,
            heldAction: typeof details.heldAction === 'string' ? details.heldAction : null,
            reason: typeof details.reason === 'string' ? details.reason : null,
          };
        });
        return c.json({ items: view, total }, 200);
      },
    )
    .openapi(
      decisionRoute(
        'approve',
        'Approve chosen staged deletions: export them now',
        `Each chosen object (at most ${STAGED_DELETIONS_MAX} per call) goes through the pipeline now, as provisioning on demand does: it is disabled or deleted if it is still out of scope (or gone), updated if it came back. One that fails stays staged. When none is left the job's hold ends.`,
      ),
      async (c) => {
        const { id } = c.req.valid('param');
        const { items } = await selected(id, c.req.valid('json'));
        const results: Outcome['results'] = [];
        for (const item of items) results.push(await approveOne(id, item));
        return c.json(await finish(id, results), 200);
      },
    )
    .openapi(
      decisionRoute(
        'reject',
        'Reject chosen staged deletions: drop them',
        `The chosen objects (at most ${STAGED_DELETIONS_MAX} per call) are not disabled or deleted; nothing is sent. When none is left the job's hold ends.`,
      ),
      async (c) => {
        const { id } = c.req.valid('param');
        const { items } = await selected(id, c.req.valid('json'));
        const keys = items.map((i) => ({ objectType: i.objectType as ObjectType, objectId: i.objectId }));
        await store.cycleWork.resolveStaged(id, keys, 'dropped');
        const results = keys.map((k) => ({ ...k, status: 'rejected', action: null, errorCode: null }));
        return c.json(await finish(id, results), 200);
      },
    );
}

/** POST /apps/{id}/staged-deletions/{approve|reject}: a selection in, each object's outcome out. */
function decisionRoute(verb: 'approve' | 'reject', summary: string, description: string) {
  return createRoute({
    method: 'post',
    path: `/apps/{id}/staged-deletions/${verb}`,
    tags: ['provisioning'],
    summary,
    description,
    request: { params: idParams, body: { ...jsonBody(selectionSchema), required: false } },
    responses: {
      200: jsonContent(outcomeSchema, 'Each object and what is left'),
      ...errorResponses(400, 401, 404, 409, 429, 503),
    },
  });
}
