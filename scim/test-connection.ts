// The test connection: a filter on a random userName, which a SCIM target answers with 200 and an
// empty ListResponse. Retried like any GET; the last outcome is explained as a reason and a message.
import { randomUUID } from 'node:crypto';
import { FerryError } from '../engine/errors.ts';
import { SCIM_LIST_RESPONSE_SCHEMA } from '../engine/types.ts';
import { explainConnectionFailure } from './classify.ts';
import type { AttemptOutcome, Exchange } from './exchange.ts';
import { eqFilter } from './filter.ts';
import type { Requester } from './request.ts';
import type { RetryingSender } from './retry-policy.ts';
import { listResponseSchema } from './schemas.ts';
import { ResponseTooLargeError } from './errors.ts';
import type { TestConnectionResult } from './types.ts';

/**
 * Why no request reached an answer: an address the policy refuses, DNS, TLS, a too large answer, or
 * unreachable — one answer for refused, timed out and closed, so the probe cannot map which ports
 * answer on the networks Ferry reaches (the exact cause goes to `detail`, for the operator's log).
 */
function explainNetworkFailure(error: unknown, baseUrl: URL): TestConnectionResult {
  if (error instanceof ResponseTooLargeError) return { ok: false, reason: 'notScim', message: error.message };
  return { ok: false, ...explainConnectionFailure(error, baseUrl.host) };
}

/** What an HTTP answer to the probe says about the target. */
function explainAnswer(
  { status, body, contentType }: Extract<AttemptOutcome, { kind: 'response' }>,
  usersUrl: URL,
): TestConnectionResult {
  if (status === 401)
    return { ok: false, reason: 'unauthorized', message: 'The target rejected the credentials (401)' };
  if (status === 403)
    return { ok: false, reason: 'forbidden', message: 'The credentials are not allowed to read users (403)' };
  if (status === 404)
    return { ok: false, reason: 'notFound', message: `No SCIM Users endpoint at ${usersUrl.href} (404)` };
  if (status === 429 || status >= 500)
    return { ok: false, reason: 'unavailable', message: `The target is unavailable right now (${status})` };
  if (status !== 200)
    return { ok: false, reason: 'unexpected', message: `Expected 200 for a filtered GET /Users, got ${status}` };
  const list = listResponseSchema.safeParse(body);
  const looksScim =
    body !== null &&
    typeof body === 'object' &&
    list.success &&
    (list.data.totalResults !== undefined ||
      (Array.isArray((body as { schemas?: unknown }).schemas) &&
        (body as { schemas: unknown[] }).schemas.includes(SCIM_LIST_RESPONSE_SCHEMA)));
  if (!looksScim) {
    return {
      ok: false,
      reason: 'notScim',
      message: `The answer is not a SCIM ListResponse (content-type ${contentType || 'none'})`,
    };
  }
  if (list.data.resources.length > 0 || (list.data.totalResults ?? 0) > 0) {
    return {
      ok: false,
      reason: 'notScim',
      message: 'A filter on a random userName returned users: the target ignores filters',
    };
  }
  return { ok: true };
}

export function createTestConnection(
  probe: RetryingSender['probe'],
  baseUrl: URL,
  urlFor: Requester['urlFor'],
): () => Promise<TestConnectionResult> {
  return async function testConnection() {
    const exchange: Exchange = {
      method: 'GET',
      path: '/Users',
      query: { filter: eqFilter('userName', randomUUID()) },
      retry: 'safe',
    };
    let outcome: AttemptOutcome;
    try {
      outcome = await probe(exchange);
    } catch (error) {
      // Token endpoint failures surface here as FerryErrors.
      const message = error instanceof Error ? error.message : String(error);
      const unauthorized = error instanceof FerryError && error.code === 'Unauthorized';
      return { ok: false, reason: unauthorized ? 'unauthorized' : 'network', message };
    }
    if (outcome.kind === 'network') return explainNetworkFailure(outcome.error, baseUrl);
    return explainAnswer(outcome, urlFor('/Users'));
  };
}
