// POST /api/v1/apps/{id}/test-connection: one SCIM request with the stored credentials, answered with
// ok or a reason. The reasons say what an admin can fix without telling what listens where.
import { createRoute, z } from '@hono/zod-openapi';
import { ConfigurationError } from '../../engine/errors.ts';
import type { NetworkRange, ScimAuth, ScimClient, ScimClientOptions } from '../../scim/index.ts';
import type { AppRecord, AppSecrets } from '../../store/index.ts';
import { errorResponses } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { idParams, jsonContent } from '../resource-schemas.ts';
import type { StoredConfiguration } from './apps-config.ts';

const testConnectionSchema = z
  .object({
    ok: z.boolean(),
    reason: z.string().optional().openapi({
      description:
        'dns, addressNotAllowed (the outbound address policy refuses the address: nothing was contacted), unreachable (refused, timed out or closed: one reason, so the test tells nothing about what listens where), tls, network, insecure, unauthorized, forbidden, notFound, notScim, unavailable, unexpected',
    }),
    message: z.string().optional(),
  })
  .openapi('TestConnectionResult');

export type TestConnectionResult = z.infer<typeof testConnectionSchema>;

export const testConnectionRoute = createRoute({
  method: 'post',
  path: '/apps/{id}/test-connection',
  tags: ['apps'],
  summary: 'Test the connection to the target',
  description:
    'Filters users on a random GUID with the stored credentials; expects 200 and an empty list. Answers 200 with `ok: false` and a reason when the target is unreachable, rejects the credentials or does not speak SCIM.',
  request: { params: idParams },
  responses: { 200: jsonContent(testConnectionSchema, 'The result'), ...errorResponses(400, 401, 404, 429) },
});

export interface TestConnectionDeps {
  factory: (options: ScimClientOptions) => ScimClient;
  /** FERRY_ALLOW_INSECURE_LOOPBACK=1. The environment decides where Ferry connects, not the app. */
  allowInsecureLoopback: boolean;
  allowedTargetNetworks: readonly NetworkRange[];
  /** Where the operator-only detail goes (why a target did not answer). */
  logger: Logger;
}

/** The stored credentials of an app as the SCIM client takes them. */
function scimAuthOf(config: StoredConfiguration, secrets: AppSecrets): ScimAuth {
  if (config.auth.type !== 'oauth2') return { type: 'bearer', token: secrets.token ?? '' };
  return {
    type: 'oauth',
    tokenUrl: config.auth.tokenUrl,
    clientId: config.auth.clientId,
    clientSecret: secrets.clientSecret ?? '',
    scope: config.auth.scope,
  };
}

/**
 * The app's SCIM client as the test connection and the capability probe use it: the stored target,
 * credentials and profile, one attempt per request. A URL this server does not send to answers the
 * test connection's `insecure` failure instead (nothing is contacted).
 */
export function appScimClient(
  app: AppRecord,
  secrets: AppSecrets,
  deps: TestConnectionDeps,
): { client: ScimClient } | { failure: TestConnectionResult } {
  const config = app.configuration as StoredConfiguration;
  try {
    return {
      client: deps.factory({
        baseUrl: config.target.url,
        auth: scimAuthOf(config, secrets),
        profile: config.compatibilityProfile,
        allowInsecureLoopback: deps.allowInsecureLoopback,
        outbound: { allowedNetworks: deps.allowedTargetNetworks },
        retry: { attempts: 1 },
      }),
    };
  } catch (error) {
    // A URL this server does not send to (plain http to loopback saved when the environment
    // allowed it): nothing is contacted.
    if (error instanceof ConfigurationError)
      return { failure: { ok: false, reason: 'insecure', message: error.message } };
    throw error;
  }
}

/** The test connection on `client`; why it failed in detail goes to the operator's log only. */
export async function testClientConnection(
  app: AppRecord,
  client: ScimClient,
  deps: Pick<TestConnectionDeps, 'logger'>,
): Promise<TestConnectionResult> {
  const result = await client.testConnection();
  if (!result.ok && result.detail)
    deps.logger.info('test connection failed', { appId: app.id, reason: result.reason, detail: result.detail });
  return result.ok ? { ok: true } : { ok: false, reason: result.reason, message: result.message };
}

export async function testAppConnection(
  app: AppRecord,
  secrets: AppSecrets,
  deps: TestConnectionDeps,
): Promise<TestConnectionResult> {
  const made = appScimClient(app, secrets, deps);
  if ('failure' in made) return made.failure;
  try {
    return await testClientConnection(app, made.client, deps);
  } finally {
    await made.client.close().catch(() => {});
  }
}
