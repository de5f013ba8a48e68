// Staged cycle work: the objects one cycle handles, each with a position (`seq`) so activities
// read batches by cursor ("seq > cursor"), and a status so a re-run batch does no work twice.
// Staging runs as INSERT … SELECT in the database: 100k objects never travel through Node.
import { and, asc, eq, gt, inArray, isNotNull, sql } from 'drizzle-orm';
import type { ObjectType } from '../engine/types.ts';
import { affectedRows, anyOf, chunk, query, type Executor } from './db.ts';
import { notFound } from './errors.ts';
import { cycles, cycleWork } from './schema.ts';

/** `pending` until processed; then e.g. `done`, `failed`, `staged` (held by the deletion guard), `dropped`. */
export type WorkStatus = 'pending' | 'done' | 'failed' | 'staged' | 'dropped' | (string & {});

/** A disable/delete held back for approval: the object and the cycle that holds it. */
export interface StagedDelete {
  objectType: ObjectType;
  objectId: string;
  cycleId: string;
  seq: number;
}

export interface WorkItem {
  seq: number;
  cycleId: string;
  objectType: ObjectType;
  objectId: string;
  /** Latest directory change that staged the object (the log's `changeId`); null in initial cycles. */
  changeSeq: number | null;
  status: WorkStatus;
  /** The planned or performed action (e.g. `Disable`), when known. */
  action: string | null;
  detail: Record<string, unknown> | null;
}

export interface StageItem {
  objectType: ObjectType;
  objectId: string;
  changeSeq?: number | null;
}

export interface BatchQuery {
  /** Exclusive; 0 at the start. Pass the last item's `seq` to continue. */
  afterSeq: number;
  limit: number;
  objectType?: ObjectType;
  status?: WorkStatus | WorkStatus[];
}

type WorkRow = typeof cycleWork.$inferSelect;

const toItem = (r: WorkRow): WorkItem => ({
  seq: r.seq,
  cycleId: r.cycleId,
  objectType: r.objectType,
  objectId: r.objectId,
  changeSeq: r.changeSeq,
  status: r.status,
  action: r.action,
  detail: r.detail,
});

const statusWhere = (status: WorkStatus | WorkStatus[] | undefined) =>
  status === undefined
    ? undefined
    : Array.isArray(status)
      ? inArray(cycleWork.status, status)
      : eq(cycleWork.status, status);

export class CycleWorkRepository {
  constructor(private readonly db: Executor) {}

  private async appOf(cycleId: string): Promise<string> {
    const [row] = await this.db.select({ appId: cycles.appId }).from(cycles).where(eq(cycles.id, cycleId));
    if (!row) throw notFound('Cycle', cycleId);
    return row.appId;
  }

  /** Stages objects in the given order; already staged ones are left as they are. Returns how many were new. */
  async stage(cycleId: string, items: readonly StageItem[], chunkSize = 5000): Promise<number> {
    let added = 0;
    for (const part of chunk(items, chunkSize)) {
      const rows = await this.db
        .insert(cycleWork)
        .values(
          part.map((i) => ({
            cycleId,
            objectType: i.objectType,
            objectId: i.objectId,
            changeSeq: i.changeSeq ?? null,
          })),
        )
        .onConflictDoNothing()
        .returning({ seq: cycleWork.seq });
      added += rows.length;
    }
    return added;
  }

