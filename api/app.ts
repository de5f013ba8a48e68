// The control API's composition: createApp(deps) wires request ids, logging, authentication,
// body limits, the one error shape and every resource router. Dependencies are injected so
// tests build the same app with real or fake parts.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { HTTPException } from 'hono/http-exception';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import { randomBytes } from 'node:crypto';
import { createConsole } from '../console/app.tsx';
import { FerryError } from '../engine/errors.ts';
import { NestingCycleError, TakenError, VersionMismatchError } from '../store/errors.ts';
import { auditTrail } from './audit.ts';
import {
  ApiKeyVerifier,
  StoredKeyResolver,
  apiKeyAuth,
  requirePermission,
  socketAddress,
  type ConfiguredKey,
  type Principal,
} from './auth.ts';
import { ApiError, codeForStatus, type ApiErrorCode, type ErrorBody } from './errors.ts';
import { FailedAuthLimiter } from './failed-auth-limiter.ts';
import { etagOf } from './etag.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { ProvisioningControl } from './provisioning-control.ts';
import { ROUTE_RULES } from './permissions.ts';
import { createRouter } from './router.ts';
import { auditRouter } from './routes/audit.ts';
import { codecRouter, type CodecEndpointOptions } from './routes/codec.ts';
import { docsRouter } from './routes/docs.ts';
import { keysRouter, meRouter } from './routes/keys.ts';
import { sourcesRouter } from './routes/sources.ts';
import { registerScimInboundDocs } from './scim-inbound/openapi.ts';
import { SCIM_INBOUND_PATH, scimInboundApp } from './scim-inbound/router.ts';
import type { SourceControl } from './source-control.ts';
import { healthRouter, type HealthCheck } from './routes/health.ts';
import { metricsRouter } from './routes/metrics.ts';
import { traceRequests } from './tracing.ts';
import { createFerryMetrics, type FerryMetrics } from '../telemetry/metrics.ts';
import { provisioningRouter, type AppLookup } from './routes/provisioning.ts';
import { resourceRouters, storeAppLookup, storeCycleProgress, type ResourceOptions } from './resources.ts';
import type { TemporalUi } from './temporal-ui.ts';

export const API_VERSION = '0.1.0';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_IMPORT_BODY_BYTES = 50 * 1024 * 1024;
/** Paths whose larger body limit applies (directory import carries whole directories; the Web UI decodes whole histories). */
const IMPORT_PATHS = new Set(['/api/v1/directory/import', '/codec/encode', '/codec/decode']);
/** An HR export uploaded to a csv source takes the import limit too. */
const SNAPSHOT_PATH = /^\/api\/v1\/sources\/[^/]+\/snapshots$/;
/** The console's forms that upload those files (multipart) take the same limit. */
const CONSOLE_UPLOAD_PATH = /^\/console\/(?:directory\/import|sources\/[^/]+\/snapshots)$/;
const isImportPath = (path: string) =>
  IMPORT_PATHS.has(path) || SNAPSHOT_PATH.test(path) || CONSOLE_UPLOAD_PATH.test(path);

export interface ApiLimits {
  /** Largest request body accepted, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Largest body for POST /api/v1/directory/import and a source snapshot upload (default 50 MiB). */
  maxImportBodyBytes?: number;
  /** Failed authentications allowed per client address and minute before 429 (default 20). */
  authFailuresPerMinute?: number;
}

