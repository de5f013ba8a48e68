// Errors leave activities in ONE shape: ApplicationFailure with the error class name as `type`,
// the Entra error code in details, and nonRetryable where a retry of the activity cannot help.
import { ApplicationFailure } from '@temporalio/common';
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
