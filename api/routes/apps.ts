// /api/v1/apps — apps created from a gallery template: target, credentials, settings, mappings.
// Secrets go to the store's encrypted secrets and never come back (`hasToken: true`). Changing
// mappings, scoping filters or scope tells a running job (`configChanged`), which then runs an
// initial cycle.
import { createRoute, z } from '@hono/zod-openapi';
import { DEFAULT_LOG_RETENTION_DAYS } from '../../engine/policies/retention.ts';
import { findTemplate } from '../../gallery/index.ts';
import { createScimClient, type NetworkRange, type ScimClientOptions, type ScimClient } from '../../scim/index.ts';
import type { AppRecord, Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { etagOf, ifMatchVersions } from '../etag.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { pageQuerySchema, pageSchema } from '../pagination.ts';
import type { ProvisioningControl } from '../provisioning-control.ts';
import { jobWorkflowId } from '../../workflows/messages.ts';
import { idParams, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { storeCursor } from '../store-cursor.ts';
import { temporalUiWorkflowUrl, type TemporalUi } from '../temporal-ui.ts';
import { testAppConnection, testConnectionRoute } from './apps-test-connection.ts';
import { TIMED_OUT, withTimeout } from '../timeout.ts';
import {
  appView,
  appViewSchema,
  applyAppChanges,
  connectorLimitationsSchema,
  mappingsSchema,
  newTargetSchema,
  scopingFiltersSchema,
  settingsSchema,
  targetPatchSchema,
  templateConfiguration,
  type AppChanges,
  type StoredConfiguration,
  type TargetEnvironment,
} from './apps-config.ts';

const TAG = 'apps';

/** JSON with object keys sorted: the stored configuration comes back from jsonb in another key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const nameSchema = z.string().trim().min(1).max(200).openapi({ example: 'GroupTalk for Contoso' });

const newAppSchema = z
  .object({
    name: nameSchema,
    template: z.string().min(1).max(100).openapi({ example: 'grouptalk', description: 'A gallery template id' }),
    target: newTargetSchema,
    settings: settingsSchema.optional(),
    mappings: mappingsSchema.optional(),
    scopingFilters: scopingFiltersSchema.optional(),
    connectorLimitations: connectorLimitationsSchema.optional(),
  })
  .strict()
  .openapi('NewApp');

const appPatchSchema = z
  .object({
    name: nameSchema,
    target: targetPatchSchema,
    settings: settingsSchema,
    mappings: mappingsSchema,
    scopingFilters: scopingFiltersSchema,
    connectorLimitations: connectorLimitationsSchema,
  })
  .partial()
  .strict()
  .openapi('AppPatch');

const deleteAppQuery = z.object({
  purge: z
    .enum(['true', 'false'])
    .default('false')
    .openapi({
      param: { name: 'purge', in: 'query' },
      description:
        "`true`: also delete the app's provisioning logs now (by default they are kept for its retention period)",
    }),
});

const etagHeader = {
  ETag: {
    description: 'The app\'s version, e.g. `"3"`: send it back as If-Match on PATCH to change only what you read',
    schema: { type: 'string' as const },
  },
};

const ifMatchHeaders = z.object({
  'if-match': z
    .string()
    .optional()
    .openapi({ description: 'An ETag of GET /apps/{id} (or `*`): change the app only if it is still at that version' }),
});

const jobProvisioningSchema = z
  .object({
    state: z
      .enum(['initial', 'steady', 'paused', 'quarantined', 'disabled'])
      .nullable()
      .openapi({ description: "The job's state from its status query; null when it cannot be known (see reason)" }),
    reason: z.enum(['notRunning', 'unavailable']).nullable().openapi({
      description:
        'Why `state` is null: `notRunning` (no job for this app), `unavailable` (Temporal unreachable or no answer in time)',
    }),
    message: z.string().optional(),
    temporalUiUrl: z.string().nullable().openapi({
      description: "The job's page in the Temporal Web UI; null when Ferry does not know the UI (set TEMPORAL_UI_URL)",
      example: 'http://127.0.0.1:8233/namespaces/default/workflows/provisioning%3Aapp_3f2c9a',
    }),
  })
  .openapi('AppProvisioning');

const appWithProvisioningSchema = appViewSchema
  .extend({ provisioning: jobProvisioningSchema })
  .openapi('AppWithProvisioning');

/** The part of AppProvisioning read from the job; the Web UI link is added beside it. */
type JobProvisioning = Omit<z.infer<typeof jobProvisioningSchema>, 'temporalUiUrl'>;

/** The job's state for GET /apps/{id}; never fails and never waits longer than `timeoutMs`. */
async function jobProvisioning(
  provisioning: ProvisioningControl,
  appId: string,
  timeoutMs: number,
): Promise<JobProvisioning> {
  const unavailable = (message: string): JobProvisioning => ({ state: null, reason: 'unavailable', message });
  const status = provisioning.status(appId, { timeoutMs });
  // After the timeout nobody awaits it; its late failure must not become an unhandled rejection.
  status.catch(() => undefined);
  try {
    const result = await withTimeout(status, timeoutMs);
    if (result === TIMED_OUT) return unavailable(`Temporal did not answer within ${timeoutMs} ms`);
    if (result === null) {
      return { state: null, reason: 'notRunning', message: 'No provisioning job is running for this app' };
    }
    return { state: result.state, reason: null };
  } catch (error) {
    return unavailable(
      error instanceof ApiError && error.code === 'unavailable'
        ? 'Temporal is unavailable'
        : 'The job status could not be read',
    );
  }
}

const createAppRoute = createRoute({
  method: 'post',
  path: '/apps',
  tags: [TAG],
  summary: 'Create an app from a gallery template',
  description:
    'The template gives the default mappings; `mappings` and `scopingFilters` replace them per object type. The whole configuration is checked (expressions compile, matching attributes are filterable on the target); every problem is listed in `details` with its path. Provisioning is off until `POST /apps/{id}/provisioning/start`.',
  request: { body: jsonBody(newAppSchema) },
  responses: {
    201: { ...jsonContent(appViewSchema, 'Created'), headers: etagHeader },
    ...errorResponses(400, 401, 413, 429),
  },
});

const listAppsRoute = createRoute({
  method: 'get',
  path: '/apps',
  tags: [TAG],
  summary: 'List apps',
  request: { query: pageQuerySchema },
  responses: {
    200: jsonContent(pageSchema(appViewSchema, 'AppPage'), 'A page of apps'),
    ...errorResponses(400, 401, 429),
  },
});

const getAppRoute = createRoute({
  method: 'get',
  path: '/apps/{id}',
  tags: [TAG],
  summary: 'Get an app',
  description:
    "With `provisioning.state`, the state of the app's job (e.g. `paused`, `quarantined`) from its status query. When the job does not exist or Temporal cannot be reached the app is still returned, with `state: null` and the `reason`; the query is given at most two seconds.",
  request: { params: idParams },
  responses: {
    200: { ...jsonContent(appWithProvisioningSchema, 'The app and its job state'), headers: etagHeader },
    ...errorResponses(400, 401, 404, 429),
  },
});

const patchAppRoute = createRoute({
  method: 'patch',
  path: '/apps/{id}',
  tags: [TAG],
  summary: 'Change an app',
  description:
    'Fields given replace the current ones (`settings` and `connectorLimitations` field by field). A new `target.token` replaces the stored token. Secrets are bound to their origin (scheme, host, port): a `target.url` on another origin needs `target.token` (OAuth: `target.oauth.clientSecret`) in the same request, and so does a `target.oauth.tokenUrl` on another origin (`clientSecret`); otherwise 400 naming the missing field. A new path on the same origin needs no secret. Changing `mappings`, `scopingFilters`, `connectorLimitations` or `settings.scope` signals `configChanged` to a running job: its next cycle is initial. Concurrent PATCHes apply one after the other (none loses the fields of another); with `If-Match: <ETag of GET /apps/{id}>` the change applies only if nobody changed the app since that GET, else 412 `precondition_failed` with the current ETag.',
  request: { params: idParams, headers: ifMatchHeaders, body: jsonBody(appPatchSchema) },
  responses: {
    200: { ...jsonContent(appViewSchema, 'The changed app'), headers: etagHeader },
    ...errorResponses(400, 401, 404, 412, 413, 429, 503),
  },
});

const deleteAppRoute = createRoute({
  method: 'delete',
  path: '/apps/{id}',
  tags: [TAG],
  summary: 'Delete an app',
  description:
    'Stops its provisioning job for good (the job workflow and its running cycle or on-demand children end) and removes the app with its assignments, links and cycles. Its provisioning logs are kept for its retention period (`settings.retention.logDays`, default 30 days) and can still be read at `GET /apps/{id}/logs`; `?purge=true` deletes them too. Accounts in the target are left as they are. 503 when Temporal cannot be reached (nothing is deleted then).',
  request: { params: idParams, query: deleteAppQuery },
  responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 401, 404, 429, 503) },
});

