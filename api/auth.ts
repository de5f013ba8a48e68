// Bearer API-key authentication (every route but the public ones) and the permission check.
// Two kinds of key:
// - FERRY_API_KEYS (and the key `npm start` generates): admin keys held only as SHA-256 digests,
//   compared with crypto.timingSafeEqual against every configured key without stopping at the first
//   match, so neither the key's length nor its prefix shows in the response time;
// - keys made with POST /api/v1/keys or `npm run keys`: records in the database, looked up by the
//   SHA-256 of the presented key (a lookup by digest reveals nothing about the key itself), each with
//   a role. An active key is remembered for a few seconds, and its last use is written at most once
//   a minute, so a busy client costs neither a lookup nor a write per request.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { getConnInfo } from '@hono/node-server/conninfo';
import { hashApiKey, type ApiKeyRecord, type ApiKeyRepository } from '../store/api-keys.ts';
import { ApiError } from './errors.ts';
import type { FailedAuthLimiter } from './failed-auth-limiter.ts';
import type { Logger } from './logger.ts';
import { hasPermission, openApiPath, routeRule, type Permission, type Role, type RouteRule } from './permissions.ts';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Who is calling: the key's id, name and role. */
export interface Principal {
  /** A stored key's id, or `env:<first 12 hex digits of its SHA-256>` for FERRY_API_KEYS. */
  keyId: string;
  name: string;
  role: Role;
  /** `environment`: FERRY_API_KEYS or the generated key (always admin); `stored`: a key record. */
  source: 'environment' | 'stored';
}

/** A key from the environment, optionally with the name it is shown under (default `FERRY_API_KEYS #n`). */
export type ConfiguredKey = string | { key: string; name: string };

/** The id an environment key is shown under: stable across restarts, reveals nothing usable. */
export const environmentKeyId = (key: string): string => `env:${hashApiKey(key).slice(0, 12)}`;

/** Holds the digests of the environment's API keys (never the keys themselves). */
export class ApiKeyVerifier {
  private readonly keys: { digest: Buffer; principal: Principal }[];

  constructor(keys: readonly ConfiguredKey[], options: { allowNone?: boolean } = {}) {
    const usable = keys
      .map((k, index) => (typeof k === 'string' ? { key: k, name: `FERRY_API_KEYS #${index + 1}` } : k))
      .map((k) => ({ ...k, key: k.key.trim() }))
      .filter((k) => k.key.length > 0);
    if (usable.length === 0 && !options.allowNone) {
      throw new Error('At least one API key is required (FERRY_API_KEYS)');
    }
    this.keys = usable.map((k) => ({
      digest: digest(k.key),
      principal: { keyId: environmentKeyId(k.key), name: k.name, role: 'admin', source: 'environment' },
    }));
  }

  /** The principal of a configured key, or null. Compares against every key whatever the outcome. */
  identify(presented: string): Principal | null {
    const candidate = digest(presented);
    let found: Principal | null = null;
    for (const k of this.keys) {
      if (timingSafeEqual(candidate, k.digest)) found = k.principal;
    }
    return found;
  }

  verify(presented: string): boolean {
    return this.identify(presented) !== null;
  }

  /** The environment's keys as principals (for GET /api/v1/keys). */
  principals(): Principal[] {
    return this.keys.map((k) => k.principal);
  }
}

export interface StoredKeyOptions {
  /** How long an active stored key is remembered without asking the database again (default 5 s). */
  cacheMs?: number;
  /** Last use is written at most this often per key (default 60 s). */
  touchEveryMs?: number;
  now?: () => number;
  logger?: Logger;
}

/** Resolves keys kept in the database, with a short cache and a throttled last-use write. */
export class StoredKeyResolver {
  private readonly cache = new Map<string, { record: ApiKeyRecord; until: number }>();
  private readonly touched = new Map<string, number>();
  private readonly cacheMs: number;
  private readonly touchEveryMs: number;
  private readonly now: () => number;

