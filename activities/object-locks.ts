// On-demand provisioning must never race a cycle on the same object (DESIGN.md §2). Both claim
// (app, type, object) in the store's lock table before touching the target: a cycle claims a whole
// batch in one statement, on-demand one object; a claim held by the other is waited for.
import { and, eq, sql } from 'drizzle-orm';
import type { ObjectType } from '../engine/types.ts';
import { anyOf, query } from '../store/db.ts';
import type { Store } from '../store/index.ts';
import { objectLocks } from '../store/schema.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Claims every object not held by another holder; returns the ids now held by `holder`. */
export async function tryClaim(
  store: Store,
  appId: string,
  objectType: ObjectType,
  objectIds: readonly string[],
  holder: string,
  ttlMs: number,
): Promise<Set<string>> {
  if (objectIds.length === 0) return new Set();
  const expiresAt = new Date(Date.now() + ttlMs).toISOString();
  // One statement with the ids as ONE array parameter: a VALUES list of 5 parameters per object
  // costs more to build, parse and plan than the claim itself.
  const rows = await query<{ object_id: string }>(
    store.db,
    sql`insert into object_locks (app_id, object_type, object_id, holder, expires_at)
      select ${appId}, ${objectType}, id, ${holder}, ${expiresAt}::timestamptz from unnest(${sql.param([...objectIds])}::text[]) as id
      on conflict (app_id, object_type, object_id) do update set holder = excluded.holder, expires_at = excluded.expires_at
      where object_locks.expires_at < now() or object_locks.holder = excluded.holder
      returning object_id`,
  );
  return new Set(rows.map((r) => r.object_id));
}

/** Claims all of them, waiting (up to `waitMs`) for objects another holder has. Returns the ids it could not get. */
export async function claimAll(
  store: Store,
  appId: string,
  objectType: ObjectType,
  objectIds: readonly string[],
  holder: string,
  options: { ttlMs: number; waitMs: number },
): Promise<string[]> {
  const deadline = Date.now() + options.waitMs;
  let missing = [...objectIds];
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const got = await tryClaim(store, appId, objectType, missing, holder, options.ttlMs);
    missing = missing.filter((id) => !got.has(id));
    if (missing.length === 0 || Date.now() >= deadline) return missing;
    await sleep(delay);
  }
}

export async function releaseClaims(
  store: Store,
  appId: string,
  objectType: ObjectType,
  objectIds: readonly string[],
  holder: string,
): Promise<void> {
  if (objectIds.length === 0) return;
  await store.db
    .delete(objectLocks)
    .where(
      and(
        eq(objectLocks.appId, appId),
        eq(objectLocks.objectType, objectType),
        anyOf(objectLocks.objectId, objectIds),
        eq(objectLocks.holder, holder),
      ),
    );
}
