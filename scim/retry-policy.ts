// When a failed request is tried again: transient failures with exponential backoff and jitter, a
// POST only when the failure proves the target did not act, one token refresh after a 401, and
// 429/503 Retry-After pausing the whole app (capped). One classifier turns every failure into a
// FerryError.
import { FerryError } from '../engine/errors.ts';
import type { AuthProvider } from './auth.ts';
import { classifyScimFailure, networkErrorCode } from './classify.ts';
import type { AttemptOutcome, ClientCounters, ClientLog, Exchange, ExchangeResult } from './exchange.ts';
import type { RateGate } from './rate-gate.ts';
import type { Requester } from './request.ts';
import { sleep } from './sleep.ts';
import { ResponseTooLargeError } from './errors.ts';
import type { RetryOptions } from './types.ts';

/** Failures that prove the request never reached the target's application logic. */
const UNSENT_NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 };
export const DEFAULT_MAX_RETRY_AFTER_MS = 15 * 60_000;

export interface RetryPolicyDeps {
  attempt: Requester['attempt'];
  auth: AuthProvider;
  gate: RateGate;
  log: ClientLog;
  counters: ClientCounters;
  retry: RetryOptions;
  maxRetryAfterMs: number;
}

export interface RetryingSender {
  /** Send with retries, 401 refresh and Retry-After pauses; resolve with a 2xx answer or throw a FerryError. */
  send(exchange: Exchange): Promise<ExchangeResult>;
  /**
   * The same retries, but the last outcome is returned as it came (2xx or not), for the test
   * connection to explain.
   */
  probe(exchange: Exchange): Promise<AttemptOutcome>;
  /** `probe`, but a failure without an HTTP answer throws its FerryError: any status comes back as it is. */
  answer(exchange: Exchange): Promise<ExchangeResult>;
  /** Whether a POST that failed with this error may or may not have been processed by the target. */
  outcomeUnknown(error: unknown): boolean;
}

function provesUnsent(outcome: AttemptOutcome): boolean {
  if (outcome.kind === 'network')
    return outcome.unsent === true || UNSENT_NETWORK_CODES.has(networkErrorCode(outcome.error) ?? '');
  return outcome.status === 429 || outcome.status === 503;
}

/** The typed error of a failed attempt (one classifier for every request). */
function failureOf(exchange: Exchange, outcome: AttemptOutcome): FerryError {
  if (outcome.kind === 'network') {
    if (outcome.error instanceof ResponseTooLargeError)
      return classifyScimFailure({ kind: 'tooLarge', maxBytes: outcome.error.limit, cause: outcome.error });
    if (outcome.error instanceof FerryError) return outcome.error;
    return classifyScimFailure({ kind: 'network', error: outcome.error });
  }
  return classifyScimFailure({
    kind: 'response',
    status: outcome.status,
    body: outcome.body,
    retryAfter: outcome.retryAfter,
    resourceUrl: exchange.resourceUrl,
  });
}

export function createRetryPolicy(deps: RetryPolicyDeps): RetryingSender {
  const { attempt, auth, gate, log, counters, retry, maxRetryAfterMs } = deps;
  /** Errors after which a POST may or may not have been processed. */
  const outcomeUnknown = new WeakSet<Error>();

  function backoff(attemptNumber: number): number {
    const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attemptNumber - 1));
    return Math.round(ceiling * (0.5 + Math.random() * 0.5));
  }

  /**
   * A 429/503 slows the whole app down (Retry-After), not only this request. A Retry-After above the
   * app's cap is not waited for here: the request fails with the full wait (escrow honours it) and
   * the app is held back for the cap, so the rest of the batch does not hammer a target that asked
   * for a break, nor stall the activity for a day. Returns whether the ask was beyond the cap.
   */
  function throttle(outcome: AttemptOutcome, error: FerryError, attemptNumber: number): boolean {
    if (outcome.kind !== 'response' || (outcome.status !== 429 && outcome.status !== 503)) return false;
    const askedMs = error.retryAfterMs ?? (outcome.status === 429 ? backoff(attemptNumber) : 0);
    const pauseMs = Math.min(askedMs, maxRetryAfterMs);
    if (pauseMs > 0) {
      counters.throttled++;
      gate.pauseFor(pauseMs);
      log({
        type: 'throttled',
        status: outcome.status,
        retryAfterMs: askedMs,
        pausedUntil: new Date(Date.now() + gate.pauseRemainingMs).toISOString(),
      });
    }
    return askedMs > maxRetryAfterMs;
  }

  /** After a failed attempt: how long to wait before the next attempt, or null when it is not retried. */
  function nextAttemptDelay(
    exchange: Exchange,
    outcome: AttemptOutcome,
    error: FerryError,
    attemptNumber: number,
  ): number | null {
    const beyondCap = throttle(outcome, error, attemptNumber);
    const retryable =
      !beyondCap &&
      error.kind === 'transient' &&
      attemptNumber < retry.attempts &&
      (exchange.retry === 'safe' || (exchange.retry === 'unsent' && provesUnsent(outcome)));
    if (!retryable) return null;
    const delayMs = Math.max(backoff(attemptNumber), gate.pauseRemainingMs);
    counters.retries++;
    log({
      type: 'retry',
      method: exchange.method,
      path: exchange.path,
      attempt: attemptNumber,
      delayMs,
      code: error.code,
      status: error.status,
    });
    return delayMs;
  }

  async function send(exchange: Exchange): Promise<ExchangeResult> {
    let refreshedAfter401 = false;
    for (let attemptNumber = 1; ; attemptNumber++) {
      const outcome = await attempt(exchange, attemptNumber);
      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
        if (outcome.text.trim() !== '' && outcome.body === undefined) {
          counters.failures++;
          throw classifyScimFailure({ kind: 'invalidBody', status: outcome.status, reason: 'body is not JSON' });
        }
        return { status: outcome.status, body: outcome.body };
      }
      if (outcome.kind === 'response' && outcome.status === 401 && !refreshedAfter401 && auth.invalidate()) {
        // An OAuth token can be revoked or expire early: fetch a new one once, then believe the 401.
        refreshedAfter401 = true;
        attemptNumber--;
        continue;
      }
      const error = failureOf(exchange, outcome);
      const delayMs = nextAttemptDelay(exchange, outcome, error, attemptNumber);
      if (delayMs === null) {
        counters.failures++;
        if (exchange.method === 'POST' && error.kind === 'transient' && !provesUnsent(outcome))
          outcomeUnknown.add(error);
        throw error;
      }
      await sleep(delayMs);
    }
  }

  async function probe(exchange: Exchange): Promise<AttemptOutcome> {
    let refreshedAfter401 = false;
    for (let attemptNumber = 1; ; attemptNumber++) {
      const outcome = await attempt(exchange, attemptNumber);
      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) return outcome;
      if (outcome.kind === 'response' && outcome.status === 401 && !refreshedAfter401 && auth.invalidate()) {
        refreshedAfter401 = true;
        attemptNumber--;
        continue;
      }
      const delayMs = nextAttemptDelay(exchange, outcome, failureOf(exchange, outcome), attemptNumber);
      if (delayMs === null) return outcome;
      await sleep(delayMs);
    }
  }

  async function answer(exchange: Exchange): Promise<ExchangeResult> {
    const outcome = await probe(exchange);
    if (outcome.kind === 'network') throw failureOf(exchange, outcome);
    return { status: outcome.status, body: outcome.body };
  }

  return {
    send,
    probe,
    answer,
    outcomeUnknown: (error) => error instanceof Error && outcomeUnknown.has(error),
  };
}
