// Drift detection and repair: POST /api/v1/apps/{id}/reconcile starts a pass that reads the target's
// users and groups and compares them with what Ferry last exported (workflow `reconcile:<appId>`, one at a time per app);
// GET /api/v1/apps/{id}/drift shows the latest (or a named) pass and its findings, page by page.
import { createRoute, z } from '@hono/zod-openapi';
import type { ReconcilePassRecord, Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { pageQuerySchema } from '../pagination.ts';
import { configuredMode, startReconcilePass, type ReconcileControl } from '../reconcile-control.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { storeCursor } from '../store-cursor.ts';

const MODES = ['report', 'repair'] as const;
const KINDS = ['edited', 'deleted', 'orphan'] as const;
const OBJECT_TYPES = ['user', 'group'] as const;

const reconcileRequestSchema = z
  .object({
    mode: z.enum(MODES).optional().openapi({
      description:
        '`report`: only record drift, nothing is written to the target; `repair`: also put back the last exported values of edited accounts and groups (one PATCH each, plus member PATCHes for a group whose members changed) and create deleted accounts and groups again. Default: the app setting `driftRepair` (`report` unless set)',
    }),
  })
  .strict()
  .openapi('ReconcileRequest');

const passSchema = z
  .object({
    id: z.string(),
    appId: z.string(),
    mode: z.enum(MODES),
    status: z.enum(['running', 'completed', 'failed']),
    counts: z.record(z.string(), z.number().int()).openapi({
      description:
        'When completed: findings per kind (`edited`, `deleted`, `orphan`) and per outcome (`reported`, `repaired`, `recreated`, `adopted`, `disabled`, `failed`, `busy`) of users and groups together, the same for groups alone prefixed `group.` (`group.edited`, `group.repaired` …), and `accounts` and `groups` read',
    }),
    error: z.string().nullable(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('ReconcilePass');

const findingSchema = z
  .object({
    kind: z.enum(KINDS).openapi({
      description:
        '`edited`: a linked account or group changed in the target (for a group also its members: added or removed in the target); `deleted`: a linked account or group the target no longer has; `orphan`: an account or group in the target no link points at (an account is reported, or in `repair` mode adopted or disabled as the app setting `orphanPolicy` says; a group is only ever reported)',
    }),
    objectType: z.enum(OBJECT_TYPES).openapi({ description: 'Whether the finding is about a user account or a group' }),
    sourceId: z
      .string()
      .nullable()
      .openapi({ description: 'The directory object linked to the account or group (null: orphan)' }),
    targetId: z.string(),
    displayName: z.string().nullable(),
    attributes: z.array(z.object({ name: z.string(), oldValue: z.unknown(), newValue: z.unknown() })).openapi({
      description:
        'Edited: each changed attribute, old = the target’s value, new = the one Ferry last exported. A group’s members appear as `members (added)` (new: the member ids the target lost, added back by a repair) and `members (removed)` (old: the member ids the target has that Ferry did not export, removed by a repair)',
    }),
    outcome: z.enum(['reported', 'repaired', 'recreated', 'adopted', 'disabled', 'failed', 'busy']).openapi({
      description:
        '`adopted`: an orphan linked to the directory user it matches (`sourceId`), which the next cycle updates; `disabled`: an orphan set active=false; `busy`: a cycle or on-demand request held the object; the next pass looks again',
    }),
    errorCode: z.string().nullable(),
    errorMessage: z.string().nullable(),
    logId: z.string().nullable().openapi({ description: 'The provisioning log entry of the repair' }),
    foundAt: z.string(),
  })
  .openapi('DriftFinding');

const driftSchema = z
  .object({
    pass: passSchema.nullable().openapi({ description: 'The pass shown (null: no pass ran yet)' }),
    items: z.array(findingSchema),
    nextCursor: z.string().nullable(),
  })
  .openapi('Drift');

const driftQuerySchema = pageQuerySchema.extend({
  kind: z
    .enum(KINDS)
    .optional()
    .openapi({ param: { name: 'kind', in: 'query' }, description: 'Only findings of this kind' }),
  objectType: z
    .enum(OBJECT_TYPES)
    .optional()
    .openapi({ param: { name: 'objectType', in: 'query' }, description: 'Only findings about users, or about groups' }),
  passId: idSchema
    .optional()
    .openapi({ param: { name: 'passId', in: 'query' }, description: 'A pass of the app (default: the latest)' }),
});

const passView = (pass: ReconcilePassRecord) => ({
  id: pass.id,
  appId: pass.appId,
  mode: pass.mode,
  status: pass.status,
  counts: pass.counts,
  error: pass.error,
  startedAt: pass.startedAt,
  finishedAt: pass.finishedAt,
});

export function reconcileRouter({ store, reconcile }: { store: Store; reconcile?: ReconcileControl }) {
  const requireApp = async (id: string) => {
    const app = await store.apps.get(id);
    if (!app) throw new ApiError('not_found', `App ${id} not found`);
    return app;
  };

  return createRouter()
    .openapi(
      createRoute({
        method: 'post',
        path: '/apps/{id}/reconcile',
        tags: ['provisioning'],
        summary: 'Start a reconcile pass: find (and optionally repair) drift between the target and Ferry',
        description:
          'Reads every user account of the target, then (when the app provisions groups) every group, 200 per request within the app’s rate limit, and compares each with what Ferry last exported to it: accounts and groups edited in the target, linked ones deleted in the target, and orphans (accounts and groups no link points at). Groups are listed without their members (`excludedAttributes=members`); a linked group whose exported member list is known costs one more GET for its members. In `repair` mode edited accounts and groups get their last exported values back (one PATCH each; a group’s members added and removed in chunks of its `memberChunkSize`) and deleted ones are created again and re-linked through the normal pipeline, each holding the object’s lock as cycles do and written to the provisioning log; orphan accounts are handled as the app setting `orphanPolicy` says (`report`: left alone, `adopt`: linked to the in-scope user they match, `disable`: set active=false once, never deleted); orphan groups are only reported. Answers 202 with the pass (`status: running`); follow `Location`. 409 `conflict` while a pass of the app runs; 503 when Temporal is unavailable.',
        request: { params: idParams, body: jsonBody(reconcileRequestSchema) },
        responses: {
          202: jsonContent(passSchema, 'The pass, started'),
          ...errorResponses(400, 401, 404, 409, 413, 429, 503),
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const { mode } = c.req.valid('json');
        const app = await requireApp(id);
        if (!reconcile) throw new ApiError('unavailable', 'Reconcile passes need Temporal, which is not configured');
        const pass = await startReconcilePass(store, reconcile, id, mode ?? configuredMode(app));
        c.header('Location', `/api/v1/apps/${id}/drift?passId=${pass.id}`);
        return c.json(passView(pass), 202);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/apps/{id}/drift',
        tags: ['provisioning'],
        summary: 'Drift found by a reconcile pass, page by page',
        description:
          'The latest pass of the app (or `passId`) with its findings about users and groups in the order they were found; `kind` keeps one kind, `objectType` one object type. While the pass runs, the pages hold what it found so far.',
        request: { params: idParams, query: driftQuerySchema },
        responses: {
          200: jsonContent(driftSchema, 'The pass and one page of its findings'),
          ...errorResponses(400, 401, 404, 429),
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const { limit, cursor, kind, objectType, passId } = c.req.valid('query');
        await requireApp(id);
        const pass = passId ? await store.reconcile.getPass(passId) : await store.reconcile.latestPass(id);
        if (passId && (!pass || pass.appId !== id)) {
          throw new ApiError('not_found', `Reconcile pass ${passId} of app ${id} not found`);
        }
        if (!pass) return c.json({ pass: null, items: [], nextCursor: null }, 200);
        const page = await store.reconcile.findings(pass.id, {
          kind,
          objectType,
          limit,
          cursor: storeCursor(cursor, 'number'),
        });
        return c.json(
          {
            pass: passView(pass),
            items: page.items.map(({ passId: _pass, appId: _app, ...finding }) => finding),
            nextCursor: page.nextCursor,
          },
          200,
        );
      },
    );
}
