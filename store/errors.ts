// Translating database failures into Ferry's error kinds.
import { ConflictError, NotFoundError } from '../engine/errors.ts';

/** The first value `read` finds on the error or its causes (drizzle's DrizzleQueryError wraps the driver's). */
function fromChain(error: unknown, read: (e: Record<string, unknown>) => string | undefined): string | undefined {
  for (
    let e: unknown = error, depth = 0;
    e && typeof e === 'object' && depth < 4;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const found = read(e as Record<string, unknown>);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** SQLSTATE of a driver error, looking through drizzle's DrizzleQueryError wrapper. */
export const sqlState = (error: unknown): string | undefined =>
  fromChain(error, ({ code }) => (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined));

export const isUniqueViolation = (error: unknown): boolean => sqlState(error) === '23505';

/**
 * Postgres aborted the statement's transaction to let a concurrent one through (deadlock 40P01,
 * serialization failure 40001): nothing of it was written, and running it again is safe.
 */
export const isTransactionConflict = (error: unknown): boolean => {
  const state = sqlState(error);
  return state === '40P01' || state === '40001';
};

/** The constraint or index a driver error names (both drivers' `constraint`), through drizzle's wrapper. */
export const constraintOf = (error: unknown): string | undefined =>
  fromChain(error, ({ constraint }) => (typeof constraint === 'string' && constraint !== '' ? constraint : undefined));

/** Words after which Postgres quotes a name (kept), not a value (hidden). */
const QUOTED_NAME = /\b(?:constraint|column|relation|table|index|type|schema|function|sequence|database|role)\s+$/i;

/** Postgres's own message with the values it quotes (`…: "x"`, `Key (email)=(x)`) hidden. */
function withoutQuotedValues(text: string): string {
  return text
    .replace(/"[^"\n]*"/g, (quoted, at: number) => (QUOTED_NAME.test(text.slice(0, at)) ? quoted : '"[hidden]"'))
    .replace(/\(([^()\n]*)\)=\([^()\n]*\)/g, '($1)=([hidden])');
}

/**
 * A database failure as it may be recorded outside the server log (a Temporal failure a workflow
 * stores as a cycle's or a request's error): the SQLSTATE and Postgres's own message, its quoted
 * values hidden — never the statement nor its parameters (the rows' values: personal data).
 * Undefined: `error` is not a database failure (drizzle's query wrapper or a driver error).
 */
export function databaseFailureText(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { query, params, severity } = error as { query?: unknown; params?: unknown; severity?: unknown };
  const wrapper = typeof query === 'string' && Array.isArray(params);
  if (!wrapper && !(typeof severity === 'string' && sqlState(error) !== undefined)) return undefined;
  const driver = wrapper ? error.cause : error;
  const state = sqlState(error);
  const reason = driver instanceof Error ? withoutQuotedValues(driver.message) : 'no reason given';
  return `A database statement failed${state ? ` (SQLSTATE ${state})` : ''}: ${reason}`;
}

export const notFound = (what: string, id: string): NotFoundError =>
  new NotFoundError(`${what} ${id} does not exist.`, { code: 'NotFound' });

export const conflict = (message: string, cause?: unknown): ConflictError =>
  new ConflictError(message, { code: 'Conflict', cause });

/**
 * A unique value (an id, a userPrincipalName) already belongs to another object. Names the field
 * and the object holding it, so a caller can tell which record it collided with.
 */
export class TakenError extends ConflictError {
  constructor(
    message: string,
    /** The attribute whose value is taken, as the API names it (`id`, `userPrincipalName`). */
    readonly field: string,
    /** The holder, e.g. `user 6f1c…` or `group g1 (Sales)`. */
    readonly takenBy: string,
    cause?: unknown,
  ) {
    super(message, { code: 'Conflict', cause });
  }
}

/** A membership that would make a group contain itself through nested groups. */
export class NestingCycleError extends ConflictError {
  constructor(
    /** The cycle it would close, from the containing group back to it: `[A, B, A]` for "A in B, B in A". */
    readonly cycle: readonly string[],
  ) {
    super(`Adding ${cycle[1]} to group ${cycle[0]} would make a group nesting cycle: ${cycle.join(' → ')}.`, {
      code: 'Conflict',
    });
  }
}

/**
 * A write conditioned on a version of a record (an HTTP If-Match) found the record at another
 * version: someone changed it since the caller read it. Nothing was written.
 */
export class VersionMismatchError extends ConflictError {
  constructor(
    what: string,
    /** The version the record has now. */
    readonly currentVersion: number,
  ) {
    super(`${what} was changed since it was read (it is at version ${currentVersion} now).`, { code: 'Conflict' });
  }
}
