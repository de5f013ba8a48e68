// /api/v1/apps — apps created from a gallery template: target, credentials, settings, mappings.
// Secrets go to the store's encrypted secrets and never come back (`hasToken: true`). Changing
// mappings, scoping filters or scope tells a running job (`configChanged`), which then runs an
// initial cycle.
import { createRoute, z } from '@hono/zod-openapi';
import { findTemplate } from '../../gallery/index.ts';
import { createScimClient, type ScimAuth, type ScimClientOptions, type ScimClient } from '../../scim/index.ts';
import type { Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { pageQuerySchema, pageSchema } from '../pagination.ts';
import type { ProvisioningControl } from '../provisioning-control.ts';
import { idParams, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { storeCursor } from '../store-cursor.ts';
import { TIMED_OUT, withTimeout } from '../timeout.ts';
import {
  appView,
  appViewSchema,
  applyAppChanges,
  mappingsSchema,
  newTargetSchema,
  scopingFiltersSchema,
  settingsSchema,
  targetPatchSchema,
  templateConfiguration,
  type StoredConfiguration,
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
  })
  .partial()
  .strict()
  .openapi('AppPatch');

const testConnectionSchema = z
  .object({
    ok: z.boolean(),
    reason: z.string().optional().openapi({
      description:
        'dns, refused, tls, timeout, network, insecure, unauthorized, forbidden, notFound, notScim, unavailable, unexpected',
    }),
    message: z.string().optional(),
  })
  .openapi('TestConnectionResult');

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
  })
  .openapi('AppProvisioning');

const appWithProvisioningSchema = appViewSchema
  .extend({ provisioning: jobProvisioningSchema })
  .openapi('AppWithProvisioning');

type JobProvisioning = z.infer<typeof jobProvisioningSchema>;

