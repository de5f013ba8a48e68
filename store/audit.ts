// The audit log: who did what through the API, when, to what, and how it ended. Append-only: the
// repository can only add entries and read them, and a trigger in the database refuses any UPDATE,
// TRUNCATE or DELETE — except the deletes of retention (`deleteOlderThan`), which says so in its
// own transaction.
import { and, desc, eq, gte, inArray, like, lt, or, sql } from 'drizzle-orm';
import { decodeCursor, encodeCursor, iso, type Executor } from './db.ts';
import type { Page } from './directory.ts';
import { auditLog } from './schema.ts';

/** How long audit entries are kept by default: a year (provisioning logs are kept for less). */
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;

export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditEntryInput {
  time?: Date | string;
  /** The key's id: a stored key's id, `env:<digest prefix>` for FERRY_API_KEYS, `cli` for `npm run keys`. */
  keyId: string | null;
  keyName: string | null;
  role: string | null;
  /** What was done, e.g. `app.update`, `provisioning.pause`, `key.create`. */
  action: string;
  method: string;
  /** The route as declared, e.g. `/api/v1/apps/{id}` (ids go to `resource`). */
  path: string;
  /** What it was done to, e.g. `app:<id>`, `group:<id>/member:<id>`; null when nothing in particular. */
  resource: string | null;
  requestId: string | null;
  /** The HTTP status answered (0 when the call never answered). */
  status: number;
  /** Names of the request body's fields (dotted paths), never their values. */
  fields?: readonly string[];
}

/** An entry as stored: the input's fields, with its id, its time as ISO text and its outcome. */
export interface AuditEntry extends Omit<AuditEntryInput, 'time' | 'fields'> {
  id: number;
  time: string;
  outcome: AuditOutcome;
  fields: string[];
}

export interface AuditQuery {
  keyId?: string;
  /** One action or several. */
  action?: string | string[];
  /** A resource, e.g. `app:a1`; also matches what lies under it (`app:a1/assignment:u1`). */
  resource?: string;
  outcome?: AuditOutcome | AuditOutcome[];
  /** Inclusive lower bound on time. */
  from?: string | Date;
  /** Exclusive upper bound on time. */
  to?: string | Date;
  cursor?: string | null;
  /** 1..5000, default 100. */
  limit?: number;
}

/** The outcome of an HTTP status: 2xx/3xx success, 401/403 denied, anything else failure. */
export function auditOutcome(status: number): AuditOutcome {
  if (status >= 200 && status < 400) return 'success';
  if (status === 401 || status === 403) return 'denied';
  return 'failure';
}

type Row = typeof auditLog.$inferSelect;

const toEntry = (r: Row): AuditEntry => ({
  id: Number(r.id),
  time: iso(r.time)!,
  keyId: r.keyId,
  keyName: r.keyName,
  role: r.role,
  action: r.action,
  method: r.method,
  path: r.path,
  resource: r.resource,
  requestId: r.requestId,
  status: r.status,
  outcome: r.outcome,
  fields: r.fields,
});

const escapeLike = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);

export class AuditRepository {
  constructor(private readonly db: Executor) {}

  async append(entry: AuditEntryInput): Promise<AuditEntry> {
    const [row] = await this.db
      .insert(auditLog)
      .values({
        ...(entry.time !== undefined ? { time: new Date(entry.time) } : {}),
        keyId: entry.keyId,
        keyName: entry.keyName,
        role: entry.role,
        action: entry.action,
        method: entry.method,
        path: entry.path,
        resource: entry.resource,
        requestId: entry.requestId,
        status: entry.status,
        outcome: auditOutcome(entry.status),
        fields: [...(entry.fields ?? [])],
      })
      .returning();
    return toEntry(row);
  }

  /** Newest first; `nextCursor` continues after the last entry. */
  async query(q: AuditQuery = {}): Promise<Page<AuditEntry>> {
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 5000);
    const after = q.cursor ? (decodeCursor(q.cursor) as [number]) : null;
    const t = auditLog;
    const many = <T extends string>(column: typeof t.action | typeof t.outcome, value: T | T[] | undefined) =>
      value === undefined ? undefined : Array.isArray(value) ? inArray(column, value) : eq(column, value);
    const rows = await this.db
      .select()
      .from(t)
      .where(
        and(
          q.keyId !== undefined ? eq(t.keyId, q.keyId) : undefined,
          many(t.action, q.action),
          many(t.outcome, q.outcome),
          q.resource !== undefined
            ? or(eq(t.resource, q.resource), like(t.resource, `${escapeLike(q.resource)}/%`))
            : undefined,
          q.from !== undefined ? gte(t.time, new Date(q.from)) : undefined,
          q.to !== undefined ? lt(t.time, new Date(q.to)) : undefined,
          after ? lt(t.id, after[0]) : undefined,
        ),
      )
      .orderBy(desc(t.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toEntry);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit ? encodeCursor([last.id]) : null };
  }

  /**
   * Retention: deletes the entries older than `before`, `batchSize` rows per transaction (so a
   * year of entries never holds one long lock). The only delete the database allows on the table.
   * Returns how many were deleted.
   */
  async deleteOlderThan(before: Date, options: { batchSize?: number } = {}): Promise<number> {
    const batchSize = Math.max(1, options.batchSize ?? 5000);
    let total = 0;
    for (;;) {
      const deleted = await this.db.transaction(async (tx) => {
        await tx.execute(sql`select set_config('ferry.audit_retention', 'on', true)`);
        const rows = await tx
          .delete(auditLog)
          .where(
            inArray(
              auditLog.id,
              tx
                .select({ id: auditLog.id })
                .from(auditLog)
                .where(lt(auditLog.time, before))
                .orderBy(auditLog.id)
                .limit(batchSize),
            ),
          )
          .returning({ id: auditLog.id });
        return rows.length;
      });
      total += deleted;
      if (deleted < batchSize) return total;
    }
  }
}
