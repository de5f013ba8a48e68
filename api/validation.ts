// The one validation hook: a zod failure on any part of a request becomes a 400 whose details
// name each bad field by its dotted path (`target.url`, `settings.cycleIntervalMinutes`). What
// Ferry cannot store is refused the same way — text holding U+0000, JSON nested absurdly deep —
// instead of failing as a 500 deep in the store.
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

/** Deepest nesting of arrays and objects accepted in a request (directory attributes need a few levels). */
export const MAX_JSON_DEPTH = 32;

export const NUL_CHARACTER_MESSAGE = 'contains the NUL character (U+0000), which Ferry cannot store';
export const LONE_SURROGATE_MESSAGE = 'contains half of a UTF-16 surrogate pair, which is not Unicode text';
export const TOO_DEEP_MESSAGE = `nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`;

/** With the `u` flag a whole pair reads as one code point, so only a lone half is in category Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Why Postgres cannot keep `text` as it is, if it cannot. */
function unstorableText(text: string): string | undefined {
  if (text.includes('\u0000')) return NUL_CHARACTER_MESSAGE;
  // JSON's `"\ud800"` parses to half a pair: jsonb refuses it, a text column would keep U+FFFD instead.
  if (LONE_SURROGATE.test(text)) return LONE_SURROGATE_MESSAGE;
  return undefined;
}

/**
 * The first place in `value` Ferry cannot store: a string or key holding U+0000 (Postgres refuses
 * it in text and jsonb alike) or half a surrogate pair, or nesting deeper than MAX_JSON_DEPTH
 * (serialising thousands of levels overflows the stack). Its path is written as `issuePath` writes it. Iterative, so any
 * depth is safe to inspect.
 */
export function unstorablePart(value: unknown): { path: string; message: string } | undefined {
  interface Step {
    value: unknown;
    depth: number;
    key?: PropertyKey;
    parent?: Step;
  }
  const pathOf = (step: Step | undefined, last?: PropertyKey): string => {
    const keys: PropertyKey[] = last === undefined ? [] : [last];
    for (let s = step; s?.key !== undefined; s = s.parent) keys.unshift(s.key);
    return issuePath(keys);
  };
  const pending: Step[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const step = pending.pop()!;
    const current = step.value;
    if (typeof current === 'string') {
      const message = unstorableText(current);
      if (message) return { path: pathOf(step), message };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (step.depth >= MAX_JSON_DEPTH) return { path: pathOf(step), message: TOO_DEEP_MESSAGE };
    const depth = step.depth + 1;
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) pending.push({ value: current[i], depth, key: i, parent: step });
      continue;
    }
    const entries = Object.entries(current);
    for (const [key] of entries) {
      const message = unstorableText(key);
      if (message) return { path: pathOf(step, key), message };
    }
    for (let i = entries.length - 1; i >= 0; i--) {
      pending.push({ value: entries[i][1], depth, key: entries[i][0], parent: step });
    }
  }
  return undefined;
}

/** Validation failures only (the import route checks `unstorablePart` per row itself, so one bad row fails alone). */
export function schemaHook(result: { success: boolean; error?: z.ZodError; target?: string }): undefined {
  if (!result.success && result.error) throw validationError(result.error, result.target);
  return undefined;
}

/** `defaultHook` of every OpenAPIHono router. */
export function validationHook(result: {
  success: boolean;
  data?: unknown;
  error?: z.ZodError;
  target?: string;
}): void {
  schemaHook(result);
  const bad = unstorablePart(result.data);
  if (!bad) return;
  const where = result.target ? PART[result.target] : undefined;
  throw new ApiError('validation_failed', `Invalid ${where ?? 'request'}: ${bad.path || '(root)'}: ${bad.message}`, {
    details: [{ path: bad.path, message: bad.message, ...(where ? { in: where } : {}) }],
  });
}
