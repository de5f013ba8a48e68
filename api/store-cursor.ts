// The store's repositories make their own opaque cursors (base64url of a JSON array). The API
// passes them through untouched, but checks their shape first so a forged or truncated cursor is
// a 400 naming `cursor`, never a database error.
import { z } from '@hono/zod-openapi';
import { decodeCursor } from './pagination.ts';

const shapes = {
  /** Directory users/groups and apps: `[id]`. */
  id: z.tuple([z.string()]),
  /** Cycles: `[number]`. */
  number: z.tuple([z.number().int()]),
  /** Provisioning logs: `[time, id]`. */
  timeAndId: z.tuple([z.iso.datetime({ offset: true }), z.string()]),
} as const;

/** Returns the cursor when it has the shape `kind` (else throws ApiError `validation_failed`). */
export function storeCursor(cursor: string | undefined, kind: keyof typeof shapes): string | undefined {
  if (cursor === undefined) return undefined;
  decodeCursor(cursor, shapes[kind]);
  return cursor;
}
