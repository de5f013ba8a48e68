// Bearer API-key authentication (every route but GET /healthz). Keys are compared as SHA-256
// digests with crypto.timingSafeEqual, against every configured key without stopping at the
// first match, so neither the key's length nor its prefix shows in the response time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { ApiError } from './errors.ts';
import type { FailedAuthLimiter } from './failed-auth-limiter.ts';
import type { Logger } from './logger.ts';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Holds the digests of the accepted API keys (never the keys themselves). */
export class ApiKeyVerifier {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    const usable = keys.map((k) => k.trim()).filter((k) => k.length > 0);
    if (usable.length === 0) throw new Error('At least one API key is required (FERRY_API_KEYS)');
    this.digests = usable.map(digest);
  }

  verify(presented: string): boolean {
    const candidate = digest(presented);
    let ok = false;
    for (const d of this.digests) {
      // Non-short-circuit OR: every key is compared whatever the outcome.
      ok = timingSafeEqual(candidate, d) || ok;
    }
    return ok;
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
  limiter: FailedAuthLimiter;
  clientAddress: (c: Context) => string;
  logger: Logger;
}

export function apiKeyAuth(options: ApiKeyAuthOptions): MiddlewareHandler {
  const { verifier, limiter, clientAddress, logger } = options;
  const challenge = { 'WWW-Authenticate': 'Bearer realm="ferry"' };
  return async (c, next) => {
    const address = clientAddress(c);
    const wait = limiter.blockedFor(address);
    if (wait > 0) {
      throw new ApiError('too_many_requests', 'Too many failed authentication attempts; retry later', {
        headers: { 'Retry-After': String(Math.ceil(wait / 1000)) },
      });
    }
    const token = bearerToken(c.req.header('authorization'));
    if (token === null || !verifier.verify(token)) {
      limiter.recordFailure(address);
      logger.warn('authentication failed', {
        requestId: c.get('requestId'),
        client: address,
        reason: token === null ? 'missing bearer token' : 'unknown API key',
      });
      throw new ApiError(
        'unauthorized',
        token === null ? 'Missing API key: send Authorization: Bearer <key>' : 'Invalid API key',
        { headers: challenge },
      );
    }
    await next();
  };
}