export interface AppsRouterDeps {
  store: Store;
  provisioning: ProvisioningControl;
  /** How long GET /apps/{id} waits for the job's status query (ms, default 2000). */
  statusTimeoutMs?: number;
  /** SCIM client factory for test-connection (tests may inject one). */
  createScimClient?: (options: ScimClientOptions) => ScimClient;
  /** FERRY_ALLOW_INSECURE_LOOPBACK=1: loopback targets (also plain http) are allowed for every app. */
  allowInsecureLoopback?: boolean;
  /** FERRY_ALLOWED_TARGET_NETWORKS: networks allowed besides public addresses. */
  allowedTargetNetworks?: readonly NetworkRange[];
  /** Where test-connection's operator-only detail goes (why a target did not answer). */
  logger?: Logger;
  /** The Temporal Web UI, when known: GET /apps/{id} links to the job's page there. */
  temporalUi?: TemporalUi | null;
}

export function appsRouter({
  store,
  provisioning,
  createScimClient: factory = createScimClient,
  statusTimeoutMs = 2000,
  allowInsecureLoopback = false,
  allowedTargetNetworks = [],
  temporalUi = null,
  logger = silentLogger,
}: AppsRouterDeps) {
  const environment = { allowInsecureLoopback, allowedTargetNetworks };
  const router = createRouter();

  const requireApp = async (id: string) => {
    const app = await store.apps.get(id);
    if (!app) throw new ApiError('not_found', `App ${id} not found`);
    return app;
  };

  router.openapi(createAppRoute, async (c) => {
    const input = c.req.valid('json');
    const template = findTemplate(input.template);
    if (!template) {
      throw new ApiError('validation_failed', `Unknown template ${input.template}`, {
        details: [{ path: 'template', message: 'not a gallery template (see GET /api/v1/gallery)', in: 'body' }],
      });
    }
    const base = templateConfiguration(template, input.name, input.target.url);
    const { configuration, secrets } = applyAppChanges(
      base,
      {},
      { ...input, target: input.target },
      template,
      environment,
    );
    const app = await store.apps.create({
      name: input.name,
      template: template.id,
      configuration,
      secrets: Object.fromEntries(Object.entries(secrets).filter((e): e is [string, string] => e[1] !== null)),
    });
    c.header('ETag', etagOf(app.version));
    return c.json(appView(app), 201);
  });

  router.openapi(listAppsRoute, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const page = await store.apps.list({ limit, cursor: storeCursor(cursor, 'id') });
    return c.json({ items: page.items.map(appView), nextCursor: page.nextCursor }, 200);
  });

  router.openapi(getAppRoute, async (c) => {
    const app = await requireApp(c.req.valid('param').id);
    c.header('ETag', etagOf(app.version));
    return c.json(
      {
        ...appView(app),
        provisioning: {
          ...(await jobProvisioning(provisioning, app.id, statusTimeoutMs)),
          temporalUiUrl: temporalUi ? temporalUiWorkflowUrl(temporalUi, jobWorkflowId(app.id)) : null,
        },
      },
      200,
    );
  });

  router.openapi(patchAppRoute, async (c) => {
    const { id } = c.req.valid('param');
    const versions = ifMatchVersions(c.req.header('if-match'));
    const updated = await changeApp(
      { store, provisioning, environment },
      id,
      c.req.valid('json'),
      versions === undefined ? undefined : (version) => versions.includes(version),
    );
    c.header('ETag', etagOf(updated.version));
    return c.json(appView(updated), 200);
  });

  router.openapi(deleteAppRoute, async (c) => {
    const { id } = c.req.valid('param');
    const purge = c.req.valid('query').purge === 'true';
    const app = await requireApp(id);
    // The job ends first (a job not running is fine); with Temporal away the app stays, so the
    // delete can be retried rather than leave a job behind.
    await provisioning.stop(id);
    if (purge) {
      await store.apps.delete(id);
      await store.retention.purgeLogs(id);
    } else {
      const logDays = (app.configuration as StoredConfiguration).retention?.logDays ?? DEFAULT_LOG_RETENTION_DAYS;
      await store.retention.keepLogsOfDeletedApp(id, {
        name: app.name,
        logDays,
        deletedAt: new Date().toISOString(),
      });
      await store.apps.delete(id);
    }
    return c.body(null, 204);
  });

  router.openapi(testConnectionRoute, async (c) => {
    const { id } = c.req.valid('param');
    const app = await requireApp(id);
    const secrets = await store.apps.getSecrets(id);
    return c.json(
      await testAppConnection(app, secrets, { factory, allowInsecureLoopback, allowedTargetNetworks, logger }),
      200,
    );
  });

  return router;
}