  /**
   * Initial cycle: every user and group of the directory (scope `all`), or every object assigned
   * to the app directly or through nested groups (scope `assigned`) — plus every object the app
   * has a link for, so those that left scope or were deleted get disabled/deleted. Users first.
   */
  async stageInitial(cycleId: string, scope: 'all' | 'assigned'): Promise<number> {
    const appId = await this.appOf(cycleId);
    const candidates =
      scope === 'all'
        ? sql`select 'user'::text as object_type, id as object_id from directory_users
              union select 'group'::text, id from directory_groups`
        : sql`select object_type, object_id from reach`;
    const result = await this.db.execute(sql`
      with recursive reach(object_type, object_id) as (
        select principal_type, principal_id from app_role_assignments where app_id = ${appId}
        union
        select m.member_type, m.member_id from directory_memberships m
          join reach r on r.object_type = 'group' and m.group_id = r.object_id
      ),
      candidates as (
        ${candidates}
        union select object_type, source_id from links where app_id = ${appId}
      ),
      -- Depth in the org chart (0 = no manager in the directory). Users are staged managers first, so a
      -- report's create already carries its manager instead of a second PATCH in the references phase.
      -- Users in a manager loop are never reached and come last; the bound stops a runaway chain.
      depth(id, d) as (
        select u.id, 0 from directory_users u
          where u.manager_id is null or not exists (select 1 from directory_users m where m.id = u.manager_id)
        union all
        select u.id, p.d + 1 from directory_users u join depth p on u.manager_id = p.id where p.d < 100
      )
      insert into cycle_work (cycle_id, object_type, object_id)
      select ${cycleId}, c.object_type, c.object_id from candidates c
        left join depth on c.object_type = 'user' and depth.id = c.object_id
        order by c.object_type desc, coalesce(depth.d, 1000), c.object_id
      on conflict (cycle_id, object_type, object_id) do nothing`);
    return affectedRows(result);
  }

  /**
   * Incremental cycle: objects touched by directory changes in (afterSeq, upToSeq] — the changed
   * objects, the members named in membership changes, the principals of this app's assignment
   * changes; then every group containing one of them (its flattened members may differ) and every
   * member under a changed group (its scope through that group may differ). Nesting cycles are fine.
   */
  async stageChanges(cycleId: string, afterSeq: number, upToSeq: number): Promise<number> {
    const appId = await this.appOf(cycleId);
    const result = await this.db.execute(sql`
      with recursive
      ch as (
        select seq, object_type, object_id, op, detail from directory_changes
        where seq > ${afterSeq} and seq <= ${upToSeq} and (app_id is null or app_id = ${appId})
      ),
      seeds as (
        select object_type, object_id, max(seq) as change_seq from (
          select object_type, object_id, seq from ch
          union all
          select detail->>'memberType', detail->>'memberId', seq from ch where op in ('memberAdd', 'memberRemove')
        ) s group by object_type, object_id
      ),
      down(object_type, object_id) as (
        select object_type, object_id from seeds where object_type = 'group'
        union
        select m.member_type, m.member_id from directory_memberships m
          join down d on d.object_type = 'group' and m.group_id = d.object_id
      ),
      up(object_type, object_id) as (
        select object_type, object_id from seeds
        union
        select 'group'::text, m.group_id from directory_memberships m join up u on m.member_id = u.object_id
      ),
      affected as (
        select object_type, object_id from seeds union select * from down union select * from up
      )
      insert into cycle_work (cycle_id, object_type, object_id, change_seq)
      select ${cycleId}, a.object_type, a.object_id, s.change_seq
      from affected a left join seeds s on s.object_type = a.object_type and s.object_id = a.object_id
      order by a.object_type desc, a.object_id
      on conflict (cycle_id, object_type, object_id) do nothing`);
    return affectedRows(result);
  }

  /** Escrowed objects of the app whose retry is due at `now`, and the groups containing them. */
  async stageEscrowDue(cycleId: string, now: Date): Promise<number> {
    const appId = await this.appOf(cycleId);
    const due = sql`select object_type, source_id from links
      where app_id = ${appId} and next_retry_at is not null and next_retry_at <= ${now.toISOString()}::timestamptz`;
    const objects = await this.db.execute(sql`
      insert into cycle_work (cycle_id, object_type, object_id)
      select ${cycleId}, object_type, source_id from (${due}) d
      order by object_type desc, source_id
      on conflict (cycle_id, object_type, object_id) do nothing`);
    // The groups containing them, directly or through nesting: their members may change. One statement
    // for all, however many objects are in escrow.
    const groups = await this.db.execute(sql`
      with recursive anc(group_id) as (
        select m.group_id from directory_memberships m join (${due}) d on m.member_id = d.source_id
        union
        select m.group_id from directory_memberships m join anc a on m.member_id = a.group_id
      )
      insert into cycle_work (cycle_id, object_type, object_id)
      select ${cycleId}, 'group', group_id from anc order by group_id
      on conflict (cycle_id, object_type, object_id) do nothing`);
    return affectedRows(objects) + affectedRows(groups);
  }

