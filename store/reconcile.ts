// Reconcile passes (drift detection): the pass's state and counts, the target users and groups it
// has read (a linked one it never read was deleted in the target), and one finding per drifted object
// with what the pass did about it. Writes are idempotent per (pass, object type, target id): a retried
// page records the same findings again, not twice. Object type is part of the key because a target
// may number its users and groups separately.
import { and, asc, desc, eq, gt, ne, sql } from 'drizzle-orm';
import type { ModifiedAttribute, ObjectType } from '../engine/types.ts';
import { decodeCursor, encodeCursor, iso, query, type Executor } from './db.ts';
import type { Page } from './directory.ts';
import { driftFindings, reconcilePasses, reconcileSeen } from './schema.ts';

export type ReconcileMode = 'report' | 'repair';
export type ReconcilePassStatus = 'running' | 'completed' | 'failed';
export type DriftKind = 'edited' | 'deleted' | 'orphan';
/**
 * `reported`: only recorded; `repaired`: the last exported values were put back; `recreated`: created
 * again and re-linked; `adopted`: an orphan linked to the directory user it matches; `disabled`: an
 * orphan set active=false; `busy`: a cycle held the object.
 */
export type DriftOutcome = 'reported' | 'repaired' | 'recreated' | 'adopted' | 'disabled' | 'failed' | 'busy';

export interface ReconcilePassRecord {
  id: string;
  appId: string;
  mode: ReconcileMode;
  status: ReconcilePassStatus;
  /**
   * Findings per kind (`edited`, `deleted`, `orphan`) and per outcome, of users and groups together;
   * the same for groups alone prefixed `group.` (`group.edited` …); `accounts` and `groups` read.
   */
  counts: Record<string, number>;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface DriftFinding {
  passId: string;
  appId: string;
  kind: DriftKind;
  objectType: ObjectType;
  sourceId: string | null;
  targetId: string;
  displayName: string | null;
  /** Edited: old = the target's value, new = the last exported one. */
  attributes: ModifiedAttribute[];
  outcome: DriftOutcome;
  errorCode: string | null;
  errorMessage: string | null;
  /** The provisioning log entry of the repair or re-creation. */
  logId: string | null;
}

export interface DriftFindingRecord extends DriftFinding {
  foundAt: string;
}

type PassRow = typeof reconcilePasses.$inferSelect;

const toPass = (row: PassRow): ReconcilePassRecord => ({
  id: row.id,
  appId: row.appId,
  mode: row.mode,
  status: row.status,
  counts: row.counts,
  error: row.error,
  startedAt: iso(row.startedAt) ?? '',
  finishedAt: iso(row.finishedAt),
});

export class ReconcileRepository {
  constructor(private readonly db: Executor) {}

  async createPass(input: { id: string; appId: string; mode: ReconcileMode }): Promise<ReconcilePassRecord> {
    const [row] = await this.db
      .insert(reconcilePasses)
      .values({ ...input, status: 'running' })
      .returning();
    return toPass(row);
  }

  async getPass(id: string): Promise<ReconcilePassRecord | null> {
    const [row] = await this.db.select().from(reconcilePasses).where(eq(reconcilePasses.id, id));
    return row ? toPass(row) : null;
  }

  /** The app's most recent pass (null: none ran). */
  async latestPass(appId: string): Promise<ReconcilePassRecord | null> {
    const [row] = await this.db
      .select()
      .from(reconcilePasses)
      .where(eq(reconcilePasses.appId, appId))
      .orderBy(desc(reconcilePasses.startedAt), desc(reconcilePasses.id))
      .limit(1);
    return row ? toPass(row) : null;
  }

  /**
   * Marks the app's other passes still `running` as failed: called once a new pass's workflow has
   * started, which proves no earlier one runs (one workflow id per app), so those ended from outside
   * (terminated, timed out) without a chance to say so.
   */
  async failAbandoned(appId: string, exceptId: string): Promise<number> {
    const rows = await this.db
      .update(reconcilePasses)
      .set({
        status: 'failed',
        error: 'The pass ended without finishing (its workflow was terminated or timed out)',
        finishedAt: new Date(),
      })
      .where(
        and(eq(reconcilePasses.appId, appId), eq(reconcilePasses.status, 'running'), ne(reconcilePasses.id, exceptId)),
      )
      .returning({ id: reconcilePasses.id });
    return rows.length;
  }

  async deletePass(id: string): Promise<void> {
    await this.db.delete(reconcilePasses).where(eq(reconcilePasses.id, id));
  }

  async finishPass(id: string, outcome: { counts: Record<string, number> } | { error: string }): Promise<void> {
    await this.db
      .update(reconcilePasses)
      .set(
        'error' in outcome
          ? { status: 'failed', error: outcome.error, finishedAt: new Date() }
          : { status: 'completed', counts: outcome.counts, finishedAt: new Date() },
      )
      .where(eq(reconcilePasses.id, id));
  }

