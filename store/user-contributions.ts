// What each source says about the users it provides (table directory_user_sources), and the
// users' attributes merged from it by attribute precedence (engine/policies/attributePrecedence.ts). Runs
// inside the directory's write transaction (store/directory.ts takes the change-log lock first), so
// two sources importing at once merge one after the other and every written user is one change.
import { and, eq, isNull, sql } from 'drizzle-orm';
import {
  mergeContributions,
  preferredSource,
  SOURCE_ATTRIBUTES,
  type SourceAttributes,
  type SourceRank,
} from '../engine/policies/attributePrecedence.ts';
import type { DirectoryUser } from '../engine/types.ts';
import { recordChanges } from './changes.ts';
import { anyOf, chunk, iso, jsonRows, query, toDate, type Executor } from './db.ts';
import { sources, userContributions, users } from './schema.ts';

export interface ContributionRow {
  userId: string;
  sourceId: string;
  externalId: string | null;
  ref: string | null;
  attributes: SourceAttributes;
}

/** What one source wrote for a user (`attributeSources`: the user's, to tell whether a REST edit replaced a value). */
export interface SourceView {
  ref: string | null;
  attributes: SourceAttributes;
  attributeSources: Record<string, string>;
}

/** JSON with object keys sorted, so values read back from jsonb compare equal to the ones given. */
export function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** The attributes a source gives, without the id and anything that is not a user attribute. */
export function attributesOf(user: Partial<DirectoryUser>): SourceAttributes {
  const out: Record<string, unknown> = {};
  for (const key of SOURCE_ATTRIBUTES) if (user[key] !== undefined) out[key] = user[key];
  return out as SourceAttributes;
}

export async function loadContributions(tx: Executor, userIds: readonly string[]): Promise<ContributionRow[]> {
  const out: ContributionRow[] = [];
  for (const part of chunk([...new Set(userIds)], 5000)) {
    const rows = await tx
      .select({
        userId: userContributions.userId,
        sourceId: userContributions.sourceId,
        externalId: userContributions.externalId,
        ref: userContributions.ref,
        attributes: userContributions.attributes,
      })
      .from(userContributions)
      .where(anyOf(userContributions.userId, part));
    out.push(...rows.map((r) => ({ ...r, attributes: r.attributes as SourceAttributes })));
  }
  return out;
}

/** The precedence settings of the given sources (config `precedence`, `attributePrecedence`). */
async function loadRanks(tx: Executor, sourceIds: readonly string[]): Promise<Map<string, SourceRank>> {
  const rows = await tx
    .select({ id: sources.id, config: sources.config, createdAt: sources.createdAt })
    .from(sources)
    .where(anyOf(sources.id, [...new Set(sourceIds)]));
  return new Map(
    rows.map((r) => [
      r.id,
      {
        sourceId: r.id,
        precedence: typeof r.config.precedence === 'number' ? r.config.precedence : undefined,
        attributePrecedence: (r.config.attributePrecedence ?? undefined) as SourceRank['attributePrecedence'],
        createdAt: r.createdAt.toISOString(),
      },
    ]),
  );
}

const byUser = (rows: readonly ContributionRow[]): Map<string, ContributionRow[]> => {
  const out = new Map<string, ContributionRow[]>();
  for (const row of rows) out.set(row.userId, [...(out.get(row.userId) ?? []), row]);
  return out;
};

type UserRow = typeof users.$inferSelect;

/** A user row's attributes as the merge compares them. */
const sameAttributes = (row: UserRow, user: DirectoryUser): boolean =>
  SOURCE_ATTRIBUTES.every((key) => canonical(row[key]) === canonical(user[key]));

/**
 * Writes each user as its contributions merge: every attribute from the best-ranked source that
 * provides it, the others empty. The owner stays while it still provides the user; otherwise the
 * best-ranked contributor takes it; `claimedBy`, when it provides the user, takes it whoever owned it.
 * A user whose merged state is what it holds is not written (no change logged: a losing source's
 * edits do not make apps re-export anybody). A user nobody provides is left as it is.
 */
