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

export const notFound = (what: string, id: string): NotFoundError =>
  new NotFoundError(`${what} ${id} does not exist.`, { code: 'NotFound' });

export const conflict = (message: string, cause?: unknown): ConflictError =>
  new ConflictError(message, { code: 'Conflict', cause });
