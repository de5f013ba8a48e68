// Translating database failures into Ferry's error kinds.
import { ConflictError, NotFoundError } from '../engine/errors.ts';

/** SQLSTATE of a driver error, looking through drizzle's DrizzleQueryError wrapper. */
export function sqlState(error: unknown): string | undefined {
  for (
    let e: unknown = error, depth = 0;
    e && typeof e === 'object' && depth < 4;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const isUniqueViolation = (error: unknown): boolean => sqlState(error) === '23505';

/** The constraint or index a driver error names (both drivers' `constraint`), through drizzle's wrapper. */
export function constraintOf(error: unknown): string | undefined {
  for (
    let e: unknown = error, depth = 0;
    e && typeof e === 'object' && depth < 4;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const name = (e as { constraint?: unknown }).constraint;
    if (typeof name === 'string' && name !== '') return name;
  }
  return undefined;
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