export interface ApiDeps {
  /**
   * Admin keys from the environment (FERRY_API_KEYS, the key `npm start` generated), optionally
   * named. At least one unless `resources` is given: its store holds the keys made with the API.
   */
  apiKeys: readonly ConfiguredKey[];
  /** The provisioning jobs (Temporal in production: createTemporalProvisioningControl). */
  provisioning: ProvisioningControl;
  /** When given, provisioning routes answer 404 for unknown apps and name the job after the app. */
  apps?: AppLookup;
  /** The store-backed resource routes (directory, gallery, apps, assignments, on-demand, cycles, logs). */
  resources?: ResourceOptions;
  /** The Temporal Web UI, when known: status answers then link to the job's page there. */
  temporalUi?: TemporalUi | null;
  /** The sources' workflows (Temporal in production); absent: POST …/sources/{id}/sync answers 503. */
  sources?: SourceControl;
  /** Temporal's remote codec endpoint (/codec/encode, /codec/decode) over the payload codec; absent = not served. */
  codec?: CodecEndpointOptions;
  /** Named readiness checks run by GET /readyz (database, Temporal…); each throws when unhealthy. */
  healthChecks?: Record<string, HealthCheck>;
  logger?: Logger;
  /** Prometheus metrics (shared with the worker under npm start); absent = the API's own, requests only. */
  metrics?: FerryMetrics | null;
  /** A bearer token that may read GET /metrics without an API key (FERRY_METRICS_TOKEN). */
  metricsToken?: string | null;
  limits?: ApiLimits;
  /** Client address used for the failed-auth limit; the TCP peer by default (proxies are not trusted). */
  clientAddress?: (c: Context) => string;
  /** Clock in ms (failed-auth window, stored keys' cache and last use). */
  now?: () => number;
  /** How long an active stored key is remembered (default 5 s; revocation reaches other processes within it). */
  storedKeyCacheMs?: number;
  /**
   * Secret the operator console seals its session cookies with (Ferry passes FERRY_ENCRYPTION_KEY,
   * so sign-ins outlive a restart); absent = a random one per process.
   */
  consoleSecret?: string | null;
}

/**
 * Paths reachable without an API key. /docs is a static page holding no data: it asks for a key;
 * /favicon.ico is empty, so a browser never meets a 401.
 */
const PUBLIC_GET_PATHS = new Set(['/healthz', '/readyz', '/docs', '/favicon.ico']);

/** The route pattern that answered (`/api/v1/apps/:id`), never the path itself: a bounded metric label. */
function routeLabel(c: Context): string {
  const handler = matchedRoutes(c)
    .filter((r) => r.method !== 'ALL')
    .at(-1);
  return handler?.path ?? 'unmatched';
}

/** Whether the request carries FERRY_METRICS_TOKEN as its bearer token (compared in constant time). */
function hasMetricsToken(c: Context, token: string | null | undefined): boolean {
  if (!token || c.req.path !== '/metrics') return false;
  const given = /^Bearer (.+)$/i.exec(c.req.header('Authorization') ?? '')?.[1] ?? '';
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}
/** The operator console (`/` and `/console/…`) signs people in with its own session cookie. */
const isConsolePath = (path: string) => path === '/' || path.startsWith('/console/');
/** SCIM inbound authenticates with its sources' own bearer tokens, not API keys. */
const isScimInboundPath = (path: string) => path.startsWith(`${SCIM_INBOUND_PATH}/`);

const HIDDEN_5XX_MESSAGE: Partial<Record<ApiErrorCode, string>> = {
  internal_error: 'Internal error',
  unavailable: 'A service Ferry depends on is unavailable; retry later',
  timeout: 'Timed out',
};

/** Request bodies up to `maxBody` bytes, imports up to `maxImportBody`; larger is a 413. */
function bodyLimits(maxBody: number, maxImportBody: number): MiddlewareHandler {
  const tooLarge = (limit: number) => () => {
    throw new ApiError('payload_too_large', `Request body larger than ${limit} bytes`);
  };
  const defaultBodyLimit = bodyLimit({ maxSize: maxBody, onError: tooLarge(maxBody) });
  const importBodyLimit = bodyLimit({ maxSize: maxImportBody, onError: tooLarge(maxImportBody) });
  return (c, next) => (isImportPath(c.req.path) ? importBodyLimit(c, next) : defaultBodyLimit(c, next));
}

