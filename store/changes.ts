// The directory change log (DESIGN.md §2 "Cycles"): the watermark of incremental cycles.
import { and, asc, gt, lte, sql } from 'drizzle-orm';
import type { ObjectType } from '../engine/types.ts';
import { advisoryXactLock, chunk, iso, LOCK_DIRECTORY_CHANGES, query, type Executor } from './db.ts';
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

  /** The highest committed seq, 0 when the log is empty. */
  async latestSeq(): Promise<number> {
    const [row] = await query<{ seq: string | number | null }>(
      this.db,
      sql`select max(seq) as seq from directory_changes`,
    );
    return Number(row?.seq ?? 0);
  }
}