  constructor(
    private readonly repository: ApiKeyRepository,
    private readonly options: StoredKeyOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 5_000;
    this.touchEveryMs = options.touchEveryMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  async resolve(presented: string): Promise<Principal | null> {
    const keyHash = hashApiKey(presented);
    const now = this.now();
    let record = this.cache.get(keyHash);
    if (!record || record.until <= now) {
      const found = await this.repository.findByHash(keyHash);
      if (!found || found.revokedAt !== null) {
        this.cache.delete(keyHash);
        return null;
      }
      if (this.cache.size >= 10_000) this.cache.clear();
      record = { record: found, until: now + this.cacheMs };
      this.cache.set(keyHash, record);
    }
    await this.touch(record.record, now);
    return { keyId: record.record.id, name: record.record.name, role: record.record.role, source: 'stored' };
  }

  /** A revoked key stops working in this process at once (other processes: within `cacheMs`). */
  forget(keyId: string): void {
    for (const [hash, entry] of this.cache) if (entry.record.id === keyId) this.cache.delete(hash);
  }

  private async touch(record: ApiKeyRecord, now: number): Promise<void> {
    const last = this.touched.get(record.id) ?? (record.lastUsedAt ? Date.parse(record.lastUsedAt) : -Infinity);
    if (now - last < this.touchEveryMs) return;
    this.touched.set(record.id, now);
    try {
      await this.repository.touch(record.id, new Date(now));
    } catch (error) {
      // The request goes on: last use is a hint, not a reason to refuse a valid key.
      this.options.logger?.warn('could not record the last use of an API key', { keyId: record.id, error });
    }
  }
}

/** The bearer token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? match[1] : null;
}

/** The client's address from the Node socket; 'unknown' when there is none (app.request() in tests). */
export function socketAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export interface ApiKeyAuthOptions {
  verifier: ApiKeyVerifier;
  stored?: StoredKeyResolver;
  limiter: FailedAuthLimiter;
  clientAddress: (c: Context) => string;
  logger: Logger;
}

/** Authenticates the request and sets `principal` on the context; 401 (or 429 when throttled) otherwise. */
export function apiKeyAuth(options: ApiKeyAuthOptions): MiddlewareHandler {
  const { verifier, stored, limiter, clientAddress, logger } = options;
  const challenge = { 'WWW-Authenticate': 'Bearer realm="ferry"' };
  return async (c, next) => {
    const address = clientAddress(c);
    const token = bearerToken(c.req.header('authorization'));
    // The key is checked first: the limiter slows down failures only, so a client holding a
    // valid key is never locked out by typos (or by someone else) from the same address.
    if (token !== null) {
      const principal = verifier.identify(token) ?? (stored ? await stored.resolve(token) : null);
      if (principal) {
        c.set('principal', principal);
        return next();
      }
    }
    const wait = limiter.blockedFor(address);
    if (wait > 0) {
      throw new ApiError('too_many_requests', 'Too many failed authentication attempts; retry later', {
        headers: { 'Retry-After': String(Math.ceil(wait / 1000)) },
      });
    }
    limiter.recordFailure(address);
    logger.warn('authentication failed', {
      requestId: c.get('requestId'),
      client: address,
      reason: token === null ? 'missing bearer token' : 'unknown or revoked API key',
    });
    throw new ApiError(
      'unauthorized',
      token === null ? 'Missing API key: send Authorization: Bearer <key>' : 'Invalid API key',
      { headers: challenge },
    );
  };
}

export interface MatchedRoute {
  method: string;
  /** The route as the OpenAPI document spells it, e.g. `/api/v1/apps/{id}`. */
  path: string;
  rule: RouteRule | undefined;
  /** The path parameters, decoded. */
  params: Record<string, string>;
}

/** The route the request reached with its rule (whichever middleware asks); null when no route matched. */
export function matchedRoute(c: Context): MatchedRoute | null {
  const route = matchedRoutes(c).find((r) => r.method !== 'ALL');
  if (!route) return null;
  const path = openApiPath(route.path);
  return {
    method: route.method,
    path,
    rule: routeRule(route.method, path),
    params: pathParams(route.path, c.req.path),
  };
}

function pathParams(pattern: string, path: string): Record<string, string> {
  const names: string[] = [];
  const source = pattern
    .split('/')
    .map((part) => {
      const param = /^:([A-Za-z0-9_]+)$/.exec(part);
      if (!param) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1]);
      return '([^/]+)';
    })
    .join('/');
  const match = new RegExp(`^${source}/?$`).exec(path);
  const params: Record<string, string> = {};
  names.forEach((name, i) => {
    const raw = match?.[i + 1];
    if (raw === undefined) return;
    try {
      params[name] = decodeURIComponent(raw);
    } catch {
      params[name] = raw;
    }
  });
  return params;
}

/** 403 `forbidden` unless the caller's role holds the permission the route needs (ROUTE_RULES). */
export function requirePermission(): MiddlewareHandler {
  return async (c, next) => {
    const principal = c.get('principal') as Principal | undefined;
    const route = matchedRoute(c);
    // No route: the 404 answer follows. No principal: a public route (authentication ran before).
    if (!route || !principal) return next();
    const permission: Permission | 'public' | null = route.rule?.permission ?? null;
    if (permission === 'public') return next();
    if (permission === null) {
      // A route nobody gave a permission: only admin keys may call it (a test keeps this from happening).
      if (principal.role === 'admin') return next();
      throw new ApiError(
        'forbidden',
        `${route.method} ${route.path} has no permission assigned; only admin keys may call it`,
      );
    }
    if (!hasPermission(principal.role, permission)) {
      throw new ApiError(
        'forbidden',
        `The API key "${principal.name}" (role ${principal.role}) lacks the permission ${permission}`,
      );
    }
    return next();
  };
}