export function createApp(deps: ApiDeps) {
  const logger = (deps.logger ?? silentLogger).child('api');
  const metrics = deps.metrics ?? createFerryMetrics({ processMetrics: false });
  const store = deps.resources?.store;
  const verifier = new ApiKeyVerifier(deps.apiKeys, { allowNone: store !== undefined });
  const stored = store
    ? new StoredKeyResolver(store.apiKeys, { now: deps.now, logger, cacheMs: deps.storedKeyCacheMs })
    : undefined;
  const limiter = new FailedAuthLimiter({
    maxFailures: deps.limits?.authFailuresPerMinute ?? 20,
    windowMs: 60_000,
    now: deps.now,
  });
  const clientAddress = deps.clientAddress ?? socketAddress;
  const maxBody = deps.limits?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxImportBody = deps.limits?.maxImportBodyBytes ?? DEFAULT_MAX_IMPORT_BODY_BYTES;

  const app = createRouter();

  app.use('*', requestId({ limitLength: 128 }));
  app.use('*', traceRequests(routeLabel));

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    metrics.apiRequest(c.req.method, routeLabel(c), c.res.status, seconds);
    // Path only: query strings (filters carry names and e-mail addresses) and headers
    // (Authorization) are never logged.
    const principal = c.get('principal') as Principal | undefined;
    logger.info('request', {
      requestId: c.get('requestId'),
      ...(principal ? { keyId: principal.keyId } : {}),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round(seconds * 10_000) / 10,
      client: clientAddress(c),
    });
  });

  // The Web UI calls the codec endpoint from the browser: its origin may, with the API key in
  // Authorization. The preflight (which carries no key) is answered here, before authentication.
  const uiOrigin = deps.codec?.uiOrigin;
  if (uiOrigin) {
    app.use(
      '/codec/*',
      cors({
        origin: uiOrigin,
        allowMethods: ['POST', 'OPTIONS'],
        allowHeaders: ['Authorization', 'Content-Type', 'X-Namespace'],
        credentials: true,
        maxAge: 600,
      }),
    );
  }

  const authenticate = apiKeyAuth({ verifier, stored, limiter, clientAddress, logger });
  app.use('*', async (c, next) => {
    if ((c.req.method === 'GET' || c.req.method === 'HEAD') && PUBLIC_GET_PATHS.has(c.req.path)) return next();
    if (isConsolePath(c.req.path)) return next();
    if (store && isScimInboundPath(c.req.path)) return next();
    if (c.req.method === 'GET' && hasMetricsToken(c, deps.metricsToken)) return next();
    return authenticate(c, next);
  });
  // The audit entry is written after everything inside it answered, denials (403) included.
  if (store) app.use('*', auditTrail({ append: (entry) => store.audit.append(entry), logger }));
  app.use('*', requirePermission());

  app.use('*', bodyLimits(maxBody, maxImportBody));

  app.notFound((c) => {
    throw new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}`);
  });

  app.onError((err, c) => {
    const error = toApiError(err);
    const requestId = c.get('requestId') ?? 'unknown';
    let message = error.message;
    if (error.status >= 500) {
      logger.error('request failed', {
        requestId,
        method: c.req.method,
        path: c.req.path,
        code: error.code,
        error: err,
      });
      message = HIDDEN_5XX_MESSAGE[error.code] ?? 'Internal error';
    }
    const body: ErrorBody = {
      error: { code: error.code, message, requestId, ...(error.details ? { details: error.details } : {}) },
    };
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json(body, error.status);
  });

  // The console calls the API in process, as a script would over HTTP (console/api-client.ts).
  const consoleApp = createConsole({
    api: (path, init, env) => Promise.resolve(app.request(path, init, env as never)),
    sessionSecret: deps.consoleSecret ?? randomBytes(32),
    now: deps.now,
  });
  const serveConsole = (c: Context) => consoleApp.fetch(c.req.raw, c.env);
  app.get('/', serveConsole);
  app.all('/console/*', serveConsole);

  app.route('/', healthRouter(deps.healthChecks ?? {}));
  app.route('/', docsRouter());
  app.route('/', metricsRouter(metrics));
  app.route('/api/v1', meRouter());
  if (deps.codec) app.route('/', codecRouter(deps.codec));
  const apps = deps.apps ?? (deps.resources ? storeAppLookup(deps.resources.store) : undefined);
  const temporalUi = deps.temporalUi ?? null;
  app.route(
    '/api/v1',
    provisioningRouter({
      provisioning: deps.provisioning,
      apps,
      progress: deps.resources ? storeCycleProgress(deps.resources.store) : undefined,
      temporalUi,
      statusTimeoutMs: deps.resources?.statusTimeoutMs,
    }),
  );
  if (deps.resources) {
    app.route('/api/v1', resourceRouters({ ...deps.resources, provisioning: deps.provisioning, temporalUi, logger }));
    app.route(
      '/api/v1',
      keysRouter({
        store: deps.resources.store,
        environmentKeys: () => verifier.principals(),
        onRevoked: (keyId) => stored?.forget(keyId),
      }),
    );
    app.route('/api/v1', auditRouter({ store: deps.resources.store }));
    app.route('/api/v1', sourcesRouter({ store: deps.resources.store, control: deps.sources }));
    const scim = scimInboundApp({ store: deps.resources.store, limiter, clientAddress, logger });
    app.all(`${SCIM_INBOUND_PATH}/*`, (c) => scim.fetch(c.req.raw, c.env));
    registerScimInboundDocs(app.openAPIRegistry);
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key: from FERRY_API_KEYS (admin), or made with POST /api/v1/keys or `npm run keys` (with a role)',
  });
  let document: unknown = null;
  app.get('/openapi.json', (c) => {
    document ??= withPermissions(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: {
          title: 'Ferry control API',
          version: API_VERSION,
          description:
            'Drive Ferry: directory, apps, assignments and provisioning jobs. Every route but GET /healthz, GET /readyz and /scim/v2 (which takes a `scim` source\'s token, scheme `scimSourceToken`) requires `Authorization: Bearer <API key>` (GET /metrics also accepts FERRY_METRICS_TOKEN); each route names the permission it needs (`x-ferry-permission`), which the key\'s role must hold (`admin`: all; `operator`: read, directory:write, provisioning:control, provisioning:onDemand, sources:sync; `viewer`: read), else 403 `forbidden`. Errors have one shape: `{ "error": { "code", "message", "requestId", "details"? } }`; lists paginate with `limit` and an opaque `cursor`.',
        },
        security: [{ bearerAuth: [] }],
      }),
    );
    return c.json(document);
  });

  return app;
}

export type FerryApi = ReturnType<typeof createApp>;

type OpenApiOperation = { description?: string; responses?: Record<string, unknown>; [key: string]: unknown };

/** Each operation names the permission it needs (`x-ferry-permission`) and documents its 403. */
function withPermissions<T>(document: T): T {
  const paths = (document as { paths?: Record<string, Record<string, OpenApiOperation>> }).paths ?? {};
  const forbidden = errorResponsesFor403();
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const rule = ROUTE_RULES[`${method.toUpperCase()} ${path}`];
      if (!rule || rule.permission === 'public') continue;
      operation['x-ferry-permission'] = rule.permission;
      operation.description = `${operation.description ? `${operation.description} ` : ''}Needs the permission \`${rule.permission}\`.`;
      operation.responses = { ...forbidden, ...operation.responses };
    }
  }
  return document;
}

