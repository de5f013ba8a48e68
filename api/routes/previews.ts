// Preview before apply: POST /api/v1/apps/{id}/preview takes a proposed change (mappings, scoping
// filters, settings, connector limitations), checks it as PATCH /apps/{id} would, and computes in the
// background what the next cycle would do for every object under it (api/preview.ts) — nothing is
// sent to the target and the app is not changed. GET …/previews/{previewId} shows the counts per
// action and, page by page, each object's action and attribute changes. POST …/apply saves the
// change exactly as PATCH does (a running job then runs its initial cycle), refused with 409 when
// the app changed since the preview was computed.
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { findTemplate } from '../../gallery/index.ts';
import { VersionMismatchError } from '../../store/errors.ts';
import type { PreviewRecord, Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { etagOf } from '../etag.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { parseStoredConfiguration } from '../object-explain.ts';
import { pageQuerySchema } from '../pagination.ts';
import { computePreview } from '../preview.ts';
import type { ProvisioningControl } from '../provisioning-control.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { storeCursor } from '../store-cursor.ts';
import {
  appView,
  appViewSchema,
  applyAppChanges,
  connectorLimitationsSchema,
  mappingsSchema,
  scopingFiltersSchema,
  settingsSchema,
  type StoredConfiguration,
  type TargetEnvironment,
} from './apps-config.ts';
import { changeApp } from './apps.ts';

/** Previews are kept this long (ms); older ones of the app go when a new one is made. */
export const PREVIEW_KEEP_MS = 24 * 60 * 60 * 1000;

const ACTIONS = ['Create', 'Update', 'Disable', 'Delete', 'StagedDelete', 'Skip', 'None'] as const;

const previewRequestSchema = z
  .object({
    settings: settingsSchema,
    mappings: mappingsSchema,
    scopingFilters: scopingFiltersSchema,
    connectorLimitations: connectorLimitationsSchema,
  })
  .partial()
  .strict()
  .openapi('PreviewRequest', {
    description:
      'The change to preview, as PATCH /apps/{id} takes it (without `name` and `target`): fields given replace the current ones',
  });

const previewParams = idParams.extend({
  previewId: idSchema.openapi({ param: { name: 'previewId', in: 'path' }, description: 'A preview id' }),
});

const previewItemSchema = z
  .object({
    objectType: z.enum(['user', 'group']),
    objectId: z.string(),
    displayName: z.string().nullable(),
    action: z
      .string()
      .openapi({ description: 'What the next cycle would do: Create, Update, Disable, Delete, Skip, …' }),
    reason: z.string(),
    dependsOnMatch: z.boolean().openapi({
      description: 'Not linked: a Create assumes no target account matches; a match makes it an update of that account',
    }),
    modifiedAttributes: z.array(z.object({ name: z.string(), oldValue: z.unknown(), newValue: z.unknown() })).openapi({
      description: 'Attributes the export would change (old value: what was last exported), secrets as [Redact]',
    }),
  })
  .openapi('PreviewItem');

const previewSchema = z
  .object({
    id: z.string(),
    appId: z.string(),
    status: z.enum(['running', 'completed', 'failed', 'applied']),
    baseVersion: z.number().int().openapi({ description: 'The app version (ETag) the preview was computed against' }),
    changes: z.record(z.string(), z.unknown()).openapi({ description: 'The proposed change' }),
    counts: z.record(z.string(), z.number().int()).openapi({ description: 'Objects per action (when completed)' }),
    total: z.number().int(),
    error: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    appliedAt: z.string().nullable(),
    items: z.array(previewItemSchema),
    nextCursor: z.string().nullable(),
  })
  .openapi('Preview');

const previewQuerySchema = pageQuerySchema.extend({
  action: z
    .enum(ACTIONS)
    .optional()
    .openapi({ param: { name: 'action', in: 'query' }, description: 'Only objects with this action' }),
});

export interface PreviewsRouterDeps {
  store: Store;
  provisioning: ProvisioningControl;
  environment: TargetEnvironment;
  /** Where a preview that fails to compute is reported. */
  logger?: Logger;
}

const summaryOf = (preview: PreviewRecord) => ({ ...preview, items: [], nextCursor: null });

export function previewsRouter({ store, provisioning, environment, logger = silentLogger }: PreviewsRouterDeps) {
  const requireApp = async (id: string) => {
    const app = await store.apps.get(id);
    if (!app) throw new ApiError('not_found', `App ${id} not found`);
    return app;
  };
  const requirePreview = async (appId: string, previewId: string) => {
    const preview = await store.previews.get(appId, previewId);
    if (!preview) throw new ApiError('not_found', `Preview ${previewId} of app ${appId} not found`);
    return preview;
  };

  return createRouter()
    .openapi(
      createRoute({
        method: 'post',
        path: '/apps/{id}/preview',
        tags: ['apps'],
        summary: 'Preview a change: what the next cycle would do under it, without applying it',
        description:
          "Checks the change as PATCH /apps/{id} does (400 naming the field), then computes in the background, for every directory object and every linked object of the app, the action the next cycle would take under the changed configuration and the attributes it would change (compared with what was last exported). Nothing is sent to the target and the app is not changed. Answers 202 with the preview (`status: running`); follow `Location` until `status` is `completed`. An unlinked object's Create assumes no target account matches (`dependsOnMatch`). Previews are kept for a day.",
        request: { params: idParams, body: jsonBody(previewRequestSchema) },
        responses: {
          202: jsonContent(previewSchema, 'The preview, being computed'),
          ...errorResponses(400, 401, 404, 409, 413, 429),
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const changes = c.req.valid('json');
        const app = await requireApp(id);
        const secrets = await store.apps.getSecrets(id);
        const { configuration } = applyAppChanges(
          app.configuration as StoredConfiguration,
          secrets,
          changes,
          findTemplate(app.template),
          environment,
        );
        const proposed = parseStoredConfiguration(app, configuration, secrets);
        await store.previews.deleteOlderThan(id, new Date(Date.now() - PREVIEW_KEEP_MS));
        const preview = await store.previews.create({
          id: randomUUID(),
          appId: id,
          baseVersion: app.version,
          changes: changes as Record<string, unknown>,
        });
        computePreview(store, app, preview.id, proposed).catch((error: unknown) =>
          logger.error('preview failed', { appId: id, previewId: preview.id, error }),
        );
        c.header('Location', `/api/v1/apps/${id}/previews/${preview.id}`);
        return c.json(summaryOf(preview), 202);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/apps/{id}/previews/{previewId}',
        tags: ['apps'],
        summary: 'A preview: its state, counts per action and its objects, page by page',
        description:
          'Objects in the order they were computed (users, then groups); `action` keeps only one action. While `status` is `running`, the pages hold the objects computed so far.',
        request: { params: previewParams, query: previewQuerySchema },
        responses: {
          200: jsonContent(previewSchema, 'The preview and one page of its objects'),
          ...errorResponses(400, 401, 404, 429),
        },
      }),
      async (c) => {
        const { id, previewId } = c.req.valid('param');
        const { limit, cursor, action } = c.req.valid('query');
        const preview = await requirePreview(id, previewId);
        const page = await store.previews.items(previewId, { action, limit, cursor: storeCursor(cursor, 'number') });
        return c.json({ ...preview, ...page }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/apps/{id}/previews/{previewId}/apply',
        tags: ['apps'],
        summary: 'Apply a previewed change',
        description:
          'Saves the previewed change as PATCH /apps/{id} would (a running job then runs its initial cycle). 409 `conflict` when the preview is not completed, was applied already, or the app changed since the preview was computed (its version is no longer `baseVersion`: preview again).',
        request: { params: previewParams },
        responses: {
          200: { ...jsonContent(appViewSchema, 'The changed app'), headers: { ETag: { schema: { type: 'string' } } } },
          ...errorResponses(400, 401, 404, 409, 429, 503),
        },
      }),
      async (c) => {
        const { id, previewId } = c.req.valid('param');
        const preview = await requirePreview(id, previewId);
        if (preview.status !== 'completed')
          throw new ApiError('conflict', `Preview ${previewId} is ${preview.status}: only a completed preview applies`);
        let updated;
        try {
          updated = await changeApp(
            { store, provisioning, environment },
            id,
            preview.changes,
            (version) => version === preview.baseVersion,
          );
        } catch (error) {
          if (!(error instanceof VersionMismatchError)) throw error;
          throw new ApiError(
            'conflict',
            `App ${id} changed since preview ${previewId} was computed (version ${preview.baseVersion}, now ${error.currentVersion}): preview the change again`,
            { cause: error },
          );
        }
        await store.previews.markApplied(previewId);
        c.header('ETag', etagOf(updated.version));
        return c.json(appView(updated), 200);
      },
    );
}
