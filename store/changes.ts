// The directory change log: the watermark of incremental cycles.
import { and, asc, desc, eq, gt, lte, sql } from 'drizzle-orm';
import type { ObjectType } from '../engine/types.ts';
import { advisoryXactLock, anyOf, chunk, iso, LOCK_DIRECTORY_CHANGES, query, type Executor } from './db.ts';
import { changes } from './schema.ts';

export type ChangeOp =
  | 'upsert'
  | 'softDelete'
  | 'restore'
  | 'hardDelete'
  | 'memberAdd'
  | 'memberRemove'
  | 'assignmentAdd'
  | 'assignmentRemove';

/**
 * One directory write. For `memberAdd`/`memberRemove` the object is the group and `detail` holds
 * `{ memberId, memberType }`; for assignments the object is the principal, `appId` is set and
 * `detail` holds `{ role }`.
 */
export interface DirectoryChange {
  seq: number;
  at: string;
  objectType: ObjectType;
  objectId: string;
  op: ChangeOp;
  appId: string | null;
  detail: Record<string, unknown>;
}

export type NewChange =
  | Omit<DirectoryChange, 'seq' | 'at'>
  | (Omit<DirectoryChange, 'seq' | 'at' | 'appId' | 'detail'> & {
      appId?: string | null;
      detail?: Record<string, unknown>;
    });

/**
 * Appends changes inside the caller's transaction. Writers serialise on an advisory lock held
 * until commit, so sequence numbers become visible in order: a reader that sees seq n has seen
 * every seq below n that will ever commit, and `latestSeq()` is a safe watermark.
 */
export async function recordChanges(tx: Executor, items: NewChange[]): Promise<void> {
  if (items.length === 0) return;
  await advisoryXactLock(tx, LOCK_DIRECTORY_CHANGES);
  for (const part of chunk(items, 2000)) {
    await tx.insert(changes).values(
      part.map((c) => ({
        objectType: c.objectType,
        objectId: c.objectId,
        op: c.op,
        appId: c.appId ?? null,
        detail: c.detail ?? {},
      })),
    );
  }
}

export class ChangeRepository {
  constructor(private readonly db: Executor) {}

  /** Changes with seq > `afterSeq` (and ≤ `upToSeq` when given), oldest first. */
  async changesSince(afterSeq: number, limit = 1000, upToSeq?: number): Promise<DirectoryChange[]> {
    const rows = await this.db
      .select()
      .from(changes)
      .where(and(gt(changes.seq, afterSeq), upToSeq === undefined ? undefined : lte(changes.seq, upToSeq)))
      .orderBy(asc(changes.seq))
      .limit(limit);
    return rows.map((r) => ({ ...r, at: iso(r.at)!, op: r.op as ChangeOp }));
  }

  /**
   * Display names of hard-deleted objects as they were when deleted (`hardDelete` changes carry them),
   * by object id; objects deleted before the change log kept names are absent.
   */
  async lastKnownNames(objectType: ObjectType, ids: readonly string[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    for (const part of chunk([...new Set(ids)], 5000)) {
      const rows = await this.db
        .select({ objectId: changes.objectId, detail: changes.detail })
        .from(changes)
        .where(and(eq(changes.objectType, objectType), anyOf(changes.objectId, part), eq(changes.op, 'hardDelete')))
        .orderBy(desc(changes.seq));
      for (const row of rows) {
        const name = row.detail.displayName;
        if (typeof name === 'string' && !names.has(row.objectId)) names.set(row.objectId, name);
      }
    }
    return names;
  }

  /**
   * Apps whose provisioning may differ after the changes in (afterSeq, upToSeq]: provisioning on, push not
   * turned off (`pushChanges: false`), and either scope `all`, or an assignment change of the app, or an
   * assignment reaching a changed object (directly or through the groups above it), or a link to one.
   * Errs on the side of naming an app: a needless incremental cycle sends nothing to its target.
   */
  async appsToPush(afterSeq: number, upToSeq: number): Promise<string[]> {
    const rows = await query<{ id: string }>(
      this.db,
      sql`with recursive
      ch as (
        select object_type, object_id, op, app_id, detail from directory_changes
        where seq > ${afterSeq} and seq <= ${upToSeq}
      ),
      objs(object_type, object_id) as (
        select object_type, object_id from ch
        union
        select detail->>'memberType', detail->>'memberId' from ch where op in ('memberAdd', 'memberRemove')
      ),
      up(object_type, object_id) as (
        select object_type, object_id from objs
        union
        select 'group'::text, m.group_id from directory_memberships m join up u on m.member_id = u.object_id
      )
      select a.id from apps a
      where a.provisioning_enabled
        and coalesce(a.configuration->>'pushChanges', 'true') <> 'false'
        and (
          a.configuration->>'scope' = 'all'
          or exists (select 1 from ch where ch.app_id = a.id)
          or exists (select 1 from app_role_assignments r join up
                       on r.principal_type = up.object_type and r.principal_id = up.object_id where r.app_id = a.id)
          or exists (select 1 from links l join objs
                       on l.object_type = objs.object_type and l.source_id = objs.object_id where l.app_id = a.id)
        )
      order by a.id`,
    );
    return rows.map((r) => r.id);
  }

  /** The highest committed seq, 0 when the log is empty. */
  async latestSeq(): Promise<number> {
    const [row] = await query<{ seq: string | number | null }>(
      this.db,
      sql`select max(seq) as seq from directory_changes`,
    );
    return Number(row?.seq ?? 0);
  }
}
