import { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.ts';
import { decodeCursor, encodeCursor, pageQuerySchema, toPage } from '../../api/pagination.ts';

const position = z.object({ createdAt: z.string(), id: z.string() });

describe('cursor pagination', () => {
  it('round-trips a position through an opaque base64url cursor', () => {
    const cursor = encodeCursor({ createdAt: '2026-01-01T00:00:00Z', id: 'u/1+?' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, position)).toEqual({ createdAt: '2026-01-01T00:00:00Z', id: 'u/1+?' });
  });

  it('rejects a tampered or foreign cursor as a 400 naming the cursor', () => {
    for (const bad of ['!!!', encodeCursor({ id: 1 }), Buffer.from('not json').toString('base64url')]) {
      let error: unknown;
      try {
        decodeCursor(bad, position);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
      expect((error as ApiError).details).toEqual([expect.objectContaining({ path: 'cursor', in: 'query' })]);
    }
  });

  it('pages through rows: a next cursor while more rows exist, none on the last page', () => {
    const rows = Array.from({ length: 7 }, (_, i) => ({ id: `u${i}` }));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const after: string | null = cursor ? decodeCursor(cursor, z.string()) : null;
      const start: number = after === null ? 0 : rows.findIndex((r) => r.id === after) + 1;
      const limit = 3;
      const page: { items: { id: string }[]; nextCursor: string | null } = toPage(
        rows.slice(start, start + limit + 1),
        limit,
        (r) => r.id,
      );
      seen.push(...page.items.map((r: { id: string }) => r.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(rows.map((r) => r.id));
    expect(pages).toBe(3);
  });

  it('reads limit from the query string with a default and bounds', () => {
    expect(pageQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(pageQuerySchema.parse({ limit: '10', cursor: 'abc' })).toEqual({ limit: 10, cursor: 'abc' });
    expect(pageQuerySchema.safeParse({ limit: '0' }).success).toBe(false);
    expect(pageQuerySchema.safeParse({ limit: '501' }).success).toBe(false);
  });
});