  /** Remembers target objects of a type the pass has read. */
  async markSeen(passId: string, targetIds: readonly string[], objectType: ObjectType = 'user'): Promise<void> {
    if (targetIds.length === 0) return;
    await this.db
      .insert(reconcileSeen)
      .values([...new Set(targetIds)].map((targetId) => ({ passId, objectType, targetId })))
      .onConflictDoNothing();
  }

  /** How many target objects of a type the pass has read. */
  async countSeen(passId: string, objectType: ObjectType = 'user'): Promise<number> {
    const [row] = await query<{ n: number | string }>(
      this.db,
      sql`select count(*) as n from reconcile_seen where pass_id = ${passId} and object_type = ${objectType}`,
    );
    return Number(row?.n ?? 0);
  }

  /**
   * Source ids of the app's linked objects whose account the pass never read, after `afterSourceId`,
   * in source id order. Links changed since the pass began are left out: a cycle may have created
   * their account after the pass read that part of the target.
   */
  async unseenLinks(
    pass: Pick<ReconcilePassRecord, 'id' | 'appId' | 'startedAt'>,
    objectType: ObjectType,
    afterSourceId: string | null,
    limit: number,
  ): Promise<string[]> {
    const rows = await query<{ source_id: string }>(
      this.db,
      sql`select l.source_id from links l
        where l.app_id = ${pass.appId} and l.object_type = ${objectType} and l.target_id is not null
          and l.updated_at < ${pass.startedAt}::timestamptz
          ${afterSourceId === null ? sql`` : sql`and l.source_id > ${afterSourceId}`}
          and not exists (select 1 from reconcile_seen s
            where s.pass_id = ${pass.id} and s.object_type = ${objectType} and s.target_id = l.target_id)
        order by l.source_id
        limit ${limit}`,
    );
    return rows.map((r) => r.source_id);
  }

  /** Records findings; one of the same pass, type and target id replaces the earlier one (a retried page). */
  async recordFindings(findings: readonly DriftFinding[]): Promise<void> {
    if (findings.length === 0) return;
    await this.db
      .insert(driftFindings)
      .values(findings.map((f) => ({ ...f })))
      .onConflictDoUpdate({
        target: [driftFindings.passId, driftFindings.objectType, driftFindings.targetId],
        set: {
          kind: sql`excluded.kind`,
          sourceId: sql`excluded.source_id`,
          displayName: sql`excluded.display_name`,
          attributes: sql`excluded.attributes`,
          outcome: sql`excluded.outcome`,
          errorCode: sql`excluded.error_code`,
          errorMessage: sql`excluded.error_message`,
          logId: sql`excluded.log_id`,
        },
      });
  }

  /**
   * Findings of the pass per kind and per outcome (`edited`, `orphan`, `repaired`, …), users and
   * groups together, and the groups' alone prefixed `group.` (`group.edited`, `group.repaired`, …).
   */
  async countFindings(passId: string): Promise<Record<string, number>> {
    const rows = await query<{ object_type: string; kind: string; outcome: string; n: number | string }>(
      this.db,
      sql`select object_type, kind, outcome, count(*) as n from drift_findings where pass_id = ${passId}
        group by object_type, kind, outcome`,
    );
    const counts: Record<string, number> = {};
    const add = (key: string, n: number) => (counts[key] = (counts[key] ?? 0) + n);
    for (const r of rows) {
      const n = Number(r.n);
      add(r.kind, n);
      add(r.outcome, n);
      if (r.object_type === 'group') {
        add(`group.${r.kind}`, n);
        add(`group.${r.outcome}`, n);
      }
    }
    return counts;
  }

  /** The pass's findings in the order they were found, optionally of one kind and one object type. */
  async findings(
    passId: string,
    options: { kind?: DriftKind; objectType?: ObjectType; cursor?: string | null; limit?: number } = {},
  ): Promise<Page<DriftFindingRecord>> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const after = options.cursor ? Number(decodeCursor(options.cursor)[0]) : null;
    const rows = await this.db
      .select()
      .from(driftFindings)
      .where(
        and(
          eq(driftFindings.passId, passId),
          options.kind ? eq(driftFindings.kind, options.kind) : undefined,
          options.objectType ? eq(driftFindings.objectType, options.objectType) : undefined,
          after === null ? undefined : gt(driftFindings.id, after),
        ),
      )
      .orderBy(asc(driftFindings.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map((row) => ({
        passId: row.passId,
        appId: row.appId,
        kind: row.kind,
        objectType: row.objectType,
        sourceId: row.sourceId,
        targetId: row.targetId,
        displayName: row.displayName,
        attributes: row.attributes as ModifiedAttribute[],
        outcome: row.outcome,
        errorCode: row.errorCode,
        errorMessage: row.errorMessage,
        logId: row.logId,
        foundAt: iso(row.foundAt) ?? '',
      })),
      nextCursor: rows.length > limit ? encodeCursor([page[page.length - 1].id]) : null,
    };
  }
}