  /**
   * Stages in this cycle, as pending work, every object whose disable/delete another cycle of the app
   * still holds as `staged` (once approved), in the order they were held, in one statement.
   */
  async stageHeld(cycleId: string, appId: string): Promise<number> {
    const result = await this.db.execute(sql`
      insert into cycle_work (cycle_id, object_type, object_id, change_seq)
      select ${cycleId}, w.object_type, w.object_id, w.change_seq from cycle_work w
      where w.held and w.cycle_id <> ${cycleId}
        and w.cycle_id in (select id from cycles where app_id = ${appId})
      order by w.seq
      on conflict (cycle_id, object_type, object_id) do nothing`);
    return affectedRows(result);
  }

  /** Ends the hold of every staged disable/delete of the app outside this cycle: `approved` or `dropped`. */
  async resolveHeld(appId: string, exceptCycleId: string, to: 'approved' | 'dropped'): Promise<number> {
    const result = await this.db.execute(sql`
      update cycle_work set status = ${to}, updated_at = now()
      where held and cycle_id <> ${exceptCycleId}
        and cycle_id in (select id from cycles where app_id = ${appId})`);
    return affectedRows(result);
  }

  /**
   * How many objects' disables/deletes the app holds for approval (in any cycle, or in any but
   * `exceptCycleId`; each object once).
   */
  async heldCount(appId: string, options: { exceptCycleId?: string } = {}): Promise<number> {
    const except = options.exceptCycleId ?? null;
    const rows = await query<{ n: number }>(
      this.db,
      sql`select count(*)::int as n from (
            select distinct w.object_type, w.object_id from cycle_work w
            where w.held and w.cycle_id in (select id from cycles where app_id = ${appId})
              and (${except}::text is null or w.cycle_id <> ${except}::text)) held`,
    );
    return rows[0]?.n ?? 0;
  }

  /** The next batch after a cursor, in staging order. */
  async readBatch(cycleId: string, q: BatchQuery): Promise<WorkItem[]> {
    const rows = await this.db
      .select()
      .from(cycleWork)
      .where(
        and(
          eq(cycleWork.cycleId, cycleId),
          gt(cycleWork.seq, q.afterSeq),
          q.objectType ? eq(cycleWork.objectType, q.objectType) : undefined,
          statusWhere(q.status),
        ),
      )
      .orderBy(asc(cycleWork.seq))
      .limit(q.limit);
    return rows.map(toItem);
  }

  async get(cycleId: string, objectType: ObjectType, objectId: string): Promise<WorkItem | null> {
    const [row] = await this.db
      .select()
      .from(cycleWork)
      .where(
        and(eq(cycleWork.cycleId, cycleId), eq(cycleWork.objectType, objectType), eq(cycleWork.objectId, objectId)),
      );
    return row ? toItem(row) : null;
  }

  /** Sets the outcome of items (by seq). */
  async mark(
    cycleId: string,
    seqs: readonly number[],
    outcome: { status: WorkStatus; action?: string | null; detail?: Record<string, unknown> | null },
  ): Promise<number> {
    let n = 0;
    for (const part of chunk(seqs, 5000)) {
      const rows = await this.db
        .update(cycleWork)
        .set({ status: outcome.status, action: outcome.action, detail: outcome.detail, updatedAt: new Date() })
        .where(and(eq(cycleWork.cycleId, cycleId), anyOf(cycleWork.seq, part, 'bigint')))
        .returning({ seq: cycleWork.seq });
      n += rows.length;
    }
    return n;
  }

