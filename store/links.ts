// Links: per app and source object, the target id, the hash of what was last
// exported (and the values themselves), active flag, and escrow state (failure count, first failure, next retry, last error).
import { and, asc, count, desc, eq, gt, isNotNull, lte, or, sql } from 'drizzle-orm';
import type { Link, ObjectType } from '../engine/types.ts';
import { anyOf, asyncCommit, chunk, decodeCursor, encodeCursor, iso, jsonRows, toDate, type Executor } from './db.ts';
import type { Page } from './directory.ts';
import { links } from './schema.ts';

export interface LinkRecord extends Link {
  /** When the current run of failures began (escrow gives up 28 days after it). */
  firstFailedAt: string | null;
  lastErrorCode: string | null;
  /**
   * When Ferry last sent a create for the object whose outcome is not saved yet (null: none). An account
   * a match finds while it is set is Ferry's own create, whose outcome a crash lost.
   */
  createRequestedAt: string | null;
  updatedAt: string;
}

/** What a link says about the object as a reference (a group's member, a manager): its target id, whether active. */
export type LinkTarget = Pick<LinkRecord, 'targetId' | 'active'>;

export interface LinkKey {
  appId: string;
  objectType: ObjectType;
  sourceId: string;
}

/** Fields to set; the ones left out keep their stored value (or their default on insert). */
export type LinkUpsert = LinkKey &
  Partial<
    Pick<
      LinkRecord,
      | 'targetId'
      | 'exportedHash'
      | 'exportedValues'
      | 'active'
      | 'failureCount'
      | 'nextRetryAt'
      | 'lastError'
      | 'lastErrorCode'
      | 'firstFailedAt'
      | 'createRequestedAt'
    >
  >;

export interface LinkFailure {
  error: string;
  errorCode?: string | null;
  /** When to retry (escrow schedule from the engine); null = do not retry. */
  nextRetryAt: string | Date | null;
  at?: Date;
}

type LinkRow = typeof links.$inferSelect;

function toLink(r: LinkRow): LinkRecord {
  return {
    appId: r.appId,
    objectType: r.objectType,
    sourceId: r.sourceId,
    targetId: r.targetId,
    exportedHash: r.exportedHash,
    exportedValues: r.exportedValues ?? null,
    active: r.active,
    failureCount: r.failureCount,
    nextRetryAt: iso(r.nextRetryAt),
    lastError: r.lastError,
    firstFailedAt: iso(r.firstFailedAt),
    lastErrorCode: r.lastErrorCode,
    createRequestedAt: iso(r.createRequestedAt),
    updatedAt: iso(r.updatedAt)!,
  };
}

const keyWhere = (k: LinkKey) =>
  and(eq(links.appId, k.appId), eq(links.objectType, k.objectType), eq(links.sourceId, k.sourceId));

/** The columns of a link that is not in escrow. */
const noEscrow = () => ({
  failureCount: 0,
  firstFailedAt: null,
  nextRetryAt: null,
  lastError: null,
  lastErrorCode: null,
  updatedAt: new Date(),
});

function columnsOf(u: LinkUpsert): Partial<typeof links.$inferInsert> {
  const v: Partial<typeof links.$inferInsert> = {};
  if (u.targetId !== undefined) v.targetId = u.targetId;
  if (u.exportedHash !== undefined) v.exportedHash = u.exportedHash;
  if (u.exportedValues !== undefined) v.exportedValues = u.exportedValues;
  if (u.active !== undefined) v.active = u.active;
  if (u.failureCount !== undefined) v.failureCount = u.failureCount;
  if (u.nextRetryAt !== undefined) v.nextRetryAt = toDate(u.nextRetryAt);
  if (u.firstFailedAt !== undefined) v.firstFailedAt = toDate(u.firstFailedAt);
  if (u.lastError !== undefined) v.lastError = u.lastError;
  if (u.lastErrorCode !== undefined) v.lastErrorCode = u.lastErrorCode;
  if (u.createRequestedAt !== undefined) v.createRequestedAt = toDate(u.createRequestedAt);
  return v;
}

/** The conflict clause of a create-intent insert: the link stays as it is but for the intent's time. */
export const onConflictCreateRequested = sql`on conflict (app_id, object_type, source_id) do update
  set create_requested_at = excluded.create_requested_at, updated_at = excluded.create_requested_at`;

export class LinkRepository {
  constructor(private readonly db: Executor) {}

  async get(appId: string, objectType: ObjectType, sourceId: string): Promise<LinkRecord | null> {
    const [row] = await this.db.select().from(links).where(keyWhere({ appId, objectType, sourceId }));
    return row ? toLink(row) : null;
  }

