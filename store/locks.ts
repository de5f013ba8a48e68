// Object locks: on-demand provisioning and cycles claim (app, object) before exporting it, so they
// never race on the same object. Locks expire, so a crashed holder blocks for at most its ttl.
import { and, eq, lt, or, sql } from 'drizzle-orm';
import type { ObjectType } from '../engine/types.ts';
import type { Executor } from './db.ts';
import { objectLocks } from './schema.ts';

export interface ObjectLockKey {
  appId: string;
  objectType: ObjectType;
  objectId: string;
}

const keyWhere = (key: ObjectLockKey) =>
  and(
    eq(objectLocks.appId, key.appId),
    eq(objectLocks.objectType, key.objectType),
    eq(objectLocks.objectId, key.objectId),
  );

export class ObjectLockRepository {
  constructor(private readonly db: Executor) {}

  /** Claims the object for `holder` (e.g. a cycle id or on-demand request id); true if it is now held by it. */
  async tryAcquire(key: ObjectLockKey, holder: string, ttlMs: number, now: Date = new Date()): Promise<boolean> {
    const expiresAt = new Date(now.getTime() + ttlMs);
    const rows = await this.db
      .insert(objectLocks)
      .values({ ...key, holder, expiresAt })
      .onConflictDoUpdate({
        target: [objectLocks.appId, objectLocks.objectType, objectLocks.objectId],
        set: { holder, expiresAt },
        setWhere: or(lt(objectLocks.expiresAt, now), eq(objectLocks.holder, holder)),
      })
      .returning({ holder: objectLocks.holder });
    return rows.length === 1;
  }

  async release(key: ObjectLockKey, holder: string): Promise<boolean> {
    const rows = await this.db
      .delete(objectLocks)
      .where(and(keyWhere(key), eq(objectLocks.holder, holder)))
      .returning({ holder: objectLocks.holder });
    return rows.length > 0;
  }

  /** Releases everything a holder has (end of a cycle / on-demand request). */
  async releaseAll(holder: string): Promise<number> {
    const rows = await this.db
      .delete(objectLocks)
      .where(eq(objectLocks.holder, holder))
      .returning({ holder: objectLocks.holder });
    return rows.length;
  }

  /** Current holder, ignoring expired locks. */
  async holderOf(key: ObjectLockKey, now: Date = new Date()): Promise<string | null> {
    const [row] = await this.db
      .select({ holder: objectLocks.holder })
      .from(objectLocks)
      .where(and(keyWhere(key), sql`${objectLocks.expiresAt} >= ${now.toISOString()}::timestamptz`));
    return row?.holder ?? null;
  }
}