/** The job's state for GET /apps/{id}; never fails and never waits longer than `timeoutMs`. */
async function jobProvisioning(
  provisioning: ProvisioningControl,
  appId: string,
  timeoutMs: number,
): Promise<JobProvisioning> {
  const unavailable = (message: string): JobProvisioning => ({ state: null, reason: 'unavailable', message });
  const status = provisioning.status(appId);
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

export interface AppsRouterDeps {
  store: Store;
  provisioning: ProvisioningControl;
  /** How long GET /apps/{id} waits for the job's status query (ms, default 2000). */
  statusTimeoutMs?: number;
  /** SCIM client factory for test-connection (tests may inject one). */
  createScimClient?: (options: ScimClientOptions) => ScimClient;
}

export function appsRouter({
  store,
  provisioning,
  createScimClient: factory = createScimClient,
  statusTimeoutMs = 2000,
}: AppsRouterDeps) {
  const router = createRouter();

  const requireApp = async (id: string) => {
    const app = await store.apps.get(id);
    if (!app) throw new ApiError('not_found', `App ${id} not found`);
    return app;
  };

  router.openapi(
    createRoute({
      method: 'post',
      path: '/apps',
      tags: [TAG],
      summary: 'Create an app from a gallery template',
      description:
        'The template gives the default mappings; `mappings` and `scopingFilters` replace them per object type. The whole configuration is checked (expressions compile, matching attributes are filterable on the target); every problem is listed in `details` with its path. Provisioning is off until `POST /apps/{id}/provisioning/start`.',
      request: { body: jsonBody(newAppSchema) },
      responses: { 201: jsonContent(appViewSchema, 'Created'), ...errorResponses(400, 401, 413, 429) },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const template = findTemplate(input.template);
      if (!template) {
        throw new ApiError('validation_failed', `Unknown template ${input.template}`, {
          details: [{ path: 'template', message: 'not a gallery template (see GET /api/v1/gallery)', in: 'body' }],
        });
      }
      const base = templateConfiguration(template, input.name, input.target.url);
      const { configuration, secrets } = applyAppChanges(base, {}, { ...input, target: input.target }, template);
      const app = await store.apps.create({
        name: input.name,
        template: template.id,
        configuration,
        secrets: Object.fromEntries(Object.entries(secrets).filter((e): e is [string, string] => e[1] !== null)),
      });
      return c.json(appView(app), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/apps',
      tags: [TAG],
      summary: 'List apps',
      request: { query: pageQuerySchema },
      responses: {
        200: jsonContent(pageSchema(appViewSchema, 'AppPage'), 'A page of apps'),
        ...errorResponses(400, 401, 429),
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const page = await store.apps.list({ limit, cursor: storeCursor(cursor, 'id') });
      return c.json({ items: page.items.map(appView), nextCursor: page.nextCursor }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/apps/{id}',
      tags: [TAG],
      summary: 'Get an app',
      description:
        "With `provisioning.state`, the state of the app's job (e.g. `paused`, `quarantined`) from its status query. When the job does not exist or Temporal cannot be reached the app is still returned, with `state: null` and the `reason`; the query is given at most two seconds.",
      request: { params: idParams },
      responses: {
        200: jsonContent(appWithProvisioningSchema, 'The app and its job state'),
        ...errorResponses(400, 401, 404, 429),
      },
    }),
    async (c) => {
      const app = await requireApp(c.req.valid('param').id);
      return c.json(
        { ...appView(app), provisioning: await jobProvisioning(provisioning, app.id, statusTimeoutMs) },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/apps/{id}',
      tags: [TAG],
      summary: 'Change an app',
      description:
        'Fields given replace the current ones (`settings` field by field). A new `target.token` replaces the stored token. Changing `mappings`, `scopingFilters` or `settings.scope` signals `configChanged` to a running job: its next cycle is initial.',
      request: { params: idParams, body: jsonBody(appPatchSchema) },
      responses: {
        200: jsonContent(appViewSchema, 'The changed app'),
        ...errorResponses(400, 401, 404, 413, 429, 503),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const changes = c.req.valid('json');
      const app = await requireApp(id);
      const base = app.configuration as StoredConfiguration;
      const { configuration, secrets } = applyAppChanges(
        base,
        await store.apps.getSecrets(id),
        changes,
        findTemplate(app.template),
      );
      const updated = await store.apps.update(id, {
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        configuration,
        bumpConfigVersion: changesWhatIsProvisioned(base, configuration),
        ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
      });
      const scopingChanged =
        changes.mappings !== undefined ||
        changes.scopingFilters !== undefined ||
        (changes.settings?.scope !== undefined && changes.settings.scope !== base.scope);
      if (scopingChanged) {
        try {
          await provisioning.configChanged(id);
        } catch (error) {
          // No job running: the next start runs an initial cycle anyway.
          if (!(error instanceof ApiError && error.code === 'conflict')) throw error;
        }
      }
      return c.json(appView(updated), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/apps/{id}',
      tags: [TAG],
      summary: 'Delete an app',
      description:
        'Stops its provisioning job for good (the job workflow and its running cycle or on-demand children end) and removes the app with its assignments, links, cycles and logs. Accounts in the target are left as they are. 503 when Temporal cannot be reached (nothing is deleted then).',
      request: { params: idParams },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 401, 404, 429, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await requireApp(id);
      // The job ends first (a job not running is fine); with Temporal away the app stays, so the
      // delete can be retried rather than leave a job behind.
      await provisioning.stop(id);
      await store.apps.delete(id);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/apps/{id}/test-connection',
      tags: [TAG],
      summary: 'Test the connection to the target',
      description:
        'Filters users on a random GUID with the stored credentials; expects 200 and an empty list. Answers 200 with `ok: false` and a reason when the target is unreachable, rejects the credentials or does not speak SCIM.',
      request: { params: idParams },
      responses: { 200: jsonContent(testConnectionSchema, 'The result'), ...errorResponses(400, 401, 404, 429) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const app = await requireApp(id);
      const config = app.configuration as StoredConfiguration;
      const secrets = await store.apps.getSecrets(id);
      const auth: ScimAuth =
        config.auth.type === 'oauth2'
          ? {
              type: 'oauth',
              tokenUrl: config.auth.tokenUrl,
              clientId: config.auth.clientId,
              clientSecret: secrets.clientSecret ?? '',
              scope: config.auth.scope,
            }
          : { type: 'bearer', token: secrets.token ?? '' };
      const client = factory({
        baseUrl: config.target.url,
        auth,
        profile: config.compatibilityProfile,
        allowInsecureLoopback: config.allowInsecureLoopback === true,
        retry: { attempts: 1 },
      });
      try {
        const result = await client.testConnection();
        return c.json(result.ok ? { ok: true } : { ok: false, reason: result.reason, message: result.message }, 200);
      } finally {
        await client.close().catch(() => {});
      }
    },
  );

  return router;
}

/**
 * configVersion moves only when what is provisioned changes — the target, the scope, the object
 * types with their mappings, scoping filters and actions, the connector limitations: the job runs an
 * initial cycle when it moves, which a rename, a new token, another e-mail address, interval,
 * threshold or rate limit must not cause (DESIGN.md §2: mappings or scoping trigger it).
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