  /** Links of many source objects, keyed by source id (absent = not linked). */
  async getMany(appId: string, objectType: ObjectType, sourceIds: readonly string[]): Promise<Map<string, LinkRecord>> {
    const out = new Map<string, LinkRecord>();
    for (const part of chunk([...new Set(sourceIds)], 5000)) {
      const rows = await this.db
        .select()
        .from(links)
        .where(and(eq(links.appId, appId), eq(links.objectType, objectType), anyOf(links.sourceId, part)));
      for (const row of rows) out.set(row.sourceId, toLink(row));
    }
    return out;
  }

  /**
   * The target id and active flag of many objects' links (absent = no link): what resolving them as
   * references needs, without the exported values of each (a page of groups can refer to every user).
   */
  async targetsOf(
    appId: string,
    objectType: ObjectType,
    sourceIds: readonly string[],
  ): Promise<Map<string, LinkTarget>> {
    const out = new Map<string, LinkTarget>();
    for (const part of chunk([...new Set(sourceIds)], 5000)) {
      const rows = await this.db
        .select({ sourceId: links.sourceId, targetId: links.targetId, active: links.active })
        .from(links)
        .where(and(eq(links.appId, appId), eq(links.objectType, objectType), anyOf(links.sourceId, part)));
      for (const row of rows) out.set(row.sourceId, { targetId: row.targetId, active: row.active });
    }
    return out;
  }

  /** The link pointing at a target object (e.g. to adopt a resource after a 409). */
  async getByTargetId(appId: string, objectType: ObjectType, targetId: string): Promise<LinkRecord | null> {
    const [row] = await this.db
      .select()
      .from(links)
      .where(and(eq(links.appId, appId), eq(links.objectType, objectType), eq(links.targetId, targetId)));
    return row ? toLink(row) : null;
  }

  /** Links pointing at many target objects, keyed by target id (absent = no link points at it). */
  async getByTargetIds(
    appId: string,
    objectType: ObjectType,
    targetIds: readonly string[],
  ): Promise<Map<string, LinkRecord>> {
    const out = new Map<string, LinkRecord>();
    for (const part of chunk([...new Set(targetIds)], 5000)) {
      const rows = await this.db
        .select()
        .from(links)
        .where(and(eq(links.appId, appId), eq(links.objectType, objectType), anyOf(links.targetId, part)));
      for (const row of rows) if (row.targetId) out.set(row.targetId, toLink(row));
    }
    return out;
  }

  /** Creates or updates a link; running it twice with the same input leaves the same row. */
  async upsert(link: LinkUpsert): Promise<LinkRecord> {
    const set = { ...columnsOf(link), updatedAt: new Date() };
    const [row] = await this.db
      .insert(links)
      .values({ appId: link.appId, objectType: link.objectType, sourceId: link.sourceId, ...set })
      .onConflictDoUpdate({ target: [links.appId, links.objectType, links.sourceId], set })
      .returning();
    return toLink(row);
  }

  /** Upserts many links, each with the same fields given as the first (one statement per chunk). */
  async bulkUpsert(items: readonly LinkUpsert[], chunkSize = 5000): Promise<number> {
    if (items.length === 0) return 0;
    const given = Object.keys(columnsOf(items[0])) as (keyof typeof links.$inferSelect)[];
    const set = sql.join(
      [...given, 'updatedAt' as const].map(
        (field) => sql`${sql.identifier(links[field].name)} = excluded.${sql.identifier(links[field].name)}`,
      ),
      sql`, `,
    );
    const now = new Date();
    for (const part of chunk(items, chunkSize)) {
      const rows = jsonRows(
        links,
        part.map((l) => ({
          appId: l.appId,
          objectType: l.objectType,
          sourceId: l.sourceId,
          ...columnsOf(l),
          updatedAt: now,
        })),
      );
      await this.db.execute(sql`insert into links (${rows.columns}) ${rows.select}
        on conflict (app_id, object_type, source_id) do update set ${set}`);
    }
    return items.length;
  }

  /**
   * Records that Ferry is about to send creates for these objects (before the POSTs), in one statement.
   * A link made only for this is inactive and has no target id, so it counts nowhere as linked.
   * The intent must outlive the worker (a killed process), not a crash of the database itself: it is
   * committed without waiting for the WAL flush (asyncCommit), which would double every create's latency.
   */
  async markCreateRequested(
    appId: string,
    objectType: ObjectType,
    sourceIds: readonly string[],
    at: Date,
  ): Promise<void> {
    if (sourceIds.length === 0) return;
    await this.db.execute(
      sql`insert into links (app_id, object_type, source_id, active, create_requested_at)
        select ${appId}, ${objectType}, id, false, ${at.toISOString()}::timestamptz
          from unnest(${sql.param([...new Set(sourceIds)])}::text[]) as id
          where ${asyncCommit}
        ${onConflictCreateRequested}`,
    );
  }

