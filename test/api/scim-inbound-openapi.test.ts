// /scim/v2 in the OpenAPI document: an integrator reading /openapi.json (or /docs) finds every SCIM
// endpoint Ferry serves to identity providers, with the scim source token as its only credential.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../api/logger.ts';
import { SCIM_INBOUND_OPERATIONS, SCIM_SECURITY_SCHEME } from '../../api/scim-inbound/openapi.ts';
import { scimInboundApp, SCIM_INBOUND_PATH } from '../../api/scim-inbound/router.ts';
import { FailedAuthLimiter } from '../../api/failed-auth-limiter.ts';
import { auth, read } from './helpers.ts';
import { storeApp } from './routes/helpers.ts';

type Operation = { security?: Record<string, string[]>[]; responses: Record<string, unknown>; [k: string]: unknown };

describe('the OpenAPI document of /scim/v2', () => {
  let ctx: Awaited<ReturnType<typeof storeApp>>;
  let doc: {
    paths: Record<string, Record<string, Operation>>;
    components: { securitySchemes: Record<string, unknown> };
  };
  beforeAll(async () => {
    ctx = await storeApp();
    doc = await read(await ctx.app.request('/openapi.json', { headers: auth() }));
  });
  afterAll(async () => {
    await ctx.close();
  });

  const scimOperations = () =>
    Object.entries(doc.paths)
      .filter(([path]) => path.startsWith(`${SCIM_INBOUND_PATH}/`))
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ route: `${method} ${path}`, op })));

  it('documents exactly the endpoints /scim/v2 serves', () => {
    const app = scimInboundApp({
      store: ctx.store,
      limiter: new FailedAuthLimiter(),
      clientAddress: () => '127.0.0.1',
      logger: createLogger({ level: 'error', write: () => {} }),
    });
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`),
    );
    const documented = new Set(scimOperations().map((o) => o.route));
    expect(documented.size).toBe(SCIM_INBOUND_OPERATIONS.length);
    expect([...documented].sort()).toEqual([...served].sort());
  });

  it('names the scim source token as the only credential, and no API key permission', () => {
    expect(doc.components.securitySchemes[SCIM_SECURITY_SCHEME]).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const { route, op } of scimOperations()) {
      expect(op.security, route).toEqual([{ [SCIM_SECURITY_SCHEME]: [] }]);
      expect(op['x-ferry-permission'], route).toBeUndefined();
      expect(op.responses['401'], route).toBeDefined();
    }
    expect(doc.paths[`${SCIM_INBOUND_PATH}/Users`].get.responses['200']).toMatchObject({
      content: { 'application/scim+json': {} },
    });
  });
});
