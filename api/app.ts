// The control API's composition: createApp(deps) wires request ids, logging, authentication,
// body limits, the one error shape and every resource router. Dependencies are injected so
// tests build the same app with real or fake parts.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { FerryError } from '../engine/errors.ts';
import { ApiKeyVerifier, apiKeyAuth, socketAddress } from './auth.ts';
import { ApiError, codeForStatus, type ApiErrorCode, type ErrorBody } from './errors.ts';
import { FailedAuthLimiter } from './failed-auth-limiter.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { ProvisioningControl } from './provisioning-control.ts';
import { createRouter } from './router.ts';
import { docsRouter } from './routes/docs.ts';
import { healthRouter, type HealthCheck } from './routes/health.ts';
import { provisioningRouter, type AppLookup } from './routes/provisioning.ts';
import { resourceRouters, storeAppLookup, type ResourceOptions } from './resources.ts';

export const API_VERSION = '0.1.0';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_IMPORT_BODY_BYTES = 50 * 1024 * 1024;
/** Paths whose larger body limit applies (directory import carries whole directories). */
const IMPORT_PATHS = new Set(['/api/v1/directory/import']);

export interface ApiLimits {
  /** Largest request body accepted, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Largest body for POST /api/v1/directory/import (default 50 MiB). */
  maxImportBodyBytes?: number;
  /** Failed authentications allowed per client address and minute before 429 (default 20). */
  authFailuresPerMinute?: number;
}

export interface ApiDeps {
  /** Accepted API keys (FERRY_API_KEYS). At least one. */
  apiKeys: readonly string[];
  /** The provisioning jobs (Temporal in production: createTemporalProvisioningControl). */
  provisioning: ProvisioningControl;
  /** When given, provisioning routes answer 404 for unknown apps and name the job after the app. */
  apps?: AppLookup;
  /** The store-backed resource routes (directory, gallery, apps, assignments, on-demand, cycles, logs). */
  resources?: ResourceOptions;
  /** Named readiness checks run by GET /healthz (database, Temporal…); each throws when unhealthy. */
  healthChecks?: Record<string, HealthCheck>;
  logger?: Logger;
  limits?: ApiLimits;
  /** Client address used for the failed-auth limit; the TCP peer by default (proxies are not trusted). */
  clientAddress?: (c: Context) => string;
  /** Clock in ms (failed-auth window). */
  now?: () => number;
}

/** Paths reachable without an API key. /docs is a static page holding no data: it asks for a key. */
const PUBLIC_GET_PATHS = new Set(['/healthz', '/docs']);

const HIDDEN_5XX_MESSAGE: Partial<Record<ApiErrorCode, string>> = {
  internal_error: 'Internal error',
  unavailable: 'A service Ferry depends on is unavailable; retry later',
  timeout: 'Timed out',
};

export function createApp(deps: ApiDeps) {
  const logger = deps.logger ?? silentLogger;
  const verifier = new ApiKeyVerifier(deps.apiKeys);
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

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    // Path only: query strings and headers (Authorization) are never logged.
    logger.info('request', {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      client: clientAddress(c),
    });
  });

  const authenticate = apiKeyAuth({ verifier, limiter, clientAddress, logger });
  app.use('*', async (c, next) => {
    if ((c.req.method === 'GET' || c.req.method === 'HEAD') && PUBLIC_GET_PATHS.has(c.req.path)) return next();
    return authenticate(c, next);
  });

  const tooLarge = (limit: number) => () => {
    throw new ApiError('payload_too_large', `Request body larger than ${limit} bytes`);
  };
  const defaultBodyLimit = bodyLimit({ maxSize: maxBody, onError: tooLarge(maxBody) });
  const importBodyLimit = bodyLimit({ maxSize: maxImportBody, onError: tooLarge(maxImportBody) });
  app.use('*', (c, next) => (IMPORT_PATHS.has(c.req.path) ? importBodyLimit(c, next) : defaultBodyLimit(c, next)));

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

  app.route('/', healthRouter(deps.healthChecks ?? {}));
  app.route('/', docsRouter());
  const apps = deps.apps ?? (deps.resources ? storeAppLookup(deps.resources.store) : undefined);
  app.route('/api/v1', provisioningRouter({ provisioning: deps.provisioning, apps }));
  if (deps.resources) app.route('/api/v1', resourceRouters({ ...deps.resources, provisioning: deps.provisioning }));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key from FERRY_API_KEYS',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Ferry control API',
      version: API_VERSION,
      description:
        'Drive Ferry: directory, apps, assignments and provisioning jobs. Every route but GET /healthz requires `Authorization: Bearer <API key>`. Errors have one shape: `{ "error": { "code", "message", "requestId", "details"? } }`; lists paginate with `limit` and an opaque `cursor`.',
    },
    security: [{ bearerAuth: [] }],
  });

  return app;
}

export type FerryApi = ReturnType<typeof createApp>;

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    const code = err.status === 413 ? 'payload_too_large' : codeForStatus(err.status);
    // Hono's own messages (e.g. "Malformed JSON in request body") are safe to show.
    return new ApiError(code, err.message || 'Bad request', { cause: err });
  }
  if (err instanceof FerryError) {
    if (err.kind === 'notFound') return new ApiError('not_found', err.message, { cause: err });
    if (err.kind === 'conflict') return new ApiError('conflict', err.message, { cause: err });
  }
  return new ApiError('internal_error', err instanceof Error ? err.message : String(err), { cause: err });
}
