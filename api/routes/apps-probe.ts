// POST /api/v1/apps/{id}/probe: the test connection, then what the target advertises and really does
// (filters on the matching attributes, paging, booleans; with `writes`, PATCH spellings and PUT on a
// throwaway user it deletes again), and the compatibility profile that suggests. The result is kept
// (the latest per app) and read back with GET. The app's profile is never changed here.
import { createRoute, z } from '@hono/zod-openapi';
import { failedConnectionReport, probeCapabilities, type CapabilityReport } from '../../scim/capability-probe.ts';
import { createScimClient, type NetworkRange, type ScimClient, type ScimClientOptions } from '../../scim/index.ts';
import type { AppProbeRecord, Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { idParams, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import type { StoredConfiguration } from './apps-config.ts';
import { appScimClient, testClientConnection } from './apps-test-connection.ts';

const TAG = 'apps';

const checkSchema = z.object({
  id: z.string().openapi({
    description:
      '`create`, `filter:<attribute>` (one per matching attribute), `paging`, `activeBoolean`, `patch`, `patchValuePath`, `patchCapitalisedOp`, `patchStringBoolean`, `put`, `delete`',
    example: 'filter:userName',
  }),
  outcome: z.enum(['supported', 'unsupported', 'inconclusive']),
  detail: z.string(),
});

const probeReportSchema = z
  .object({
    connection: z.object({ ok: z.boolean(), reason: z.string().optional(), message: z.string().optional() }),
    writes: z.boolean().openapi({ description: 'Whether the probe wrote (a throwaway user, deleted again)' }),
    advertised: z
      .object({
        patch: z.boolean(),
        bulk: z.object({
          supported: z.boolean(),
          maxOperations: z.number().nullable(),
          maxPayloadSize: z.number().nullable(),
        }),
        filter: z.object({ supported: z.boolean(), maxResults: z.number().nullable() }),
        etag: z.boolean(),
        sort: z.boolean(),
      })
      .nullable()
      .openapi({ description: 'What /ServiceProviderConfig says; null when the target has none' }),
    checks: z.array(checkSchema),
    cleanup: z
      .object({ userName: z.string(), deleted: z.boolean(), detail: z.string().optional() })
      .nullable()
      .openapi({ description: "The writes probe's throwaway user and whether it is gone again" }),
    suggestion: z
      .object({
        profile: z.enum(['strict', 'entra-2017', 'put-only']).nullable(),
        basis: z.enum(['tested', 'advertised']),
        reason: z.string(),
      })
      .nullable()
      .openapi({ description: 'The compatibility profile the findings suggest (the app is not changed)' }),
    error: z.string().optional(),
  })
  .openapi('CapabilityReport');

const storedProbeSchema = z
  .object({
    appId: z.string(),
    probedAt: z.string().openapi({ format: 'date-time' }),
    probedBy: z.string().openapi({ description: 'The name of the key that ran the probe' }),
    writes: z.boolean(),
    result: probeReportSchema,
  })
  .openapi('AppProbe');

const probeRequestSchema = z
  .object({
    writes: z.boolean().default(false).openapi({
      description:
        'Also create one inactive user `ferry-probe-<random>@example.invalid`, change it with PATCH (standard, value path, "Replace", "False") and PUT, then delete it',
    }),
  })
  .strict()
  .openapi('ProbeRequest');

const runProbeRoute = createRoute({
  method: 'post',
  path: '/apps/{id}/probe',
  tags: [TAG],
  summary: "Probe the target's capabilities",
  description:
    'Runs the test connection, reads /ServiceProviderConfig, checks filtering on the matching attributes, paging and boolean types; with `writes: true` also PATCH spellings and PUT on a throwaway user (always deleted again). Stores and returns the result with a suggested compatibility profile; the app is not changed. A failed connection is a 200 with `connection.ok: false`.',
  request: {
    params: idParams,
    body: { ...jsonBody(probeRequestSchema, 'Optional; `writes` defaults to false'), required: false },
  },
  responses: {
    200: jsonContent(storedProbeSchema, 'The probe, as stored'),
    ...errorResponses(400, 401, 403, 404, 429),
  },
});

const getProbeRoute = createRoute({
  method: 'get',
  path: '/apps/{id}/probe',
  tags: [TAG],
  summary: 'The latest capability probe of the target',
  request: { params: idParams },
  responses: {
    200: jsonContent(storedProbeSchema, 'The latest probe'),
    ...errorResponses(401, 403, 404, 429),
  },
});

export interface AppProbeDeps {
  store: Store;
  createScimClient?: (options: ScimClientOptions) => ScimClient;
  allowInsecureLoopback?: boolean;
  allowedTargetNetworks?: readonly NetworkRange[];
  logger?: Logger;
}

const view = (record: AppProbeRecord) => ({ ...record, result: record.result as unknown as CapabilityReport });

/** The app's matching attributes (user mappings with a matching precedence), in precedence order. */
function matchingAttributes(config: StoredConfiguration): string[] {
  return config.objectTypes.user.mappings
    .filter((m) => m.matchingPrecedence !== undefined)
    .sort((a, b) => (a.matchingPrecedence ?? 0) - (b.matchingPrecedence ?? 0))
    .map((m) => m.target);
}

export function appProbeRouter({
  store,
  createScimClient: factory = createScimClient,
  allowInsecureLoopback = false,
  allowedTargetNetworks = [],
  logger = silentLogger,
}: AppProbeDeps) {
  const router = createRouter();
  const deps = { factory, allowInsecureLoopback, allowedTargetNetworks, logger };

  router.openapi(runProbeRoute, async (c) => {
    const { id } = c.req.valid('param');
    const writes = (c.req.valid('json') as { writes?: boolean } | undefined)?.writes ?? false;
    const app = await store.apps.get(id);
    if (!app) throw new ApiError('not_found', `App ${id} not found`);
    const secrets = await store.apps.getSecrets(id);
    const made = appScimClient(app, secrets, deps);
    let report: CapabilityReport;
    if ('failure' in made) {
      report = failedConnectionReport(made.failure, writes);
    } else {
      try {
        const connection = await testClientConnection(app, made.client, deps);
        report = await probeCapabilities(made.client, connection, {
          matching: matchingAttributes(app.configuration as StoredConfiguration),
          writes,
        });
      } finally {
        await made.client.close().catch(() => {});
      }
    }
    const saved = await store.appProbes.save({
      appId: id,
      result: report as unknown as Record<string, unknown>,
      writes,
      probedBy: c.get('principal')?.name ?? 'unknown',
    });
    return c.json(view(saved), 200);
  });

  router.openapi(getProbeRoute, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await store.apps.get(id))) throw new ApiError('not_found', `App ${id} not found`);
    const probe = await store.appProbes.get(id);
    if (!probe) throw new ApiError('not_found', `App ${id} has not been probed yet: POST /api/v1/apps/${id}/probe`);
    return c.json(view(probe), 200);
  });

  return router;
}
