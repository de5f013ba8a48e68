// GET /api/v1/audit (admin) — the audit log, newest first, filtered by key, action, resource,
// outcome and time; JSON pages, or CSV (`Accept: text/csv` or `?format=csv`) of every matching entry.
import { createRoute, z } from '@hono/zod-openapi';
import { auditToCsv, type AuditOutcome, type AuditQuery, type Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { pageQuerySchema, pageSchema } from '../pagination.ts';
import { createRouter } from '../router.ts';
import { storeCursor } from '../store-cursor.ts';
import { csvResponse, wantsCsv } from '../csv-export.ts';

const OUTCOMES = ['success', 'failure', 'denied'] as const;

const commaList = (name: string, description: string) =>
  z
    .string()
    .max(2000)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().max(200)).min(1))
    .optional()
    .openapi({ param: { name, in: 'query' }, description });

const auditQuery = pageQuerySchema.extend({
  keyId: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name: 'keyId', in: 'query' }, description: 'The key that made the calls' }),
  action: commaList('action', 'One or more actions, comma-separated, e.g. `app.update,key.revoke`'),
  resource: z
    .string()
    .min(1)
    .max(500)
    .optional()
    .openapi({
      param: { name: 'resource', in: 'query' },
      description: 'e.g. `app:<id>`: the app and what lies under it (`app:<id>/assignment:<principalId>`)',
    }),
  outcome: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(OUTCOMES)).min(1))
    .optional()
    .openapi({ param: { name: 'outcome', in: 'query' }, description: 'success, failure, denied; comma-separated' }),
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ param: { name: 'from', in: 'query' }, description: 'Inclusive, ISO 8601' }),
  to: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ param: { name: 'to', in: 'query' }, description: 'Exclusive, ISO 8601' }),
  format: z
    .enum(['json', 'csv'])
    .optional()
    .openapi({ param: { name: 'format', in: 'query' }, description: 'Same as `Accept: text/csv` when `csv`' }),
});

const auditEntrySchema = z
  .object({
    id: z.number().int(),
    time: z.string(),
    keyId: z.string().nullable(),
    keyName: z.string().nullable(),
    role: z.string().nullable(),
    action: z.string().openapi({ example: 'app.update' }),
    method: z.string(),
    path: z.string().openapi({ example: '/api/v1/apps/{id}' }),
    resource: z.string().nullable().openapi({ example: 'app:6f1c2b7e-0c4a-4b59-9c33-1b5d3f0a9e21' }),
    requestId: z.string().nullable(),
    status: z.number().int(),
    outcome: z.enum(OUTCOMES),
    fields: z.array(z.string()).openapi({
      description: "Names of the request body's fields (dotted), never their values",
      example: ['name', 'target.token'],
    }),
  })
  .openapi('AuditEntry');

export function auditRouter({ store }: { store: Store }) {
  return createRouter().openapi(
    createRoute({
      method: 'get',
      path: '/audit',
      tags: ['keys'],
      summary: 'The audit log (admin)',
      description:
        'One entry per mutating call (and per denied one): key, action, resource, request id, outcome, the names of the fields sent (never values). Newest first. JSON pages by default; with `Accept: text/csv` (or `?format=csv`) every matching entry as one CSV file (`limit`/`cursor` ignored).',
      request: { query: auditQuery },
      responses: {
        200: {
          description: 'Entries',
          content: {
            'application/json': { schema: pageSchema(auditEntrySchema, 'AuditPage') },
            'text/csv': { schema: z.string() },
          },
        },
        ...errorResponses(400, 401, 403, 429),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      if (q.from && q.to && Date.parse(q.from) >= Date.parse(q.to)) {
        throw new ApiError('validation_failed', 'from must be before to', {
          details: [{ path: 'to', message: 'must be after from', in: 'query' }],
        });
      }
      const filter: AuditQuery = {
        ...(q.keyId !== undefined ? { keyId: q.keyId } : {}),
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...(q.resource !== undefined ? { resource: q.resource } : {}),
        ...(q.outcome !== undefined ? { outcome: q.outcome as AuditOutcome[] } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
      };
      if (!wantsCsv(c, q.format)) {
        return c.json(
          await store.audit.query({ ...filter, limit: q.limit, cursor: storeCursor(q.cursor, 'number') }),
          200,
        );
      }
      return csvResponse(c, {
        filename: 'ferry-audit.csv',
        page: (cursor) => store.audit.query({ ...filter, limit: 1000, cursor }),
        toCsv: auditToCsv,
      });
    },
  );
}