function errorResponsesFor403(): Record<string, unknown> {
  return {
    403: {
      description: "The API key's role lacks the permission this route needs (`forbidden`; the message names it)",
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    },
  };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    const code = err.status === 413 ? 'payload_too_large' : codeForStatus(err.status);
    // Hono's own messages (e.g. "Malformed JSON in request body") are safe to show.
    return new ApiError(code, err.message || 'Bad request', { cause: err });
  }
  if (err instanceof FerryError) {
    if (err.kind === 'notFound') return new ApiError('not_found', err.message, { cause: err });
    if (err instanceof NestingCycleError) {
      const details = [{ path: 'memberId', message: err.cycle.join(' → '), in: 'body' as const }];
      return new ApiError('group_nesting_cycle', err.message, { details, cause: err });
    }
    if (err instanceof VersionMismatchError) {
      return new ApiError('precondition_failed', err.message, {
        headers: { ETag: etagOf(err.currentVersion) },
        cause: err,
      });
    }
    if (err instanceof TakenError) {
      const details = [{ path: err.field, message: `taken by ${err.takenBy}`, in: 'body' as const }];
      return new ApiError('conflict', err.message, { details, cause: err });
    }
    if (err.kind === 'conflict') return new ApiError('conflict', err.message, { cause: err });
  }
  return new ApiError('internal_error', err instanceof Error ? err.message : String(err), { cause: err });
}
