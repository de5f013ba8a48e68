// POST /api/v1/sources/{id}/snapshots — an HR export uploaded to a csv source with `origin: 'upload'`
// (CSV text, or a JSON array of row objects with the same column names), and GET …/snapshots. The
// snapshot is parsed as the import will read it before anything is kept: a bad one is a 400 naming
// the line or row. It is stored in the database (the worker may run on another machine), the
// source's older snapshots beyond the newest few are deleted, and a full import starts.
import { createRoute, z } from '@hono/zod-openapi';
import { parseSnapshot, SnapshotError, type SnapshotFormat } from '../../sources/csv.ts';
import { SNAPSHOTS_KEPT, type SourceRecord, type Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { idParams, idSchema, jsonContent } from '../resource-schemas.ts';
import type { createRouter } from '../router.ts';
import type { SourceControl } from '../source-control.ts';
import { unstorablePart } from '../validation.ts';

const snapshotSchema = z
  .object({
    id: z.number().int(),
    format: z.enum(['csv', 'json']),
    rows: z.number().int().openapi({ description: 'People in the snapshot' }),
    bytes: z.number().int(),
    createdAt: z.string(),
  })
  .openapi('SourceSnapshot');

const uploadSnapshotRoute = createRoute({
  method: 'post',
  path: '/sources/{id}/snapshots',
  tags: ['sources'],
  summary: 'Upload an HR export to a csv source (origin upload) and import it',
  description: [
    'The body is the whole export: `text/csv` (a header row, RFC 4180) or `application/json` (an array of row objects keyed by the same column names; values are strings, numbers, booleans or null).',
    'Every row needs the id and userPrincipalName columns and an id no other row has: a bad snapshot is a 400 naming the line (CSV) or row (JSON) and nothing is kept.',
    `At most the import body limit (default 50 MiB; 413 beyond). The ${SNAPSHOTS_KEPT} newest snapshots are kept. A full import starts (as POST …/sync): people absent from the snapshot are soft-deleted, under the deletion threshold.`,
  ].join('\n\n'),
  request: {
    params: idParams,
    body: {
      required: true,
      content: {
        'text/csv': { schema: z.string().openapi({ example: 'employee,email\ne1,ada@contoso.com' }) },
        // A plain schema, not zod: the handler parses the body itself, to name the row at fault.
        'application/json': {
          schema: { type: 'array', items: { type: 'object', additionalProperties: true } },
        },
      },
    },
  },
  responses: {
    202: jsonContent(
      z.object({ id: idSchema, mode: z.literal('full'), snapshot: snapshotSchema }),
      'Snapshot kept, import requested',
    ),
    ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429, 503),
  },
});

const listSnapshotsRoute = createRoute({
  method: 'get',
  path: '/sources/{id}/snapshots',
  tags: ['sources'],
  summary: 'The snapshots a csv source keeps, newest first (without their content)',
  request: { params: idParams },
  responses: {
    200: jsonContent(z.object({ items: z.array(snapshotSchema) }), 'Snapshots'),
    ...errorResponses(400, 401, 404, 429),
  },
});

function formatOf(contentType: string): SnapshotFormat {
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (type === 'text/csv') return 'csv';
  if (type === 'application/json') return 'json';
  throw new ApiError('unsupported_media_type', 'A snapshot is text/csv or application/json');
}

/** A snapshot upload needs an enabled csv source that takes uploads. */
function requireUploadSource(source: SourceRecord): void {
  if (source.type !== 'csv' || source.config.origin !== 'upload') {
    throw new ApiError(
      'conflict',
      `Source ${source.id} does not take uploads: only a csv source with origin "upload" does (PATCH it to set origin)`,
    );
  }
  if (!source.enabled) throw new ApiError('conflict', `Source ${source.id} is disabled: enable it first`);
}

/** Parses the body as the import will; a bad body is a 400 naming the line or row, before anything is kept. */
function checkedRows(format: SnapshotFormat, text: string, config: Record<string, unknown>): number {
  const bad = unstorablePart(text);
  if (bad) throw new ApiError('validation_failed', `Invalid snapshot: ${bad.message}`);
  try {
    return parseSnapshot(format, text, config).length;
  } catch (error) {
    if (!(error instanceof SnapshotError)) throw error;
    throw new ApiError('validation_failed', `Invalid snapshot: ${error.message}`, {
      details: [{ path: error.place, message: error.problem, in: 'body' }],
    });
  }
}

export function snapshotRoutes(
  router: ReturnType<typeof createRouter>,
  { store, control }: { store: Store; control?: SourceControl },
  requireSource: (id: string) => Promise<SourceRecord>,
): void {
  router.openapi(uploadSnapshotRoute, async (c) => {
    const { id } = c.req.valid('param');
    const source = await requireSource(id);
    requireUploadSource(source);
    if (!control) throw new ApiError('unavailable', 'Source imports are not available in this process');
    const format = formatOf(c.req.header('content-type') ?? '');
    const text = await c.req.text();
    const rows = checkedRows(format, text, source.config);
    const { sourceId: _s, ...snapshot } = await store.sources.saveSnapshot(id, { format, content: text, rows });
    await control.syncNow(id, 'full');
    return c.json({ id, mode: 'full' as const, snapshot }, 202);
  });

  router.openapi(listSnapshotsRoute, async (c) => {
    const { id } = c.req.valid('param');
    await requireSource(id);
    const items = (await store.sources.snapshots(id)).map(({ sourceId: _s, ...snapshot }) => snapshot);
    return c.json({ items }, 200);
  });
}
