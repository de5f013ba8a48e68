// Provisioning logs: one entry per object per action. Ids are deterministic (see
// `logEntryId`), and inserts skip existing ids, so an activity that runs twice logs once.
import { createHash } from 'node:crypto';
import { and, desc, eq, gte, inArray, lt, or, sql } from 'drizzle-orm';
import type {
  ErrorCode,
  LogStatus,
  LogStep,
  ModifiedAttribute,
  ObjectType,
  ProvisioningAction,
  ProvisioningLogEntry,
} from '../engine/types.ts';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { affectedRows, chunk, decodeCursor, encodeCursor, iso, jsonRows, type Executor } from './db.ts';
import type { Page } from './directory.ts';
import { provisioningLogs } from './schema.ts';

/** A stable UUID-shaped id from its parts, e.g. `logEntryId(cycleId, 'user', sourceId, 'Create')`. */
export function logEntryId(...parts: (string | number | null)[]): string {
  const h = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface LogQuery {
  appId: string;
  cycleId?: string;
  /** Matches the source id or the target id. */
  objectId?: string;
  objectType?: ObjectType;
  action?: ProvisioningAction | ProvisioningAction[];
  status?: LogStatus | LogStatus[];
  /** Inclusive lower bound on time. */
  since?: string | Date;
  /** Exclusive upper bound on time. */
  until?: string | Date;
  onDemand?: boolean;
  cursor?: string | null;
  /** 1..5000, default 100. */
  limit?: number;
}

type LogRow = typeof provisioningLogs.$inferSelect;

function toEntry(r: LogRow): ProvisioningLogEntry {
  return {
    id: r.id,
    time: iso(r.time)!,
    appId: r.appId,
    cycleId: r.cycleId,
    changeId: r.changeId,
    objectType: r.objectType,
    sourceId: r.sourceId,
    sourceDisplayName: r.sourceDisplayName,
    targetId: r.targetId,
    action: r.action as ProvisioningAction,
    status: r.status as LogStatus,
    errorCode: r.errorCode as ErrorCode | null,
    errorMessage: r.errorMessage,
    steps: r.steps as LogStep[],
    modifiedAttributes: r.modifiedAttributes as ModifiedAttribute[],
    durationMs: r.durationMs,
    onDemand: r.onDemand,
  };
}

const oneOrMany = <T extends string>(column: PgColumn, value: T | T[] | undefined) =>
  value === undefined ? undefined : Array.isArray(value) ? inArray(column, value) : eq(column, value);

export class LogRepository {
  constructor(private readonly db: Executor) {}

  /** Inserts entries; ids already present are skipped. Returns how many were new. */
  async insert(entries: readonly ProvisioningLogEntry[], chunkSize = 2000): Promise<number> {
    let added = 0;
    for (const part of chunk(entries, chunkSize)) {
      const rows = jsonRows(
        provisioningLogs,
        part.map((e) => ({ ...e, time: new Date(e.time).toISOString() })),
      );
      const result = await this.db.execute(
        sql`insert into provisioning_logs (${rows.columns}) ${rows.select} on conflict (id) do nothing`,
      );
      added += affectedRows(result);
    }
    return added;
  }

  async get(id: string): Promise<ProvisioningLogEntry | null> {
    const [row] = await this.db.select().from(provisioningLogs).where(eq(provisioningLogs.id, id));
    return row ? toEntry(row) : null;
  }

  /** Newest first; `nextCursor` continues after the last entry. */
  async query(q: LogQuery): Promise<Page<ProvisioningLogEntry>> {
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 5000);
    const after = q.cursor ? (decodeCursor(q.cursor) as [string, string]) : null;
    const t = provisioningLogs;
    const rows = await this.db
      .select()
      .from(t)
      .where(
        and(
          eq(t.appId, q.appId),
          q.cycleId !== undefined ? eq(t.cycleId, q.cycleId) : undefined,
          q.objectId !== undefined ? or(eq(t.sourceId, q.objectId), eq(t.targetId, q.objectId)) : undefined,
          q.objectType !== undefined ? eq(t.objectType, q.objectType) : undefined,
          oneOrMany(t.action, q.action),
          oneOrMany(t.status, q.status),
          q.since !== undefined ? gte(t.time, new Date(q.since)) : undefined,
          q.until !== undefined ? lt(t.time, new Date(q.until)) : undefined,
          q.onDemand !== undefined ? eq(t.onDemand, q.onDemand) : undefined,
          after ? sql`(${t.time}, ${t.id}) < (${after[0]}::timestamptz, ${after[1]})` : undefined,
        ),
      )
      .orderBy(desc(t.time), desc(t.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toEntry);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit ? encodeCursor([last.time, last.id]) : null };
  }

  /** Retention: deletes entries older than `before`; returns how many. */
  async deleteOlderThan(before: Date, appId?: string): Promise<number> {
    const rows = await this.db
      .delete(provisioningLogs)
      .where(and(lt(provisioningLogs.time, before), appId ? eq(provisioningLogs.appId, appId) : undefined))
      .returning({ id: provisioningLogs.id });
    return rows.length;
  }
}