  /** Records a failed export: failure count +1, first failure kept, next retry set (escrow). */
  async markFailure(key: LinkKey, failure: LinkFailure): Promise<LinkRecord> {
    const at = failure.at ?? new Date();
    const values = {
      ...key,
      failureCount: 1,
      firstFailedAt: at,
      nextRetryAt: toDate(failure.nextRetryAt),
      lastError: failure.error,
      lastErrorCode: failure.errorCode ?? null,
      updatedAt: at,
    };
    const [row] = await this.db
      .insert(links)
      .values(values)
      .onConflictDoUpdate({
        target: [links.appId, links.objectType, links.sourceId],
        set: {
          failureCount: sql`${links.failureCount} + 1`,
          firstFailedAt: sql`coalesce(${links.firstFailedAt}, excluded.first_failed_at)`,
          nextRetryAt: values.nextRetryAt,
          lastError: values.lastError,
          lastErrorCode: values.lastErrorCode,
          updatedAt: at,
        },
      })
      .returning();
    return toLink(row);
  }

  /** Ends escrow for an object (after a successful export). */
  async clearFailure(key: LinkKey): Promise<void> {
    await this.db.update(links).set(noEscrow()).where(keyWhere(key));
  }

  /** Escrowed links whose retry is due at `now`, oldest due first. */
  async escrowDue(appId: string, now: Date, limit = 1000): Promise<LinkRecord[]> {
    const rows = await this.db
      .select()
      .from(links)
      .where(and(eq(links.appId, appId), isNotNull(links.nextRetryAt), lte(links.nextRetryAt, now)))
      .orderBy(asc(links.nextRetryAt), asc(links.sourceId))
      .limit(limit);
    return rows.map(toLink);
  }

  /** Restart: forget every escrow of the app (links themselves stay). Returns how many were cleared. */
  async clearEscrows(appId: string): Promise<number> {
    const rows = await this.db
      .update(links)
      .set(noEscrow())
      .where(and(eq(links.appId, appId), or(gt(links.failureCount, 0), isNotNull(links.nextRetryAt))))
      .returning({ id: links.sourceId });
    return rows.length;
  }

  /** Objects of the app in escrow: failed exports waiting for a retry. */
  async countEscrowed(appId: string): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(links)
      .where(and(eq(links.appId, appId), isNotNull(links.nextRetryAt)));
    return Number(row.n);
  }

  async countActive(appId: string, objectType?: ObjectType): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(links)
      .where(
        and(eq(links.appId, appId), eq(links.active, true), objectType ? eq(links.objectType, objectType) : undefined),
      );
    return Number(row.n);
  }

  async list(
    appId: string,
    options: { objectType?: ObjectType; cursor?: string | null; limit?: number } = {},
  ): Promise<Page<LinkRecord>> {
    const limit = Math.min(Math.max(options.limit ?? 1000, 1), 10_000);
    const after = options.cursor ? (decodeCursor(options.cursor) as [string, string]) : null;
    const rows = await this.db
      .select()
      .from(links)
      .where(
        and(
          eq(links.appId, appId),
          options.objectType ? eq(links.objectType, options.objectType) : undefined,
          after ? sql`(${links.objectType}, ${links.sourceId}) > (${after[0]}, ${after[1]})` : undefined,
        ),
      )
      .orderBy(asc(links.objectType), asc(links.sourceId))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toLink);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit ? encodeCursor([last.objectType, last.sourceId]) : null };
  }

  /**
   * Objects whose last export failed (escrowed, or given up on), optionally with one error code:
   * users before groups (a group's members must exist first), longest failing first; and how many there are.
   */
  async failed(
    appId: string,
    options: { errorCode?: string; limit: number },
  ): Promise<{ items: LinkRecord[]; total: number }> {
    const where = and(
      eq(links.appId, appId),
      gt(links.failureCount, 0),
      options.errorCode ? eq(links.lastErrorCode, options.errorCode) : undefined,
    );
    const [rows, [total]] = await Promise.all([
      this.db
        .select()
        .from(links)
        .where(where)
        .orderBy(desc(links.objectType), asc(links.firstFailedAt), asc(links.sourceId))
        .limit(options.limit),
      this.db.select({ n: count() }).from(links).where(where),
    ]);
    return { items: rows.map(toLink), total: Number(total.n) };
  }

  async delete(key: LinkKey): Promise<boolean> {
    const rows = await this.db.delete(links).where(keyWhere(key)).returning({ id: links.sourceId });
    return rows.length > 0;
  }

  /** Full restart: forget every link of the app. */
  async deleteAll(appId: string): Promise<number> {
    const rows = await this.db.delete(links).where(eq(links.appId, appId)).returning({ id: links.sourceId });
    return rows.length;
  }
}
