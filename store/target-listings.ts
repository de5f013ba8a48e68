// An initial cycle's listing of the target, kept here instead of in worker memory: the accounts page by
// page, their matching keys, and how far the listing got, so a listing interrupted by a crash or a
// retried activity continues from its last saved page (activities/target-listing.ts drives it).
import { sql } from 'drizzle-orm';
import type { ListedMatch, ListingKey } from '../engine/matching/index.ts';
import type { ObjectType, ScimResource } from '../engine/types.ts';
import { inTransaction, query, type Executor } from './db.ts';

export interface TargetListingProgress {
  /** The next SCIM startIndex to read. */
  nextIndex: number;
  done: boolean;
}

/** One account of a listed page with the keys it is found by. */
export interface ListedAccount {
  resource: ScimResource;
  keys: readonly { attribute: string; key: string }[];
}

export class TargetListingRepository {
  constructor(private readonly db: Executor) {}

  /**
   * How far the cycle's listing of `objectType` got. A listing saved for other matching attributes is
   * dropped (its keys cannot answer) and the listing starts over.
   */
  async start(cycleId: string, objectType: ObjectType, attributes: readonly string[]): Promise<TargetListingProgress> {
    const wanted = JSON.stringify([...attributes]);
    return inTransaction(this.db, async (tx) => {
      await tx.execute(sql`delete from cycle_target_listings
        where cycle_id = ${cycleId} and object_type = ${objectType} and attributes <> ${wanted}::jsonb`);
      await tx.execute(sql`insert into cycle_target_listings (cycle_id, object_type, attributes)
        values (${cycleId}, ${objectType}, ${wanted}::jsonb) on conflict do nothing`);
      const [row] = await query<{ next_index: number; done: boolean }>(
        tx,
        sql`select next_index, done from cycle_target_listings
          where cycle_id = ${cycleId} and object_type = ${objectType}`,
      );
      return { nextIndex: Number(row.next_index), done: row.done };
    });
  }

  /**
   * Saves one page read at `startIndex` and moves the listing on, in one transaction. Accounts already
   * saved (a page read again after a retry) are kept once. The listing is done after an empty page, a
   * page with nothing that earlier pages did not hold (the target ignores startIndex), or the last page.
   */
  async savePage(
    cycleId: string,
    objectType: ObjectType,
    startIndex: number,
    accounts: readonly ListedAccount[],
    totalResults: number,
  ): Promise<TargetListingProgress> {
    return inTransaction(this.db, async (tx) => {
      const ids = accounts.map((a) => a.resource.id as string);
      const earlier = await query<{ target_id: string }>(
        tx,
        sql`select target_id from cycle_target_accounts
          where cycle_id = ${cycleId} and object_type = ${objectType} and first_index < ${startIndex}
            and target_id = any(${sql.param(ids)}::text[])`,
      );
      const fresh = ids.length - new Set(earlier.map((r) => r.target_id)).size;
      if (fresh > 0) {
        await tx.execute(sql`insert into cycle_target_accounts (cycle_id, object_type, target_id, first_index, resource)
          select ${cycleId}, ${objectType}, a.id, ${startIndex}, a.resource
            from jsonb_to_recordset(${JSON.stringify(accounts.map((a) => ({ id: a.resource.id, resource: a.resource })))}::jsonb)
              as a(id text, resource jsonb)
          on conflict do nothing`);
        const keys = accounts.flatMap((a) => a.keys.map((k) => ({ ...k, id: a.resource.id })));
        await tx.execute(sql`insert into cycle_target_keys (cycle_id, object_type, attribute, key, target_id)
          select ${cycleId}, ${objectType}, k.attribute, k.key, k.id
            from jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) as k(attribute text, key text, id text)
          on conflict do nothing`);
      }
      const nextIndex = startIndex + accounts.length;
      const done = accounts.length === 0 || fresh === 0 || nextIndex > totalResults;
      const [row] = await query<{ next_index: number; done: boolean }>(
        tx,
        sql`update cycle_target_listings
          set next_index = greatest(next_index, ${nextIndex}), done = done or ${done}, updated_at = now()
          where cycle_id = ${cycleId} and object_type = ${objectType}
          returning next_index, done`,
      );
      return row ? { nextIndex: Number(row.next_index), done: row.done } : { nextIndex, done };
    });
  }

  /** The listed accounts whose `attribute` has the normalized value `key`, in listing order. */
  async find(cycleId: string, objectType: ObjectType, attribute: string, key: string): Promise<ScimResource[]> {
    const rows = await query<{ resource: ScimResource }>(
      this.db,
      sql`select a.resource from cycle_target_keys k
        join cycle_target_accounts a
          on a.cycle_id = k.cycle_id and a.object_type = k.object_type and a.target_id = k.target_id
        where k.cycle_id = ${cycleId} and k.object_type = ${objectType} and k.attribute = ${attribute} and k.key = ${key}
        order by a.first_index, a.target_id`,
    );
    return rows.map((r) => r.resource);
  }

  /**
   * `find` for many keys in one query: every listed account found under each key, the rows of a key in
   * the order `find` gives them. A key without accounts has no row.
   */
  async findMany(cycleId: string, objectType: ObjectType, keys: readonly ListingKey[]): Promise<ListedMatch[]> {
    if (keys.length === 0) return [];
    const rows = await query<ListedMatch>(
      this.db,
      sql`select q.attribute, q.key, a.resource
        from unnest(${sql.param(keys.map((k) => k.attribute))}::text[], ${sql.param(keys.map((k) => k.key))}::text[])
          as q(attribute, key)
        join cycle_target_keys k
          on k.cycle_id = ${cycleId} and k.object_type = ${objectType} and k.attribute = q.attribute and k.key = q.key
        join cycle_target_accounts a
          on a.cycle_id = k.cycle_id and a.object_type = k.object_type and a.target_id = k.target_id
        order by q.attribute, q.key, a.first_index, a.target_id`,
    );
    return rows;
  }

  /** How many accounts the cycle's listing holds. */
  async count(cycleId: string, objectType: ObjectType): Promise<number> {
    const [row] = await query<{ n: number | string }>(
      this.db,
      sql`select count(*) as n from cycle_target_accounts where cycle_id = ${cycleId} and object_type = ${objectType}`,
    );
    return Number(row.n);
  }
}
