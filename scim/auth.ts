// Credentials for a SCIM target: a static bearer token, or OAuth 2.0 client credentials (RFC 6749
// §4.4) with the access token cached and refreshed before it expires. Secrets stay in this closure.
import { z } from 'zod';
import { ConfigurationError } from '../engine/errors.ts';
import { classifyScimFailure } from './classify.ts';
import { assertSendableUrl, type Transport } from './transport.ts';

export type ScimAuth =
  | { type: 'bearer'; token: string }
  | { type: 'oauth'; tokenUrl: string; clientId: string; clientSecret: string; scope?: string };

export interface AuthProvider {
  /** The `Authorization` header value for the next request. */
  authorization(): Promise<string>;
  /** Forget a cached token after a 401 so the next call fetches a new one. Returns false for static tokens. */
  invalidate(): boolean;
  /** Number of token requests made (OAuth only). */
  readonly tokenRequests: number;
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive().optional(),
});

/** Refresh this long before expiry so a token never expires in flight. */
const REFRESH_MARGIN_MS = 60_000;

export function createAuthProvider(auth: ScimAuth, transport: Transport, now: () => number = Date.now): AuthProvider {
  if (auth.type === 'bearer') {
    if (!auth.token) throw new ConfigurationError('SCIM bearer token is empty', { code: 'Unauthorized' });
    const header = `Bearer ${auth.token}`;
    return { authorization: async () => header, invalidate: () => false, tokenRequests: 0 };
  }

  const oauth = auth;
  const tokenUrl = new URL(oauth.tokenUrl);
  assertSendableUrl(tokenUrl, transport.allowInsecureLoopback, 'OAuth token URL');
  let cached: { header: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;
  let tokenRequests = 0;

  async function fetchToken(): Promise<string> {
    tokenRequests++;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: oauth.clientId,
      client_secret: oauth.clientSecret,
    });
    if (oauth.scope) form.set('scope', oauth.scope);
    const requestedAt = now();
    let response;
    try {
      response = await transport.send({
        method: 'POST',
        url: tokenUrl,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
      });
    } catch (error) {
      throw classifyScimFailure({ kind: 'network', error });
    }
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      body = undefined;
    }
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      throw classifyScimFailure({ kind: 'tokenRefused', status: response.status });
    }
    if (response.status < 200 || response.status >= 300) {
      throw classifyScimFailure({ kind: 'response', status: response.status, body, retryAfter: null });
    }
    const parsed = tokenResponseSchema.safeParse(body);
    if (!parsed.success) {
      throw classifyScimFailure({ kind: 'tokenRefused', status: null });
    }
    const lifetimeMs = (parsed.data.expires_in ?? 3600) * 1000;
    const header = `Bearer ${parsed.data.access_token}`;
    cached = { header, refreshAt: requestedAt + Math.max(lifetimeMs - REFRESH_MARGIN_MS, lifetimeMs / 2) };
    return header;
  }

  return {
    async authorization() {
      if (cached && now() < cached.refreshAt) return cached.header;
      // One token request at a time, shared by every caller waiting for it.
      pending ??= fetchToken().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate() {
      cached = undefined;
      return true;
    },
    get tokenRequests() {
      return tokenRequests;
    },
  };
}
