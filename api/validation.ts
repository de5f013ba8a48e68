// The one validation hook: a zod failure on any part of a request becomes a 400 whose details
// name each bad field by its dotted path (`target.url`, `settings.cycleIntervalMinutes`).
import type { z } from '@hono/zod-openapi';
import { ApiError, type ErrorDetail } from './errors.ts';

const PART: Record<string, ErrorDetail['in']> = {
  json: 'body',
  form: 'body',
  query: 'query',
  param: 'path',
  header: 'header',
  cookie: 'header',
};

export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

export function validationDetails(error: z.ZodError, target?: string): ErrorDetail[] {
  const where = target ? PART[target] : undefined;
  return error.issues.map((issue) => ({
    path: issuePath(issue.path),
    message: issue.message,
    ...(where ? { in: where } : {}),
  }));
}

export function validationError(error: z.ZodError, target?: string): ApiError {
  const details = validationDetails(error, target);
  const first = details[0];
  const where = first?.in === 'body' ? 'body' : (first?.in ?? 'request');
  const message = first
    ? `Invalid ${where}: ${first.path || '(root)'}: ${first.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}`
    : 'Invalid request';
  return new ApiError('validation_failed', message, { details });
}

/** `defaultHook` of every OpenAPIHono router. */
export function validationHook(result: { success: boolean; error?: z.ZodError; target?: string }): void {
  if (!result.success && result.error) throw validationError(result.error, result.target);
}
