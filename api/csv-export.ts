// CSV exports of paged lists (provisioning logs, the audit log): asked for with `Accept: text/csv`
// or `?format=csv`; streamed page by page, so an export of a year never sits in memory at once.
import type { Context } from 'hono';

/** Whether the caller asked for CSV: `format=csv`, or no `format` and an Accept naming text/csv. */
export const wantsCsv = (c: Context, format: 'json' | 'csv' | undefined): boolean =>
  format === 'csv' || (format === undefined && /\btext\/csv\b/i.test(c.req.header('accept') ?? ''));

/** A streamed CSV answer of every page `page` returns, the header row once. */
export function csvResponse<T>(
  c: Context,
  options: {
    filename: string;
    page: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>;
    toCsv: (items: T[], options: { header: boolean }) => string;
  },
): Response {
  const encoder = new TextEncoder();
  let cursor: string | null = null;
  let first = true;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const page = await options.page(cursor);
      controller.enqueue(encoder.encode(options.toCsv(page.items, { header: first })));
      first = false;
      cursor = page.nextCursor;
      if (!cursor) controller.close();
    },
  });
  return c.body(stream, 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${options.filename}"`,
  });
}
