// What one request to the target is, inside the client: the exchange asked for, the outcome of one
// attempt, the client's counters. Shared by the request, retry and resource modules; not exported
// from the folder.
import type { ScimClientEvent } from './types.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * When a failed request may be repeated: `safe` for reads and idempotent writes (and the test
 * connection); `unsent` when only a failure proving the target did not act (refused, 429, 503)
 * allows it (POST).
 */
export type RetryMode = 'safe' | 'unsent';

export interface Exchange {
  method: Method;
  /** Path below the base URL, e.g. `/Users/123`. */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  resourceUrl?: boolean;
  retry: RetryMode;
}

export interface ExchangeResult {
  status: number;
  body: unknown;
}

export type AttemptOutcome =
  | { kind: 'response'; status: number; body: unknown; text: string; retryAfter: string | null; contentType: string }
  | { kind: 'network'; error: unknown; unsent?: boolean };

/** Sends an exchange with retries; resolves with a 2xx answer or throws a FerryError. */
export type Send = (exchange: Exchange) => Promise<ExchangeResult>;

/** What the client counts as it works (see ScimClientStats). */
export interface ClientCounters {
  requests: number;
  retries: number;
  throttled: number;
  failures: number;
  created: number;
  adopted: number;
}

export type ClientLog = (event: ScimClientEvent) => void;
