// The ONE place where errors leaving an activity become Temporal failures: the ApplicationFailure `type` is the error class name, so workflows branch on
// it without instanceof; `nonRetryable` is set where a retry of the same activity cannot help.
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_TYPE_BY_KIND, FerryError } from '../engine/errors.ts';
import { databaseFailureText } from '../store/errors.ts';
import type { CycleFailure } from './types.ts';

/**
 * The longest a Retry-After may delay the retry of a whole activity: the workflows' retry interval
 * cap. A longer wait (beyond the app's Retry-After cap) lets the activity's attempts run out, so the
 * cycle ends as transient and the job's backoff takes over instead of a workflow parked for a day.
 */
const MAX_ACTIVITY_RETRY_DELAY_MS = 60_000;

/** Whether a Temporal retry of the whole activity can change the outcome. */
function retryHelps(error: FerryError): boolean {
  return error.kind === 'transient';
}

/** An error of the same name, message, stack and cause (what Temporal records of one). */
function copyOf(error: Error, message: string, stack: string | undefined, cause: Error | undefined): Error {
  const copy = new Error(message, cause ? { cause } : undefined);
  copy.name = error.name;
  copy.stack = stack;
  return copy;
}

/**
 * `error` as Temporal may record it: a database failure in it or its causes becomes its summary
 * (store/errors.ts), without the statement and parameters the driver's message holds — workflows
 * store failure messages as cycles', reconcile passes' and on-demand requests' errors, which the API
 * shows. The rest of the chain is kept as it is.
 */
function recordable(error: Error, depth = 0): Error {
  const database = databaseFailureText(error);
  if (database !== undefined) {
    const frames = error.stack?.split('\n').filter((line) => /^\s+at /.test(line)) ?? [];
    return copyOf(error, database, [`${error.name}: ${database}`, ...frames].join('\n'), undefined);
  }
  if (!(error.cause instanceof Error) || depth >= 4) return error;
  const cause = recordable(error.cause, depth + 1);
  return cause === error.cause ? error : copyOf(error, error.message, error.stack, cause);
}

/** Converts anything thrown inside an activity into what Temporal should see. */
export function toActivityFailure(error: unknown): Error {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof FerryError) {
    return ApplicationFailure.create({
      message: error.message,
      type: FAILURE_TYPE_BY_KIND[error.kind],
      nonRetryable: !retryHelps(error),
      details: [{ kind: error.kind, code: error.code, status: error.status ?? null }],
      nextRetryDelay:
        error.retryAfterMs !== undefined ? Math.min(error.retryAfterMs, MAX_ACTIVITY_RETRY_DELAY_MS) : undefined,
      cause: recordable(error),
    });
  }
  if (error instanceof Error) return recordable(error);
  return new Error(String(error));
}

/** Wraps an activity so every throw goes through `toActivityFailure`. */
export function withFailureConversion<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (error) {
      throw toActivityFailure(error);
    }
  };
}

/** A failure that stops the whole cycle (configuration errors, and a target that cannot be reached). */
export function cycleFailureOf(error: unknown): CycleFailure | null {
  if (!(error instanceof FerryError)) return null;
  if (error.kind === 'configuration') return { kind: error.kind, code: error.code, message: error.message };
  return null;
}

/**
 * On-demand failures the API answers with their own HTTP error (workflows/messages.ts
 * ON_DEMAND_FAILURE_TYPES): a cycle held the object past the wait (409), a group too large (422).
 * Not retried: the activity already waited, and a retry cannot shrink a group.
 */
export function onDemandFailure(
  type: 'ObjectBusy' | 'TooManyMembers',
  message: string,
  details?: Record<string, unknown>,
): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details ? [details] : undefined });
}
