// The audit middleware: after every mutating call (every method but GET, HEAD and OPTIONS) of an
// authenticated key, one audit entry — key id and name, role, action and route, resource, request
// id, status and outcome, and the NAMES of the request body's fields, never their values (an app's
// token is recorded as `target.token`, nothing more). Denied calls (403) are recorded too.
// No route reads a secret through GET, so no GET is recorded; a route that did would be given an
// `action` in ROUTE_RULES and recorded like a mutating one.
import type { Context, MiddlewareHandler } from 'hono';
import type { AuditEntryInput } from '../store/audit.ts';
import type { Logger } from './logger.ts';
import { matchedRoute, type Principal } from './auth.ts';
import { auditResource } from './permissions.ts';

/** Bodies larger than this are not parsed again for their field names (directory imports). */
const MAX_PARSED_BODY = 1024 * 1024;
const MAX_FIELDS = 100;
const MAX_DEPTH = 4;

/** Dotted paths of the keys of a JSON body, down through objects (not arrays); never values. */
export function fieldNames(body: unknown): string[] {
  const out: string[] = [];
  const walk = (value: unknown, prefix: string, depth: number) => {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (out.length >= MAX_FIELDS) return;
      const path = prefix ? `${prefix}.${key}` : key;
      const isObject = inner !== null && typeof inner === 'object' && !Array.isArray(inner);
      if (isObject && depth < MAX_DEPTH && Object.keys(inner).length > 0) walk(inner, path, depth + 1);
      else out.push(path);
    }
  };
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) walk(body, '', 1);
  return out;
}

/** The JSON body the handler already read (never reads a body the handler left unread), or undefined. */
async function readBody(c: Context): Promise<unknown> {
  if (Object.keys(c.req.bodyCache).length === 0) return undefined;
  if (!/\bjson\b/i.test(c.req.header('content-type') ?? '')) return undefined;
  try {
    const text = await c.req.text();
    return text.length <= MAX_PARSED_BODY ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

async function responseId(c: Context): Promise<unknown> {
  if (c.res.status < 200 || c.res.status >= 300) return undefined;
  if (!/\bjson\b/i.test(c.res.headers.get('content-type') ?? '')) return undefined;
  try {
    const body = (await c.res.clone().json()) as { id?: unknown };
    return body?.id;
  } catch {
    return undefined;
  }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function auditTrail(deps: {
  append: (entry: AuditEntryInput) => Promise<unknown>;
  logger: Logger;
}): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const principal = c.get('principal') as Principal | undefined;
    const route = matchedRoute(c);
    if (!principal || !route) return;
    if (READ_METHODS.has(c.req.method) && !route.rule?.action) return;
    const body = await readBody(c);
    const entry: AuditEntryInput = {
      keyId: principal.keyId,
      keyName: principal.name,
      role: principal.role,
      action: route.rule?.action ?? `${route.method} ${route.path}`,
      method: c.req.method,
      path: route.path,
      resource: auditResource(route.rule?.resource, {
        params: route.params,
        body,
        responseId: route.rule?.resource?.includes('{@id}') ? await responseId(c) : undefined,
      }),
      requestId: (c.get('requestId') as string | undefined) ?? null,
      status: c.res.status,
      fields: fieldNames(body),
    };
    try {
      await deps.append(entry);
    } catch (error) {
      // The call already happened: its answer goes out, and the missing entry is logged loudly.
      deps.logger.error('could not write the audit entry', { ...entry, error });
    }
  };
}
