// Server-side retry decisions for activities: pure, given the policy, the attempt and the failure.
import { durationMs, type Msg } from './proto.ts';

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; retryState: string };

/** The policy with the server's defaults filled in (initial 1 s, ×2, max 100× initial, unlimited). */
export function withRetryDefaults(policy: Msg | undefined | null): Msg {
  const initialMs = durationMs(policy?.initialInterval) ?? 1000;
  return {
    initialInterval: policy?.initialInterval ?? { seconds: 1 },
    backoffCoefficient: policy?.backoffCoefficient || 2,
    maximumInterval: policy?.maximumInterval ?? { seconds: Math.ceil((initialMs * 100) / 1000) },
    maximumAttempts: policy?.maximumAttempts ?? 0,
    nonRetryableErrorTypes: policy?.nonRetryableErrorTypes ?? [],
  };
}

export function decideRetry(input: {
  policy: Msg;
  /** The attempt that just failed (1-based). */
  attempt: number;
  failure: Msg | undefined;
  nowMs: number;
  /** Schedule-to-close deadline, if any. */
  expirationMs: number | undefined;
}): RetryDecision {
  const { policy, attempt, failure, nowMs, expirationMs } = input;
  const info = failure?.applicationFailureInfo as Msg | undefined;
  if (info?.nonRetryable) return { retry: false, retryState: 'RETRY_STATE_NON_RETRYABLE_FAILURE' };
  const type = info?.type as string | undefined;
  if (type && ((policy.nonRetryableErrorTypes ?? []) as string[]).includes(type)) {
    return { retry: false, retryState: 'RETRY_STATE_NON_RETRYABLE_FAILURE' };
  }
  const maximumAttempts = Number(policy.maximumAttempts ?? 0);
  if (maximumAttempts > 0 && attempt >= maximumAttempts) {
    return { retry: false, retryState: 'RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED' };
  }
  const initialMs = durationMs(policy.initialInterval) ?? 1000;
  const maximumMs = durationMs(policy.maximumInterval) ?? initialMs * 100;
  const backoff = Number(policy.backoffCoefficient) || 2;
  const delayMs = durationMs(info?.nextRetryDelay) ?? Math.min(initialMs * backoff ** (attempt - 1), maximumMs);
  if (expirationMs !== undefined && nowMs + delayMs >= expirationMs) {
    return { retry: false, retryState: 'RETRY_STATE_TIMEOUT' };
  }
  return { retry: true, delayMs };
}
