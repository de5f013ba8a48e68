// Retention: what the maintenance run deletes, in batches of at most `limit` rows — each batch one
// statement, so one short transaction that never holds many locks nor blocks a cycle for long.
// Every method is safe to run again (a deleted row is simply not found).
import { sql } from 'drizzle-orm';
import { affectedRows, query, type Executor } from './db.ts';
import { KeyValueRepository } from './key-values.ts';

/** Key-value namespace of deleted apps whose logs are kept (key: app id, value: DeletedAppLogs). */
export const DELETED_APP_LOGS_NAMESPACE = 'retention-deleted-apps';

/** What is remembered of a deleted app whose provisioning logs are kept for their retention period. */
export interface DeletedAppLogs {
  name: string;
  logDays: number;
  deletedAt: string;
}

export class RetentionRepository {
  constructor(private readonly db: Executor) {}

  /**
   * Every app id that has provisioning log entries — also apps deleted since — read by skipping
   * through the (app_id, time, id) index, one seek per app rather than a scan of every entry.
   */
  async logAppIds(): Promise<string[]> {
    const rows = await query<{ id: string }>(
      this.db,
      sql`with recursive ids(id) as (
        (select app_id from provisioning_logs order by app_id limit 1)
        union all
        select (select p.app_id from provisioning_logs p where p.app_id > ids.id order by p.app_id limit 1)
          from ids where ids.id is not null
      )
      select id from ids where id is not null`,
    );
    return rows.map((r) => r.id);
  }

  /**
   * Remembers a deleted app that has log entries, so they are kept for `logDays` and stay readable
   * meanwhile. Returns whether it had any (an app without logs leaves nothing behind).
   */
  async keepLogsOfDeletedApp(appId: string, kept: DeletedAppLogs): Promise<boolean> {
    const any = await query(this.db, sql`select 1 from provisioning_logs where app_id = ${appId} limit 1`);
    if (any.length === 0) return false;
    await new KeyValueRepository(this.db).set(DELETED_APP_LOGS_NAMESPACE, appId, kept);
    return true;
  }

  /** The deleted app whose logs are kept, or null (never deleted, purged, or its logs expired). */
  async deletedAppLogs(appId: string): Promise<DeletedAppLogs | null> {
    return new KeyValueRepository(this.db).get<DeletedAppLogs>(DELETED_APP_LOGS_NAMESPACE, appId);
  }

  /** Deletes every log entry of an app now (`DELETE /apps/{id}?purge=true`), in batches; returns how many. */
  async purgeLogs(appId: string, limit = 5_000): Promise<number> {
    const everything = new Date('9999-12-31T00:00:00Z');
    let deleted = 0;
    for (;;) {
      const n = await this.deleteLogsBefore(appId, everything, limit);
      deleted += n;
      if (n < limit) break;
    }
    await new KeyValueRepository(this.db).delete(DELETED_APP_LOGS_NAMESPACE, appId);
    return deleted;
  }

  /** Deletes up to `limit` log entries of the app older than `before`; returns how many. */
  async deleteLogsBefore(appId: string, before: Date, limit: number): Promise<number> {
    const result = await this.db.execute(sql`
      delete from provisioning_logs where id in (
        select id from provisioning_logs
        where app_id = ${appId} and time < ${before.toISOString()}::timestamptz
        limit ${limit}
      )`);
    return affectedRows(result);
  }

  /**
   * The directory change seq below which no cycle will ever read again: the lowest watermark of all
   * apps and of every running cycle (the one it started from and the one it will save), and never above
   * the latest change (which `latestSeq()` keeps answering). Null when the log is empty.
   */
  async changesCompactionBound(): Promise<number | null> {
    const [row] = await query<{ bound: string | number | null }>(
      this.db,
      sql`select least(
        (select max(seq) from directory_changes),
        (select min(watermark) from apps),
        (select min(least(watermark_from, watermark_to)) from cycles where status = 'running')
      ) as bound`,
    );
    return row?.bound === null || row?.bound === undefined ? null : Number(row.bound);
  }

  /**
   * Deletes up to `limit` directory changes with seq below `bound`, oldest first. A hard delete of an
   * object some app still has a link for stays: it keeps the object's name for the log entry of the
   * cycle that removes the account (`changes.lastKnownNames`).
   */
  async deleteChangesBelow(bound: number, limit: number): Promise<number> {
    const result = await this.db.execute(sql`
      delete from directory_changes where seq in (
        select c.seq from directory_changes c
        where c.seq < ${bound}
          and not (c.op = 'hardDelete' and exists (
            select 1 from apps a join links l
              on l.app_id = a.id and l.object_type = c.object_type and l.source_id = c.object_id
          ))
        order by c.seq
        limit ${limit}
      )`);
    return affectedRows(result);
  }

  /**
   * Deletes up to `limit` rows of the target listings of cycles that ended before `endedBefore`: keys
   * and accounts first, then the listings left empty (so no statement cascades over a whole listing).
   */
  async deleteFinishedTargetListings(endedBefore: Date, limit: number): Promise<number> {
    const ended = sql`select l.cycle_id, l.object_type from cycle_target_listings l join cycles c on c.id = l.cycle_id
      where c.status <> 'running' and c.ended_at < ${endedBefore.toISOString()}::timestamptz`;
    let deleted = 0;
    for (const table of ['cycle_target_keys', 'cycle_target_accounts'] as const) {
      const result = await this.db.execute(sql`
        delete from ${sql.identifier(table)} where ctid in (
          select t.ctid from ${sql.identifier(table)} t join (${ended}) e
            on t.cycle_id = e.cycle_id and t.object_type = e.object_type
          limit ${limit - deleted}
        )`);
      deleted += affectedRows(result);
      if (deleted >= limit) return deleted;
    }
    const heads = await this.db.execute(sql`
      delete from cycle_target_listings l using (${ended}) e
      where l.cycle_id = e.cycle_id and l.object_type = e.object_type
        and not exists (select 1 from cycle_target_keys k where k.cycle_id = l.cycle_id and k.object_type = l.object_type)
        and not exists (select 1 from cycle_target_accounts a where a.cycle_id = l.cycle_id and a.object_type = l.object_type)`);
    return deleted + affectedRows(heads);
  }

  /**
   * Deletes up to `limit` staged work items of cycles that ended before `endedBefore`. Objects held
   * for approval (`staged`, the deletion guard) stay until an admin approves or rejects them.
   */
  async deleteFinishedCycleWork(endedBefore: Date, limit: number): Promise<number> {
    const result = await this.db.execute(sql`
      delete from cycle_work where seq in (
        select w.seq from cycles c join cycle_work w on w.cycle_id = c.id
        where c.status <> 'running' and c.ended_at < ${endedBefore.toISOString()}::timestamptz
          and w.status <> 'staged'
        limit ${limit}
      )`);
    return affectedRows(result);
  }

  /**
   * Deletes up to `limit` webhook events dispatched before `before` that no delivery still waits on;
   * their delivery log rows go with them (on delete cascade).
   */
  async deleteDeliveredWebhookEvents(before: Date, limit: number): Promise<number> {
    const result = await this.db.execute(sql`
      delete from webhook_events where id in (
        select e.id from webhook_events e
        where e.dispatched_at is not null and e.dispatched_at < ${before.toISOString()}::timestamptz
          and not exists (select 1 from webhook_deliveries d where d.event_id = e.id and d.status = 'pending')
        limit ${limit}
      )`);
    return affectedRows(result);
  }
}
