// Errors leave activities in ONE shape: ApplicationFailure with the error class name as `type`,
// the Entra error code in details, and nonRetryable where a retry of the activity cannot help.
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { cycleFailureFrom } from '../../workflows/cycle.ts';
import { TakenError } from '../../store/errors.ts';
import { describe, expect, it } from 'vitest';
import { toActivityFailure } from '../../activities/failures.ts';
import {
  ConfigurationError,
  ConflictError,
  NotFoundError,
  PermanentError,
  TransientError,
} from '../../engine/errors.ts';

describe('toActivityFailure', () => {
  it.each([
    [new TransientError('timeout', { code: 'Timeout', status: 504 }), 'TransientError', false],
    [new PermanentError('bad request', { code: 'BadRequest', status: 400 }), 'PermanentError', true],
    [new ConfigurationError('401', { code: 'Unauthorized', status: 401 }), 'ConfigurationError', true],
    [new NotFoundError('gone', { code: 'NotFound', status: 404 }), 'NotFoundError', true],
    [new ConflictError('exists', { code: 'Conflict', status: 409 }), 'ConflictError', true],
  ])('%s becomes type %s, nonRetryable %s', (error, type, nonRetryable) => {
    const failure = toActivityFailure(error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    const app = failure as ApplicationFailure;
    expect(app.type).toBe(type);
    expect(app.nonRetryable).toBe(nonRetryable);
    expect(app.details?.[0]).toEqual({ kind: error.kind, code: error.code, status: error.status });
  });

  it('a subclass leaves as its kind, so the workflow classifies it: a taken userPrincipalName is a conflict, not retried', () => {
    const failure = toActivityFailure(
      new TakenError(
        'userPrincipalName a@b is already used by another directory user (u1).',
        'userPrincipalName',
        'u1',
      ),
    ) as ApplicationFailure;
    expect(failure.type).toBe('ConflictError');
    expect(failure.nonRetryable).toBe(true);
    const cause = failure;
    const kind = cycleFailureFrom(
      new ActivityFailure('failed', 'processBatch', 'a1', RetryState.NON_RETRYABLE_FAILURE, 'w', cause),
    ).kind;
    expect(kind).toBe('conflict');
  });

  it('honours Retry-After as the next retry delay', () => {
    const failure = toActivityFailure(
      new TransientError('slow down', { code: 'TooManyRequests', status: 429, retryAfterMs: 7000 }),
    ) as ApplicationFailure;
    expect(failure.nextRetryDelay).toBe(7000);
  });

  it('a Retry-After of a day delays the retry of the activity by at most a minute, so the cycle ends and the job backs off', () => {
    const failure = toActivityFailure(
      new TransientError('come back tomorrow', { code: 'TooManyRequests', status: 429, retryAfterMs: 86_400_000 }),
    ) as ApplicationFailure;
    expect(failure.nextRetryDelay).toBe(60_000);
  });

  it('passes an ApplicationFailure through unchanged and never wraps it', () => {
    const original = ApplicationFailure.nonRetryable('x', 'Custom');
    expect(toActivityFailure(original)).toBe(original);
  });
});