/**
 * Applies changes to an app (PATCH /apps/{id}, and applying a preview): read, merge and write in one
 * transaction with the app's row locked, so a concurrent change waits and then applies its fields on
 * top of this one's instead of writing back what it read before. With `ifVersion`, an app at a
 * version it refuses fails with VersionMismatchError and nothing is written. Changing what decides
 * scope or mapping tells a running job (`configChanged`): its next cycle is initial.
 */
export async function changeApp(
  deps: { store: Store; provisioning: ProvisioningControl; environment: TargetEnvironment },
  id: string,
  changes: AppChanges,
  ifVersion?: (version: number) => boolean,
): Promise<AppRecord> {
  const { before, after } = await deps.store.apps.modify(
    id,
    (app, secrets) => {
      const base = app.configuration as StoredConfiguration;
      const result = applyAppChanges(base, secrets, changes, findTemplate(app.template), deps.environment);
      return {
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        configuration: result.configuration,
        bumpConfigVersion: changesWhatIsProvisioned(base, result.configuration),
        ...(Object.keys(result.secrets).length > 0 ? { secrets: result.secrets } : {}),
      };
    },
    ifVersion === undefined ? {} : { ifVersion },
  );
  const base = before.configuration as StoredConfiguration;
  const scopingChanged =
    changes.mappings !== undefined ||
    changes.scopingFilters !== undefined ||
    changes.connectorLimitations !== undefined ||
    (changes.settings?.scope !== undefined && changes.settings.scope !== base.scope);
  if (scopingChanged) {
    try {
      await deps.provisioning.configChanged(id);
    } catch (error) {
      // No job running: the next start runs an initial cycle anyway.
      if (!(error instanceof ApiError && error.code === 'job_not_running')) throw error;
    }
  }
  return after;
}

/**
 * configVersion moves only when what is provisioned changes — the target, the scope, the object
 * types with their mappings, scoping filters and actions, the connector limitations: the job runs an
 * initial cycle when it moves, which a rename, a new token, another e-mail address, interval,
 * threshold or rate limit must not cause.
 */
function changesWhatIsProvisioned(before: StoredConfiguration, after: StoredConfiguration): boolean {
  const shape = (c: StoredConfiguration) =>
    canonicalJson({
      target: c.target,
      scope: c.scope,
      objectTypes: c.objectTypes,
      connectorLimitations: c.connectorLimitations ?? null,
    });
  return shape(before) !== shape(after);
}
