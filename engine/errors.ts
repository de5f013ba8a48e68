// The five kinds of failure Ferry knows. Each class name is also the Temporal
// ApplicationFailure type (a subclass leaves an activity as its kind's class name), so activities/
// and workflows/ can branch on it without instanceof.
import type { ErrorCode } from './types.ts';

export type ErrorKind = 'transient' | 'notFound' | 'conflict' | 'permanent' | 'configuration';

export interface FerryErrorOptions {
  /** Entra-style error code for provisioning logs. */
  code: ErrorCode;
  /** HTTP status of the answer that caused it, if any. */
  status?: number;
  /** SCIM `scimType` of the answer, if any. */
  scimType?: string;
  /** Milliseconds to wait before retrying (from `Retry-After`). */
  retryAfterMs?: number;
  cause?: unknown;
}

export abstract class FerryError extends Error {
  abstract readonly kind: ErrorKind;
  readonly code: ErrorCode;
  readonly status?: number;
  readonly scimType?: string;
  readonly retryAfterMs?: number;

  constructor(message: string, options: FerryErrorOptions) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.status = options.status;
    this.scimType = options.scimType;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Whether retrying the same request later can succeed. */
  get retryable(): boolean {
    return this.kind === 'transient';
  }
}

/** Network failure, timeout, 429, 500, 502, 503, 504: retry with backoff. */
export class TransientError extends FerryError {
  readonly kind = 'transient' as const;
}

/** 404: success for a delete, re-match for an update. */
export class NotFoundError extends FerryError {
  readonly kind = 'notFound' as const;
}

/** 409 uniqueness: re-match and adopt the existing object. */
export class ConflictError extends FerryError {
  readonly kind = 'conflict' as const;
}

/** 400 and other 4xx: this object fails, the cycle continues. */
export class PermanentError extends FerryError {
  readonly kind = 'permanent' as const;
}

/** 401, 403, non-SCIM answers, bad settings: stop the cycle and quarantine the job. */
export class ConfigurationError extends FerryError {
  readonly kind = 'configuration' as const;
}

/**
 * What an error may say to people (run histories, the API, the console): a typed error's own text,
 * written for them; anything else (a driver's error holds the SQL statement and the rows' values)
 * only `otherwise` — its whole text belongs in the server log.
 */
export const publicMessage = (error: unknown, otherwise: string): string =>
  error instanceof FerryError ? error.message : otherwise;

/**
 * The Temporal failure type of each kind: its base class's name. A subclass (TakenError,
 * NestingCycleError, …) leaves an activity as its kind's type; workflows read the kind back from it.
 */
export const FAILURE_TYPE_BY_KIND = {
  transient: 'TransientError',
  notFound: 'NotFoundError',
  conflict: 'ConflictError',
  permanent: 'PermanentError',
  configuration: 'ConfigurationError',
} as const satisfies Record<ErrorKind, string>;

export const ERROR_CLASS_NAMES = Object.values(FAILURE_TYPE_BY_KIND);