export async function writeMerged(
  tx: Executor,
  contributions: ReadonlyMap<string, readonly ContributionRow[]>,
  defaults: Omit<DirectoryUser, 'id' | 'userPrincipalName'>,
  claimedBy?: string,
): Promise<void> {
  const ids = [...contributions.keys()].filter((id) => (contributions.get(id) ?? []).length > 0);
  if (ids.length === 0) return;
  const current = new Map<string, UserRow>();
  for (const part of chunk(ids, 5000))
    for (const row of await tx.select().from(users).where(anyOf(users.id, part))) current.set(row.id, row);
  const ranks = await loadRanks(
    tx,
    ids.flatMap((id) => contributions.get(id)!.map((c) => c.sourceId)),
  );
  const values: Record<string, unknown>[] = [];
  for (const id of ids) {
    const list = contributions.get(id)!;
    const row = current.get(id);
    const merged = mergeContributions(list, ranks);
    const contributors = list.map((c) => c.sourceId);
    const owner =
      claimedBy !== undefined && contributors.includes(claimedBy)
        ? claimedBy
        : row?.sourceId && contributors.includes(row.sourceId)
          ? row.sourceId
          : preferredSource(contributors, ranks)!;
    const ref = list.find((c) => c.sourceId === owner)?.ref ?? null;
    const user = {
      ...defaults,
      ...merged.attributes,
      userPrincipalName: merged.attributes.userPrincipalName ?? row?.userPrincipalName,
      id,
      deletedDateTime: row ? iso(row.deletedDateTime) : null,
    } as DirectoryUser;
    if (
      row &&
      sameAttributes(row, user) &&
      row.sourceId === owner &&
      row.sourceRef === ref &&
      canonical(row.attributeSources) === canonical(merged.attributeSources)
    ) {
      continue;
    }
    values.push({
      ...user,
      deletedDateTime: toDate(user.deletedDateTime),
      updatedAt: new Date(),
      sourceId: owner,
      sourceRef: ref,
      attributeSources: merged.attributeSources,
    });
  }
  if (values.length > 0) await upsertUserRows(tx, values);
}

/** Multi-row upsert of whole user rows with one `upsert` change each. */
async function upsertUserRows(tx: Executor, values: Record<string, unknown>[]): Promise<void> {
  for (const part of chunk(values, 5000)) {
    const rows = jsonRows(users, part);
    const keys = Object.keys(part[0]).filter((k) => k !== 'id');
    const columns = keys.map((k) => (users as unknown as Record<string, { name: string }>)[k].name);
    const set = sql.join(
      columns.map((c) => sql`${sql.identifier(c)} = excluded.${sql.identifier(c)}`),
      sql`, `,
    );
    await tx.execute(sql`
      with written as (
        insert into ${users} (${rows.columns}) ${rows.select}
        on conflict (id) do update set ${set} returning id
      )
      insert into directory_changes (object_type, object_id, op) select 'user', id, 'upsert' from written`);
  }
}

/** Creates or replaces the source's contribution to each user. */
export async function saveContributions(tx: Executor, rows: readonly ContributionRow[]): Promise<void> {
  for (const part of chunk(rows, 5000)) {
    const data = jsonRows(
      userContributions,
      part.map((r) => ({ ...r, updatedAt: new Date() })),
    );
    await tx.execute(sql`
      insert into ${userContributions} (${data.columns}) ${data.select}
      on conflict (user_id, source_id) do update set external_id = excluded.external_id, ref = excluded.ref,
        attributes = excluded.attributes, updated_at = excluded.updated_at`);
  }
}

/**
 * Takes one source's contribution away from users and writes them as the remaining sources say.
 * Only users another source still provides are touched; returns their ids.
 */
export async function withdraw(
  tx: Executor,
  sourceId: string,
  userIds: readonly string[],
  defaults: Omit<DirectoryUser, 'id' | 'userPrincipalName'>,
): Promise<string[]> {
  const all = byUser(await loadContributions(tx, userIds));
  const shared = [...all].filter(
    ([, list]) => list.some((c) => c.sourceId === sourceId) && list.some((c) => c.sourceId !== sourceId),
  );
  if (shared.length === 0) return [];
  const ids = shared.map(([id]) => id);
  for (const part of chunk(ids, 5000)) {
    await tx
      .delete(userContributions)
      .where(and(eq(userContributions.sourceId, sourceId), anyOf(userContributions.userId, part)));
  }
  await writeMerged(
    tx,
    new Map(shared.map(([id, list]) => [id, list.filter((c) => c.sourceId !== sourceId)])),
    defaults,
  );
  return ids;
}

/** Users the source provides that at least one other source provides too. */
export async function sharedUserIds(tx: Executor, sourceId: string): Promise<string[]> {
  const rows = await query<{ user_id: string }>(
    tx,
    sql`select c.user_id from directory_user_sources c
        where c.source_id = ${sourceId}
          and exists (select 1 from directory_user_sources o where o.user_id = c.user_id and o.source_id <> ${sourceId})
        order by c.user_id`,
  );
  return rows.map((r) => r.user_id);
}

/** Rewrites users from their stored contributions (a source's precedence changed). */
export async function remerge(
  tx: Executor,
  userIds: readonly string[],
  defaults: Omit<DirectoryUser, 'id' | 'userPrincipalName'>,
): Promise<void> {
  for (const part of chunk(userIds, 1000)) await writeMerged(tx, byUser(await loadContributions(tx, part)), defaults);
}

/**
 * Soft-deletes a user inside the caller's transaction (the change-log lock held), with its
 * `softDelete` change; false when it was already deleted or is unknown.
 */
export async function softDeleteIn(tx: Executor, id: string): Promise<boolean> {
  const [row] = await tx
    .update(users)
    .set({ deletedDateTime: new Date(), updatedAt: new Date() })
    .where(and(eq(users.id, id), isNull(users.deletedDateTime)))
    .returning({ id: users.id });
  if (!row) return false;
  await recordChanges(tx, [{ objectType: 'user', objectId: id, op: 'softDelete' }]);
  return true;
}

export { byUser };
