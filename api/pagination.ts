// Cursor pagination for every list endpoint: `?limit=&cursor=` in, `{ items, nextCursor }` out.
// A cursor is opaque to clients: base64url of a small JSON value chosen by the repository
// (typically the sort key of the last item returned).
import { z } from '@hono/zod-openapi';
import { ApiError } from './errors.ts';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;

export const pageQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_LIMIT)
    .default(DEFAULT_PAGE_LIMIT)
    .openapi({ param: { name: 'limit', in: 'query' }, example: DEFAULT_PAGE_LIMIT }),
  cursor: z
    .string()
    .max(2048)
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' }, description: 'nextCursor of the previous page' }),
});

export type PageQuery = z.infer<typeof pageQuerySchema>;

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** Response schema of a list endpoint whose items follow `item`. */
export function pageSchema<T extends z.ZodType>(item: T, name?: string) {
  const schema = z.object({ items: z.array(item), nextCursor: z.string().nullable() });
  return name ? schema.openapi(name) : schema;
}

export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/** Decodes a cursor made by encodeCursor and checks its shape; a bad cursor is a 400 naming `cursor`. */
export function decodeCursor<T extends z.ZodType>(cursor: string, shape: T): z.infer<T> {
  const invalid = () =>
    new ApiError('validation_failed', 'Invalid cursor', {
      details: [{ path: 'cursor', message: 'Not a cursor returned by this endpoint', in: 'query' }],
    });
  if (!/^[A-Za-z0-9_-]*$/.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = shape.safeParse(value);
  if (!parsed.success) throw invalid();
  return parsed.data;
}

/**
 * Builds a page from `limit + 1` rows fetched by the caller: the extra row only tells whether
 * there is a next page, and the cursor points after the last row returned.
 */
export function toPage<Row, Item = Row>(
  rows: Row[],
  limit: number,
  positionOf: (row: Row) => unknown,
  toItem: (row: Row) => Item = (row) => row as unknown as Item,
): Page<Item> {
  const hasMore = rows.length > limit;
  const kept = hasMore ? rows.slice(0, limit) : rows;
  return {
    items: kept.map(toItem),
    nextCursor: hasMore && kept.length > 0 ? encodeCursor(positionOf(kept[kept.length - 1])) : null,
  };
}
