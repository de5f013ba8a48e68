// The object lock table: which holder (a cycle, an on-demand request) has claimed which object of an
// app, with the fence of the attempt that claimed it (a number from a sequence that only grows) and
// until when. activities/object-locks.ts builds the waiting and fencing rules on these statements.
import { and, eq, sql } from 'drizzle-orm';
import type { ObjectType } from '../engine/types.ts';
import { anyOf, asyncCommit, preparedQuery, query, type Executor } from './db.ts';
import { onConflictCreateRequested } from './links.ts';
import { objectLocks } from './schema.ts';

/** Who claims: the holder (a cycle, an on-demand request) and the fence of this attempt of it. */
export interface LockHolder {
  name: string;
  fence: number;
}

/** The lock rows of an app's objects of one type that this attempt (holder and fence) holds. */
const ofThisAttempt = (appId: string, objectType: ObjectType, holder: LockHolder) => [
  eq(objectLocks.appId, appId),
  eq(objectLocks.objectType, objectType),
  eq(objectLocks.holder, holder.name),
  eq(objectLocks.fence, holder.fence),
];

export class ObjectLockRepository {
  constructor(private readonly db: Executor) {}

  /** A fence larger than every one handed out before. */
  async nextFence(): Promise<number> {
    const [row] = await query<{ fence: string | number }>(
      this.db,
      sql`select nextval('object_lock_fence_seq') as fence`,
    );
    return Number(row.fence);
  }

  /**
   * Claims every object that is free, expired, or held by an earlier (or this) attempt of the same
   * holder; returns the ids the attempt holds now.
   */
  async claim(
    appId: string,
    objectType: ObjectType,
    objectIds: readonly string[],
    holder: LockHolder,
    expiresAt: Date,
  ): Promise<Set<string>> {
    if (objectIds.length === 0) return new Set();
    // One statement with the ids as ONE array parameter: a VALUES list of 5 parameters per object
    // costs more to build, parse and plan than the claim itself.
    const rows = await query<{ object_id: string }>(
      this.db,
      sql`insert into object_locks (app_id, object_type, object_id, holder, fence, expires_at)
        select ${appId}, ${objectType}, id, ${holder.name}, ${holder.fence}, ${expiresAt.toISOString()}::timestamptz
          from unnest(${sql.param([...objectIds])}::text[]) as id
        on conflict (app_id, object_type, object_id) do update
          set holder = excluded.holder, fence = excluded.fence, expires_at = excluded.expires_at
        where object_locks.expires_at < now()
          or (object_locks.holder = excluded.holder and object_locks.fence <= excluded.fence)
        returning object_id`,
    );
    return new Set(rows.map((r) => r.object_id));
  }

  /** Whether this attempt (holder and fence) still holds its claim on the object. */
  async holds(appId: string, objectType: ObjectType, objectId: string, holder: LockHolder): Promise<boolean> {
    const rows = await this.db
      .select({ fence: objectLocks.fence })
      .from(objectLocks)
      .where(and(...ofThisAttempt(appId, objectType, holder), eq(objectLocks.objectId, objectId)));
    return rows.length > 0;
  }

  /** Of these objects, the ones this attempt (holder and fence) still holds: one query for the whole set. */
  async heldOf(
    appId: string,
    objectType: ObjectType,
    objectIds: readonly string[],
    holder: LockHolder,
  ): Promise<Set<string>> {
    if (objectIds.length === 0) return new Set();
    const rows = await preparedQuery<{ object_id: string }>(
      this.db,
      sql`select object_id from object_locks
        where app_id = ${appId} and object_type = ${objectType} and holder = ${holder.name}
          and fence = ${holder.fence} and object_id = any(${sql.param([...objectIds])}::text[])`,
    );
    return new Set(rows.map((r) => r.object_id));
  }

  /**
   * heldOf, and in the same statement the create intents (links.markCreateRequested) of those of
   * `creating` this attempt still holds: the fencing check and the intent before a POST cost one
   * round trip, and no intent is recorded for an object whose claim was lost (it is not sent).
   */
  async heldOfRecordingCreates(
    appId: string,
    objectType: ObjectType,
    objectIds: readonly string[],
    holder: LockHolder,
    creating: { sourceIds: readonly string[]; at: Date },
  ): Promise<Set<string>> {
    if (creating.sourceIds.length === 0) return this.heldOf(appId, objectType, objectIds, holder);
    const rows = await preparedQuery<{ object_id: string }>(
      this.db,
      sql`with held as (
          select object_id from object_locks
            where app_id = ${appId} and object_type = ${objectType} and holder = ${holder.name}
              and fence = ${holder.fence} and object_id = any(${sql.param([...objectIds])}::text[])
        ), intents as (
          insert into links (app_id, object_type, source_id, active, create_requested_at)
            select ${appId}, ${objectType}, object_id, false, ${creating.at.toISOString()}::timestamptz from held
              where object_id = any(${sql.param([...creating.sourceIds])}::text[]) and ${asyncCommit}
            ${onConflictCreateRequested}
        )
        select object_id from held`,
    );
    return new Set(rows.map((r) => r.object_id));
  }

  /** Gives back this attempt's claims (never those a later attempt took over). */
  async release(
    appId: string,
    objectType: ObjectType,
    objectIds: readonly string[],
    holder: LockHolder,
  ): Promise<void> {
    if (objectIds.length === 0) return;
    await this.db
      .delete(objectLocks)
      .where(and(...ofThisAttempt(appId, objectType, holder), anyOf(objectLocks.objectId, objectIds)));
  }
}