  /**
   * The work items of one type in a cycle that changed themselves (groups: a membership or attribute
   * change staged them) or whose link changed in this cycle (users: created, disabled, re-enabled,
   * deleted): what decides which groups' members are checked again.
   */
  async changedIds(cycleId: string, objectType: ObjectType, what: 'changed' | 'linkChanged'): Promise<Set<string>> {
    const condition =
      what === 'changed' ? isNotNull(cycleWork.changeSeq) : sql`${cycleWork.detail}->>'linkChanged' = 'true'`;
    const rows = await this.db
      .select({ id: cycleWork.objectId })
      .from(cycleWork)
      .where(and(eq(cycleWork.cycleId, cycleId), eq(cycleWork.objectType, objectType), condition));
    return new Set(rows.map((r) => r.id));
  }

  /**
   * The app's disables/deletes held as StagedDelete (the deletion threshold was exceeded) and not yet
   * approved or rejected, each object once (its latest cycle), oldest first; optionally of one type
   * or among some ids. `total` counts all that match.
   */
  async stagedDeletions(
    appId: string,
    filter: { objectType?: ObjectType; objectIds?: readonly string[]; limit: number },
  ): Promise<{ items: StagedDelete[]; total: number }> {
    const where = sql`c.app_id = ${appId} and w.held
      and (${filter.objectType ?? null}::text is null or w.object_type = ${filter.objectType ?? null}::text)
      and (${filter.objectIds ? JSON.stringify(filter.objectIds) : null}::jsonb is null
           or w.object_id in (select jsonb_array_elements_text(${filter.objectIds ? JSON.stringify(filter.objectIds) : null}::jsonb)))`;
    const rows = await query<{ object_type: ObjectType; object_id: string; cycle_id: string; seq: string }>(
      this.db,
      sql`select distinct on (w.object_type, w.object_id) w.object_type, w.object_id, w.cycle_id, w.seq
          from cycle_work w join cycles c on c.id = w.cycle_id
          where ${where}
          order by w.object_type, w.object_id, c.number desc`,
    );
    const items = rows
      .map((r) => ({ objectType: r.object_type, objectId: r.object_id, cycleId: r.cycle_id, seq: Number(r.seq) }))
      .sort((a, b) => a.seq - b.seq);
    return { items: items.slice(0, filter.limit), total: items.length };
  }

  /** Ends the hold of these objects' staged deletions in every cycle of the app: `approved` or `dropped`. */
  async resolveStaged(
    appId: string,
    objects: readonly { objectType: ObjectType; objectId: string }[],
    to: 'approved' | 'dropped',
  ): Promise<number> {
    if (objects.length === 0) return 0;
    const keys = JSON.stringify(objects.map((o) => [o.objectType, o.objectId]));
    const result = await this.db.execute(sql`
      update cycle_work set status = ${to}, updated_at = now()
      where held
        and cycle_id in (select id from cycles where app_id = ${appId})
        and (object_type, object_id) in (
          select k->>0, k->>1 from jsonb_array_elements(${keys}::jsonb) as k)`);
    return affectedRows(result);
  }

  /**
   * Refreshes the planner's statistics of the work table. Staging adds a whole cycle's rows at once;
   * until autovacuum notices, plans made from the old statistics scan instead of seeking.
   */
  async analyze(): Promise<void> {
    await this.db.execute(sql`analyze cycle_work`);
  }

  async count(
    cycleId: string,
    filter: { objectType?: ObjectType; status?: WorkStatus | WorkStatus[]; action?: string } = {},
  ): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(cycleWork)
      .where(
        and(
          eq(cycleWork.cycleId, cycleId),
          filter.objectType ? eq(cycleWork.objectType, filter.objectType) : undefined,
          statusWhere(filter.status),
          filter.action ? eq(cycleWork.action, filter.action) : undefined,
        ),
      );
    return row.n;
  }

  /** Counts per (status, action): cycle counts recomputed from the work itself, so re-runs do not double count. */
  async tally(cycleId: string): Promise<{ status: WorkStatus; action: string | null; count: number }[]> {
    const rows = await this.db
      .select({ status: cycleWork.status, action: cycleWork.action, count: sql<number>`count(*)::int` })
      .from(cycleWork)
      .where(eq(cycleWork.cycleId, cycleId))
      .groupBy(cycleWork.status, cycleWork.action)
      .orderBy(asc(cycleWork.status), asc(cycleWork.action));
    return rows;
  }
}
