// The source directory: users, groups, nested memberships. Every write appends to the change log
// in the same transaction (store/changes.ts), which is what incremental cycles read.
import { randomUUID } from 'node:crypto';
import { and, asc, eq, getTableColumns, gt, ilike, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import { MembershipIndexBuilder, type MembershipIndex } from '../engine/scoping/groupClosure.ts';
import type { DirectoryGroup, DirectoryUser, Membership, ObjectType } from '../engine/types.ts';
import { recordChanges, type NewChange } from './changes.ts';
import {
  advisoryXactLock,
  affectedRows,
  anyOf,
  chunk,
  decodeCursor,
  encodeCursor,
  inTransaction,
  iso,
  jsonRows,
  LOCK_DIRECTORY_CHANGES,
  query,
  toDate,
  type Executor,
} from './db.ts';
import { conflict, constraintOf, isUniqueViolation, NestingCycleError, notFound, TakenError } from './errors.ts';
import { mergeMap } from './merge-patch.ts';
import { assignments, groups, memberships, users } from './schema.ts';
import {
  attributesOf,
  byUser,
  loadContributions,
  remerge,
  saveContributions,
  sharedUserIds,
  softDeleteIn,
  withdraw,
  writeMerged,
  type ContributionRow,
} from './user-contributions.ts';

/** A new user: only `userPrincipalName` is required; `id` defaults to a random UUID. */
export type UserInput = Partial<DirectoryUser> & { userPrincipalName: string };
export type UserPatch = Partial<Omit<DirectoryUser, 'id'>>;
export type GroupInput = Partial<DirectoryGroup> & { displayName: string };
export type GroupPatch = Partial<Omit<DirectoryGroup, 'id'>>;

/** `exclude` (default): active and disabled objects; `include`: also soft-deleted; `only`: the recycle bin. */
export type DeletedFilter = 'exclude' | 'include' | 'only';

export interface ListOptions {
  /** Cursor from a previous page's `nextCursor`. */
  cursor?: string | null;
  /** Page size, 1..1000 (default 100). */
  limit?: number;
  deleted?: DeletedFilter;
  /** Only objects whose display name (users: also userPrincipalName or mail) contains this text, case-insensitive. */
  search?: string;
}

/** `%text%` for ILIKE, with the pattern characters of `text` taken literally. */
const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

type UserRow = typeof users.$inferSelect;
type GroupRow = typeof groups.$inferSelect;

const USER_DEFAULTS: Omit<DirectoryUser, 'id' | 'userPrincipalName'> = {
  mail: null,
  mailNickname: null,
  displayName: null,
  givenName: null,
  surname: null,
  accountEnabled: true,
  jobTitle: null,
  department: null,
  companyName: null,
  employeeId: null,
  mobilePhone: null,
  businessPhones: [],
  officeLocation: null,
  city: null,
  country: null,
  managerId: null,
  extensions: {},
  deletedDateTime: null,
};

const GROUP_DEFAULTS: Omit<DirectoryGroup, 'id' | 'displayName'> = {
  mailNickname: null,
  description: null,
  mail: null,
  extensions: {},
  deletedDateTime: null,
};

function toUser(row: UserRow): DirectoryUser {
  return {
    id: row.id,
    userPrincipalName: row.userPrincipalName,
    mail: row.mail,
    mailNickname: row.mailNickname,
    displayName: row.displayName,
    givenName: row.givenName,
    surname: row.surname,
    accountEnabled: row.accountEnabled,
    jobTitle: row.jobTitle,
    department: row.department,
    companyName: row.companyName,
    employeeId: row.employeeId,
    mobilePhone: row.mobilePhone,
    businessPhones: row.businessPhones,
    officeLocation: row.officeLocation,
    city: row.city,
    country: row.country,
    managerId: row.managerId,
    extensions: row.extensions,
    deletedDateTime: iso(row.deletedDateTime),
  };
}

function toGroup(row: GroupRow): DirectoryGroup {
  return {
    id: row.id,
    displayName: row.displayName,
    mailNickname: row.mailNickname,
    description: row.description,
    mail: row.mail,
    extensions: row.extensions,
    deletedDateTime: iso(row.deletedDateTime),
  };
}

function userValues(user: DirectoryUser): typeof users.$inferInsert {
  return { ...user, deletedDateTime: toDate(user.deletedDateTime), updatedAt: new Date() };
}

function groupValues(group: DirectoryGroup): typeof groups.$inferInsert {
  return { ...group, deletedDateTime: toDate(group.deletedDateTime), updatedAt: new Date() };
}

const completeUser = (input: UserInput): DirectoryUser => ({
  ...USER_DEFAULTS,
  ...input,
  id: input.id ?? randomUUID(),
});
const completeGroup = (input: GroupInput): DirectoryGroup => ({
  ...GROUP_DEFAULTS,
  ...input,
  id: input.id ?? randomUUID(),
});

function deletedWhere(
  column: typeof users.deletedDateTime | typeof groups.deletedDateTime,
  deleted: DeletedFilter,
): SQL | undefined {
  if (deleted === 'include') return undefined;
  return deleted === 'only' ? isNotNull(column) : isNull(column);
}

const clampLimit = (limit: number | undefined): number => Math.min(Math.max(Math.trunc(limit ?? 100), 1), 1000);

export class DirectoryRepository {
  constructor(private readonly db: Executor) {}

  /** Runs a directory write: takes the change-log lock first (one lock order, no deadlocks). */
  private write<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    return inTransaction(this.db, async (tx) => {
      await advisoryXactLock(tx, LOCK_DIRECTORY_CHANGES);
      return fn(tx);
    });
  }

  // ---- users ----

  async getUser(id: string): Promise<DirectoryUser | null> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id));
    return row ? toUser(row) : null;
  }

  async getUserByPrincipalName(userPrincipalName: string): Promise<DirectoryUser | null> {
    const [row] = await this.db
      .select()
      .from(users)
      .where(sql`lower(${users.userPrincipalName}) = lower(${userPrincipalName})`);
    return row ? toUser(row) : null;
  }

  /** Users by id, soft-deleted included; missing ids are absent from the result. */
  async getUsers(ids: readonly string[]): Promise<DirectoryUser[]> {
    const out: DirectoryUser[] = [];
    for (const part of chunk([...new Set(ids)], 5000)) {
      const rows = await this.db.select().from(users).where(anyOf(users.id, part));
      out.push(...rows.map(toUser));
    }
    return out;
  }

  async listUsers(options: ListOptions = {}): Promise<Page<DirectoryUser>> {
    const limit = clampLimit(options.limit);
    const after = options.cursor ? String(decodeCursor(options.cursor)[0]) : null;
    const rows = await this.db
      .select()
      .from(users)
      .where(
        and(
          deletedWhere(users.deletedDateTime, options.deleted ?? 'exclude'),
          after === null ? undefined : gt(users.id, after),
          options.search
            ? or(
                ilike(users.displayName, containsPattern(options.search)),
                ilike(users.userPrincipalName, containsPattern(options.search)),
                ilike(users.mail, containsPattern(options.search)),
              )
            : undefined,
        ),
      )
      .orderBy(asc(users.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toUser);
    return { items, nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1].id]) : null };
  }

  async countUsers(deleted: DeletedFilter = 'exclude'): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(users)
      .where(deletedWhere(users.deletedDateTime, deleted));
    return row.n;
  }

  /** Throws ConflictError when the id or the userPrincipalName (case-insensitive) is taken. */
  async createUser(input: UserInput): Promise<DirectoryUser> {
    const user = completeUser(input);
    try {
      return await this.write(async (tx) => {
        const [row] = await tx.insert(users).values(userValues(user)).returning();
        await recordChanges(tx, [{ objectType: 'user', objectId: user.id, op: 'upsert' }]);
        return toUser(row);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw await this.userTaken(input, error);
      throw error;
    }
  }

  /** The conflict of a user write, naming the existing user that holds the id or userPrincipalName. */
  private async userTaken(input: { id?: string; userPrincipalName?: string }, cause: unknown): Promise<Error> {
    const byId = input.id === undefined ? null : await this.getUser(input.id);
    if (byId) return new TakenError(`User ${byId.id} already exists.`, 'id', `user ${byId.id}`, cause);
    const byName =
      input.userPrincipalName === undefined ? null : await this.getUserByPrincipalName(input.userPrincipalName);
    if (byName) {
      return new TakenError(
        `userPrincipalName ${input.userPrincipalName} is taken by user ${byName.id} (${byName.userPrincipalName}).`,
        'userPrincipalName',
        `user ${byName.id}`,
        cause,
      );
    }
    // The holder went away between the write and this look-up: retrying may succeed.
    return conflict(`The id or userPrincipalName ${input.userPrincipalName ?? ''} was taken; retry.`, cause);
  }

  /** Replaces every attribute (PUT semantics; omitted attributes become null/empty). */
  async replaceUser(id: string, input: Omit<UserInput, 'id'>): Promise<DirectoryUser> {
    const existing = await this.getUser(id);
    if (!existing) throw notFound('User', id);
    return this.updateUser(id, { ...USER_DEFAULTS, deletedDateTime: existing.deletedDateTime, ...input }, 'replace');
  }

  /**
   * Changes only the attributes given (PATCH semantics). `extensions` is a JSON merge patch
   * (RFC 7396): a key set to null is removed, keys not named are kept.
   */
  async patchUser(id: string, patch: UserPatch): Promise<DirectoryUser> {
    return this.updateUser(id, patch, 'merge');
  }

  private async updateUser(id: string, patch: UserPatch, extensions: 'merge' | 'replace'): Promise<DirectoryUser> {
    const { deletedDateTime, ...rest } = patch;
    const values: Partial<typeof users.$inferInsert> = { ...rest, updatedAt: new Date() };
    if (deletedDateTime !== undefined) values.deletedDateTime = toDate(deletedDateTime);
    // A value written through the API is no source's: attributeSources stops naming one for it, and
    // the next import of a source that provides it writes the source's value again.
    const set = Object.keys(rest).filter((k) => k !== 'updatedAt');
    if (set.length > 0) {
      (values as Record<string, unknown>).attributeSources = sql`${users.attributeSources} - ${sql.param(set)}::text[]`;
    }
    try {
      return await this.write(async (tx) => {
        if (patch.extensions !== undefined && extensions === 'merge') {
          // Read under the directory write lock: concurrent patches of other keys are not lost.
          const [current] = await tx.select({ extensions: users.extensions }).from(users).where(eq(users.id, id));
          if (!current) throw notFound('User', id);
          values.extensions = mergeMap(current.extensions, patch.extensions);
        }
        const [row] = await tx.update(users).set(values).where(eq(users.id, id)).returning();
        if (!row) throw notFound('User', id);
        await recordChanges(tx, [{ objectType: 'user', objectId: id, op: 'upsert' }]);
        return toUser(row);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw await this.userTaken({ userPrincipalName: patch.userPrincipalName }, error);
      throw error;
    }
  }

  /** Moves the user to the recycle bin (sets deletedDateTime). Already deleted: unchanged, no change appended. */
  async softDeleteUser(id: string, at: Date = new Date()): Promise<DirectoryUser> {
    return this.write(async (tx) => {
      const [row] = await tx
        .update(users)
        .set({ deletedDateTime: at, updatedAt: new Date() })
        .where(and(eq(users.id, id), isNull(users.deletedDateTime)))
        .returning();
      if (row) {
        await recordChanges(tx, [{ objectType: 'user', objectId: id, op: 'softDelete' }]);
        return toUser(row);
      }
      const existing = await new DirectoryRepository(tx).getUser(id);
      if (!existing) throw notFound('User', id);
      return existing;
    });
  }

  /**
   * Takes the user out of the recycle bin. Not deleted: unchanged, no change appended (a change would
   * make the next incremental cycle re-stage it for nothing). Unknown id: NotFoundError.
   */
  async restoreUser(id: string): Promise<DirectoryUser> {
    return this.write(async (tx) => {
      const [row] = await tx
        .update(users)
        .set({ deletedDateTime: null, updatedAt: new Date() })
        .where(and(eq(users.id, id), isNotNull(users.deletedDateTime)))
        .returning();
      if (row) {
        await recordChanges(tx, [{ objectType: 'user', objectId: id, op: 'restore' }]);
        return toUser(row);
      }
      const existing = await new DirectoryRepository(tx).getUser(id);
      if (!existing) throw notFound('User', id);
      return existing;
    });
  }

  /**
   * Removes the user for good, with its memberships and assignments (each removal is a change too).
   * Its reports lose their manager (an `upsert` change each), so the next cycle removes the manager
   * at the targets instead of leaving a reference to a deleted account.
   */
  async hardDeleteUser(id: string): Promise<void> {
    await this.write(async (tx) => {
      const [row] = await tx
        .delete(users)
        .where(eq(users.id, id))
        .returning({ id: users.id, displayName: users.displayName, userPrincipalName: users.userPrincipalName });
      if (!row) throw notFound('User', id);
      const reports = await tx
        .update(users)
        .set({ managerId: null, updatedAt: new Date() })
        .where(eq(users.managerId, id))
        .returning({ id: users.id });
      await recordChanges(tx, [
        ...(await detachPrincipal(tx, id)),
        ...reports.map((r): NewChange => ({ objectType: 'user', objectId: r.id, op: 'upsert' })),
        // The log of the cycle that sees the deletion still names the user.
        {
          objectType: 'user',
          objectId: id,
          op: 'hardDelete',
          detail: { displayName: row.displayName ?? row.userPrincipalName },
        },
      ]);
    });
  }

  /**
   * Creates or replaces users in multi-row chunks (imports, benchmarks), one change each.
   * Runs in one transaction: a conflicting userPrincipalName fails the whole call.
   */
  async bulkUpsertUsers(inputs: readonly UserInput[], chunkSize = 5000): Promise<number> {
    const all = inputs.map(completeUser);
    await this.write(async (tx) => {
      for (const part of chunk(all, chunkSize)) await bulkUpsert(tx, users, 'user', part.map(userValues));
    });
    return all.length;
  }

  /**
   * Writes what a source says about users (imports, SCIM inbound): the source's contribution to
   * each user is replaced, and the user is written as all its sources' contributions merge by
   * attribute precedence (store/user-contributions.ts). A new user, or one no source provided, is
   * owned by this source; `ref` is the row's reference there (an LDAP DN, a CSV key, a SCIM
   * externalId or null), `externalId` its stable id when the directory id does not say it (a row
   * joined to another source's user). One transaction: a taken userPrincipalName fails the call
   * with a TakenError naming the value and its holder (never the statement or the rows' values).
   * `reclaim`: this source owns the users from now on, whoever owned them (SCIM inbound taking back a
   * user it made, withdrew and another source kept).
   */
  async upsertSourceUsers(
    sourceId: string,
    items: readonly { ref: string | null; externalId?: string | null; user: UserInput }[],
    options: { reclaim?: boolean } = {},
  ): Promise<void> {
    if (items.length === 0) return;
    const mine = items.map(({ ref, externalId, user }): ContributionRow => ({
      userId: user.id ?? randomUUID(),
      sourceId,
      externalId: externalId ?? null,
      ref,
      attributes: attributesOf(user),
    }));
    try {
      await this.write(async (tx) => {
        const others = byUser(
          (
            await loadContributions(
              tx,
              mine.map((c) => c.userId),
            )
          ).filter((c) => c.sourceId !== sourceId),
        );
        const merged = new Map(mine.map((c) => [c.userId, [...(others.get(c.userId) ?? []), c]]));
        await writeMerged(tx, merged, USER_DEFAULTS, options.reclaim ? sourceId : undefined);
        await saveContributions(tx, mine);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw await this.sourceUserTaken(mine, error);
      throw error;
    }
  }

  /**
   * The conflict of a source write: the first userPrincipalName given that another user holds (in
   * the directory, or another row of the same write), naming the value and the holder only.
   */
  private async sourceUserTaken(rows: readonly ContributionRow[], cause: unknown): Promise<Error> {
    const named = constraintOf(cause);
    if (named !== undefined && named !== 'directory_users_upn_key') {
      return conflict('The users could not be written: a unique value is taken by another directory object.', cause);
    }
    const given = rows.flatMap((row) => {
      const upn = row.attributes.userPrincipalName;
      return typeof upn === 'string' ? [{ userId: row.userId, upn, key: upn.toLowerCase() }] : [];
    });
    const holders = new Map<string, string[]>();
    const add = (key: string, id: string) => holders.set(key, [...(holders.get(key) ?? []), id]);
    for (const { userId, key } of given) add(key, userId);
    if (given.length > 0) {
      const found = await this.db
        .select({ id: users.id, upn: users.userPrincipalName })
        .from(users)
        .where(sql`lower(${users.userPrincipalName}) = any(${sql.param(given.map((g) => g.key))}::text[])`);
      for (const row of found) add(row.upn.toLowerCase(), row.id);
    }
    for (const { userId, upn, key } of given) {
      const other = holders.get(key)?.find((id) => id !== userId);
      if (other !== undefined) {
        return new TakenError(
          `userPrincipalName ${upn} is already used by another directory user (${other}).`,
          'userPrincipalName',
          `user ${other}`,
          cause,
        );
      }
    }
    // The holder went away between the write and this look-up (or the merged value was another source's).
    return conflict('A userPrincipalName of these users is already used by another directory user; retry.', cause);
  }

  /** Changes attributes of one source's contribution to a user (a manager imported after its report) and rewrites it. */
  async patchSourceUser(sourceId: string, userId: string, patch: Partial<DirectoryUser>): Promise<void> {
    await this.patchSourceUsers(sourceId, [{ userId, patch }]);
  }

  /**
   * patchSourceUser for many users in one transaction (an import's managers that came after their
   * reports): users the source does not provide are left alone; a user named twice gets both patches.
   */
  async patchSourceUsers(
    sourceId: string,
    items: readonly { userId: string; patch: Partial<DirectoryUser> }[],
  ): Promise<void> {
    if (items.length === 0) return;
    await this.write(async (tx) => {
      const all = byUser(
        await loadContributions(
          tx,
          items.map((i) => i.userId),
        ),
      );
      const changed = new Map<string, ContributionRow>();
      for (const { userId, patch } of items) {
        const own = changed.get(userId) ?? all.get(userId)?.find((c) => c.sourceId === sourceId);
        if (own) changed.set(userId, { ...own, attributes: { ...own.attributes, ...attributesOf(patch) } });
      }
      const merged = new Map(
        [...changed].map(([userId, own]) => [userId, all.get(userId)!.map((c) => (c.sourceId === sourceId ? own : c))]),
      );
      await writeMerged(tx, merged, USER_DEFAULTS);
      await saveContributions(tx, [...changed.values()]);
    });
  }

  /**
   * A source no longer provides a user (its row is gone, or it deleted the user over SCIM). Another
   * source still provides it: the source's contribution is dropped and the user written as the
   * others say (`withdrawn`; ownership moves to the best-ranked of them if this source owned it).
   * Nobody else does: the user is soft-deleted (`deleted`). Already deleted, or not this source's: `none`.
   */
  async withdrawSourceUser(sourceId: string, userId: string): Promise<'deleted' | 'withdrawn' | 'none'> {
    return this.write(async (tx) => {
      const [row] = await tx
        .select({ sourceId: users.sourceId, deletedDateTime: users.deletedDateTime })
        .from(users)
        .where(eq(users.id, userId));
      if (!row || row.deletedDateTime !== null) return 'none';
      const contributions = await loadContributions(tx, [userId]);
      const provides = row.sourceId === sourceId || contributions.some((c) => c.sourceId === sourceId);
      if (!provides) return 'none';
      if ((await withdraw(tx, sourceId, [userId], USER_DEFAULTS)).length > 0) return 'withdrawn';
      return (await softDeleteIn(tx, userId)) ? 'deleted' : 'none';
    });
  }

  /**
   * Before a source is deleted: the users another source also provides lose its contribution and
   * are written as the others say (what it won goes to the next source); the users only it
   * provided keep their attributes (they become API-owned). Returns the ids rewritten.
   */
  async withdrawSource(sourceId: string): Promise<string[]> {
    return this.write(async (tx) => withdraw(tx, sourceId, await sharedUserIds(tx, sourceId), USER_DEFAULTS));
  }

  /** Rewrites the users this source shares with others (its precedence settings changed). */
  async remergeSource(sourceId: string): Promise<void> {
    await this.write(async (tx) => remerge(tx, await sharedUserIds(tx, sourceId), USER_DEFAULTS));
  }

  /**
   * Where a user's attributes come from: its owner (null: the API), which source won each
   * attribute at the last source write (a REST edit since removes the attribute), and every source
   * that provides the user.
   */
  async provenance(
    userId: string,
  ): Promise<{ sourceId: string | null; attributeSources: Record<string, string>; sources: string[] } | null> {
    const [row] = await this.db
      .select({ sourceId: users.sourceId, attributeSources: users.attributeSources })
      .from(users)
      .where(eq(users.id, userId));
    if (!row) return null;
    const contributions = await loadContributions(this.db, [userId]);
    return { ...row, sources: contributions.map((c) => c.sourceId).sort() };
  }

  // ---- groups ----

  async getGroup(id: string): Promise<DirectoryGroup | null> {
    const [row] = await this.db.select().from(groups).where(eq(groups.id, id));
    return row ? toGroup(row) : null;
  }

  /** Creates or replaces groups owned by a source (one change each), as upsertSourceUsers. */
  async upsertSourceGroups(
    sourceId: string,
    items: readonly { ref: string | null; group: GroupInput }[],
  ): Promise<void> {
    if (items.length === 0) return;
    const values = items.map(({ ref, group }) => ({ ...groupValues(completeGroup(group)), sourceId, sourceRef: ref }));
    await this.write((tx) => bulkUpsert(tx, groups, 'group', values));
  }

  async getGroups(ids: readonly string[]): Promise<DirectoryGroup[]> {
    const out: DirectoryGroup[] = [];
    for (const part of chunk([...new Set(ids)], 5000)) {
      const rows = await this.db.select().from(groups).where(anyOf(groups.id, part));
      out.push(...rows.map(toGroup));
    }
    return out;
  }

  async listGroups(options: ListOptions = {}): Promise<Page<DirectoryGroup>> {
    const limit = clampLimit(options.limit);
    const after = options.cursor ? String(decodeCursor(options.cursor)[0]) : null;
    const rows = await this.db
      .select()
      .from(groups)
      .where(
        and(
          deletedWhere(groups.deletedDateTime, options.deleted ?? 'exclude'),
          after === null ? undefined : gt(groups.id, after),
          options.search ? ilike(groups.displayName, containsPattern(options.search)) : undefined,
        ),
      )
      .orderBy(asc(groups.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toGroup);
    return { items, nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1].id]) : null };
  }

  async createGroup(input: GroupInput): Promise<DirectoryGroup> {
    const group = completeGroup(input);
    try {
      return await this.write(async (tx) => {
        const [row] = await tx.insert(groups).values(groupValues(group)).returning();
        await recordChanges(tx, [{ objectType: 'group', objectId: group.id, op: 'upsert' }]);
        return toGroup(row);
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        const holder = await this.getGroup(group.id);
        if (!holder) throw conflict(`The group id ${group.id} was taken; retry.`, error);
        const named = `group ${holder.id} (${holder.displayName})`;
        throw new TakenError(`A ${named} already exists.`, 'id', named, error);
      }
      throw error;
    }
  }

  async replaceGroup(id: string, input: Omit<GroupInput, 'id'>): Promise<DirectoryGroup> {
    const existing = await this.getGroup(id);
    if (!existing) throw notFound('Group', id);
    return this.updateGroup(id, { ...GROUP_DEFAULTS, deletedDateTime: existing.deletedDateTime, ...input }, 'replace');
  }

  /** Changes only the attributes given; `extensions` is a JSON merge patch (RFC 7396), as for users. */
  async patchGroup(id: string, patch: GroupPatch): Promise<DirectoryGroup> {
    return this.updateGroup(id, patch, 'merge');
  }

  private async updateGroup(id: string, patch: GroupPatch, extensions: 'merge' | 'replace'): Promise<DirectoryGroup> {
    const { deletedDateTime, ...rest } = patch;
    const values: Partial<typeof groups.$inferInsert> = { ...rest, updatedAt: new Date() };
    if (deletedDateTime !== undefined) values.deletedDateTime = toDate(deletedDateTime);
    return this.write(async (tx) => {
      if (patch.extensions !== undefined && extensions === 'merge') {
        const [current] = await tx.select({ extensions: groups.extensions }).from(groups).where(eq(groups.id, id));
        if (!current) throw notFound('Group', id);
        values.extensions = mergeMap(current.extensions, patch.extensions);
      }
      const [row] = await tx.update(groups).set(values).where(eq(groups.id, id)).returning();
      if (!row) throw notFound('Group', id);
      await recordChanges(tx, [{ objectType: 'group', objectId: id, op: 'upsert' }]);
      return toGroup(row);
    });
  }

  async softDeleteGroup(id: string, at: Date = new Date()): Promise<DirectoryGroup> {
    return this.write(async (tx) => {
      const [row] = await tx
        .update(groups)
        .set({ deletedDateTime: at, updatedAt: new Date() })
        .where(and(eq(groups.id, id), isNull(groups.deletedDateTime)))
        .returning();
      if (row) {
        await recordChanges(tx, [{ objectType: 'group', objectId: id, op: 'softDelete' }]);
        return toGroup(row);
      }
      const existing = await new DirectoryRepository(tx).getGroup(id);
      if (!existing) throw notFound('Group', id);
      return existing;
    });
  }

  /**
   * Takes the group out of the recycle bin. Not deleted: unchanged, no change appended (a change would
   * make the next incremental cycle re-stage it for nothing). Unknown id: NotFoundError.
   */
  async restoreGroup(id: string): Promise<DirectoryGroup> {
    return this.write(async (tx) => {
      const [row] = await tx
        .update(groups)
        .set({ deletedDateTime: null, updatedAt: new Date() })
        .where(and(eq(groups.id, id), isNotNull(groups.deletedDateTime)))
        .returning();
      if (row) {
        await recordChanges(tx, [{ objectType: 'group', objectId: id, op: 'restore' }]);
        return toGroup(row);
      }
      const existing = await new DirectoryRepository(tx).getGroup(id);
      if (!existing) throw notFound('Group', id);
      return existing;
    });
  }

  /** Removes the group, its own members list, its place in parent groups and its assignments. */
  async hardDeleteGroup(id: string): Promise<void> {
    await this.write(async (tx) => {
      const existing = await new DirectoryRepository(tx).getGroup(id);
      if (!existing) throw notFound('Group', id);
      const members = await tx.delete(memberships).where(eq(memberships.groupId, id)).returning();
      const detached = await detachPrincipal(tx, id);
      await tx.delete(groups).where(eq(groups.id, id));
      await recordChanges(tx, [
        ...members.map((m) => memberChange('memberRemove', m)),
        ...detached,
        { objectType: 'group', objectId: id, op: 'hardDelete', detail: { displayName: existing.displayName } },
      ]);
    });
  }

  async bulkUpsertGroups(inputs: readonly GroupInput[], chunkSize = 5000): Promise<number> {
    const all = inputs.map(completeGroup);
    await this.write(async (tx) => {
      for (const part of chunk(all, chunkSize)) await bulkUpsert(tx, groups, 'group', part.map(groupValues));
    });
    return all.length;
  }

  // ---- memberships ----

  /**
   * Adds a user or group (found by id) to a group. Nesting is allowed, cycles are not
   * (NestingCycleError naming the cycle; checked under the directory write lock, so two writers
   * cannot close a cycle from both ends). Returns false when it was already a member (nothing appended).
   */
  async addMember(groupId: string, memberId: string): Promise<boolean> {
    return this.write(async (tx) => {
      const repo = new DirectoryRepository(tx);
      if (!(await repo.getGroup(groupId))) throw notFound('Group', groupId);
      const memberType = await repo.objectTypeOf(memberId);
      if (!memberType) throw notFound('Directory object', memberId);
      if (memberType === 'group') {
        const cycle = nestingCycle(await nestingGraph(tx), groupId, memberId);
        if (cycle) throw new NestingCycleError(cycle);
      }
      const inserted = await tx
        .insert(memberships)
        .values({ groupId, memberId, memberType })
        .onConflictDoNothing()
        .returning();
      if (inserted.length === 0) return false;
      await recordChanges(tx, [memberChange('memberAdd', { groupId, memberId, memberType })]);
      return true;
    });
  }

  /**
   * Adds many memberships (imports, benchmarks); member types must be given. Returns how many were
   * new. One that would make the nesting cyclic fails the whole call (NestingCycleError).
   */
  async bulkAddMembers(items: readonly Membership[], chunkSize = 10_000): Promise<number> {
    return this.write(async (tx) => {
      const { accepted, refused } = await refuseCycles(tx, items);
      if (refused.length > 0) throw new NestingCycleError(refused[0].cycle);
      return insertMembers(tx, accepted, chunkSize);
    });
  }

  /**
   * Adds the memberships that keep the nesting acyclic (in order: an earlier row wins) and
   * returns the refused ones by their index in `items`, each with the cycle it would close.
   */
  async importMembers(
    items: readonly Membership[],
    chunkSize = 10_000,
  ): Promise<{ added: number; refused: { index: number; cycle: string[] }[] }> {
    return this.write(async (tx) => {
      const { accepted, refused } = await refuseCycles(tx, items);
      return { added: await insertMembers(tx, accepted, chunkSize), refused };
    });
  }

  /** Returns false when it was not a member. */
  async removeMember(groupId: string, memberId: string): Promise<boolean> {
    return this.write(async (tx) => {
      const removed = await tx
        .delete(memberships)
        .where(and(eq(memberships.groupId, groupId), eq(memberships.memberId, memberId)))
        .returning();
      if (removed.length === 0) return false;
      await recordChanges(
        tx,
        removed.map((m) => memberChange('memberRemove', m)),
      );
      return true;
    });
  }

  /**
   * Removes many memberships in one transaction (an import reconciling a page of groups), with a
   * `memberRemove` change each, appended in the order given; ones that are not there are skipped.
   * Returns how many were removed.
   */
  async removeMembers(items: readonly { groupId: string; memberId: string }[]): Promise<number> {
    if (items.length === 0) return 0;
    return this.write(async (tx) => {
      let removed = 0;
      for (const part of chunk(items, 10_000)) {
        const gone = await query<{ group_id: string; member_id: string; member_type: ObjectType }>(
          tx,
          sql`delete from directory_memberships m
              using unnest(${sql.param(part.map((i) => i.groupId))}::text[], ${sql.param(part.map((i) => i.memberId))}::text[])
                as d(group_id, member_id)
              where m.group_id = d.group_id and m.member_id = d.member_id
              returning m.group_id, m.member_id, m.member_type`,
        );
        const typeOf = new Map(gone.map((g) => [`${g.group_id}\n${g.member_id}`, g.member_type]));
        const changes: NewChange[] = [];
        for (const { groupId, memberId } of part) {
          const key = `${groupId}\n${memberId}`;
          const memberType = typeOf.get(key);
          if (memberType === undefined) continue;
          typeOf.delete(key); // named twice: removed (and logged) once
          changes.push(memberChange('memberRemove', { groupId, memberId, memberType }));
        }
        await recordChanges(tx, changes);
        removed += changes.length;
      }
      return removed;
    });
  }

  /** Whether an id is a user or a group (null when neither). */
  async objectTypeOf(id: string): Promise<ObjectType | null> {
    const [row] = await query<{ t: ObjectType }>(
      this.db,
      sql`select 'user' as t from directory_users where id = ${id} union all select 'group' from directory_groups where id = ${id} limit 1`,
    );
    return row?.t ?? null;
  }

  /**
   * The memberships an app's scope needs, for its cycle's scoping and group flattening. Scope `all`:
   * every membership. Scope `assigned`: only those of the groups assigned to the app and the groups
   * nested below them — the only paths through which an object can be in that app's scope — so a
   * cycle of one app does not hold the memberships of the whole organisation.
   */
  async membershipsForScope(appId: string, scope: 'all' | 'assigned'): Promise<Membership[]> {
    if (scope === 'all') {
      return this.db
        .select({ groupId: memberships.groupId, memberId: memberships.memberId, memberType: memberships.memberType })
        .from(memberships);
    }
    const rows = await query<MembershipRow>(this.db, membershipsInScope(appId));
    return rows.map(membershipOf);
  }

  /**
   * What `membershipsForScope` answers, handed to `onPage` a page at a time: one query read through a
   * cursor in a transaction, so the pages are one snapshot as a single read is, and the caller holds a
   * page of rows at a time besides what it builds from them, not a million. Returns the count.
   */
  async forEachMembershipPage(
    appId: string,
    scope: 'all' | 'assigned',
    onPage: (page: Membership[]) => void,
    pageSize = 20_000,
  ): Promise<number> {
    const statement =
      scope === 'all'
        ? sql`select group_id, member_id, member_type from directory_memberships`
        : membershipsInScope(appId);
    return inTransaction(this.db, async (tx) => {
      await tx.execute(sql`declare ferry_memberships no scroll cursor for ${statement}`);
      let total = 0;
      for (;;) {
        const rows = await query<MembershipRow>(
          tx,
          sql`fetch forward ${sql.raw(String(pageSize))} from ferry_memberships`,
        );
        if (rows.length > 0) onPage(rows.map(membershipOf));
        total += rows.length;
        if (rows.length < pageSize) break;
      }
      await tx.execute(sql`close ferry_memberships`);
      return total;
    });
  }

  /**
   * The memberships an app's scope needs as an index for scoping and group flattening, read a page
   * at a time (`forEachMembershipPage`): the only way the product loads memberships in bulk.
   */
  async membershipIndex(appId: string, scope: 'all' | 'assigned'): Promise<MembershipIndex> {
    const builder = new MembershipIndexBuilder();
    await this.forEachMembershipPage(appId, scope, (page) => {
      for (const membership of page) builder.add(membership);
    });
    return builder.build();
  }

  /**
   * The part of `membershipIndex` that walks starting at a few objects need, read with one query:
   * the memberships above `up` (the groups they are in, at any depth) and below `down` (the members
   * of those groups, nested groups followed), within the app's scope. Walking up from an id of `up`,
   * or down from a group of `down`, answers as the whole index would (on-demand provisioning of one
   * object, where loading a million memberships per request would not do).
   */
  async membershipIndexAround(
    appId: string,
    scope: 'all' | 'assigned',
    around: { up: readonly string[]; down: readonly string[] },
  ): Promise<MembershipIndex> {
    const inScope = scope === 'all' ? sql`true` : sql`m.group_id in (${groupsInScope(appId)})`;
    const rows = await query<MembershipRow>(
      this.db,
      sql`with recursive
            up(id) as (
              select unnest(${sql.param([...around.up])}::text[])
              union
              select n.group_id from directory_memberships n join up on n.member_id = up.id
            ),
            down(id) as (
              select unnest(${sql.param([...around.down])}::text[])
              union
              select n.member_id from directory_memberships n join down on n.group_id = down.id
                where n.member_type = 'group'
            )
          select m.group_id, m.member_id, m.member_type from directory_memberships m
            where (m.member_id in (select id from up) or m.group_id in (select id from down)) and ${inScope}`,
    );
    const builder = new MembershipIndexBuilder();
    for (const row of rows) builder.add(membershipOf(row));
    return builder.build();
  }

  /** Direct members of a group. */
  async membersOf(groupId: string): Promise<Membership[]> {
    const rows = await this.db
      .select()
      .from(memberships)
      .where(eq(memberships.groupId, groupId))
      .orderBy(asc(memberships.memberId));
    return rows.map((r) => ({ groupId: r.groupId, memberId: r.memberId, memberType: r.memberType }));
  }

  /** Direct members of many groups (one query), by group id; a group without members is absent. */
  async membersOfGroups(groupIds: readonly string[]): Promise<Map<string, Membership[]>> {
    const out = new Map<string, Membership[]>();
    for (const part of chunk([...new Set(groupIds)], 5000)) {
      const rows = await this.db
        .select()
        .from(memberships)
        .where(anyOf(memberships.groupId, part))
        .orderBy(asc(memberships.groupId), asc(memberships.memberId));
      for (const r of rows) {
        const m: Membership = { groupId: r.groupId, memberId: r.memberId, memberType: r.memberType };
        const list = out.get(r.groupId);
        if (list) list.push(m);
        else out.set(r.groupId, [m]);
      }
    }
    return out;
  }

  /**
   * A page of a group's members with their display names, in member id order after `after`.
   * `transitive`: every member reached through nested groups (cycles tolerated), each once, as
   * apps receive them flattened; otherwise direct members only. `groupId` of each item is the group
   * asked about. A member whose object is gone has a null display name.
   */
  async memberPage(
    groupId: string,
    options: { transitive?: boolean; after?: string; limit: number },
  ): Promise<(Membership & { displayName: string | null })[]> {
    const { transitive = false, after = null, limit } = options;
    const members = transitive
      ? sql`with recursive sub(member_id, member_type) as (
              select member_id, member_type from directory_memberships where group_id = ${groupId}
              union
              select m.member_id, m.member_type from directory_memberships m
                join sub s on s.member_type = 'group' and m.group_id = s.member_id
            )
            select member_id, member_type from sub`
      : sql`select member_id, member_type from directory_memberships where group_id = ${groupId}`;
    const rows = await query<{ member_id: string; member_type: ObjectType; display_name: string | null }>(
      this.db,
      sql`select m.member_id, m.member_type, coalesce(u.display_name, g.display_name) as display_name
          from (${members}) m
          left join directory_users u on m.member_type = 'user' and u.id = m.member_id
          left join directory_groups g on m.member_type = 'group' and g.id = m.member_id
          where ${after}::text is null or m.member_id > ${after}::text
          order by m.member_id
          limit ${limit}`,
    );
    return rows.map((r) => ({
      groupId,
      memberId: r.member_id,
      memberType: r.member_type,
      displayName: r.display_name,
    }));
  }

  /**
   * Every member reached through nested groups (cycles tolerated), each once. `type` narrows the
   * result, e.g. `'user'` gives the flattened user members Ferry sends to targets.
   */
  async transitiveMembersOf(
    groupId: string,
    type?: ObjectType,
  ): Promise<{ memberId: string; memberType: ObjectType }[]> {
    const rows = await query<{ member_id: string; member_type: ObjectType }>(
      this.db,
      sql`with recursive sub(member_id, member_type) as (
            select member_id, member_type from directory_memberships where group_id = ${groupId}
            union
            select m.member_id, m.member_type from directory_memberships m
              join sub s on s.member_type = 'group' and m.group_id = s.member_id
          )
          select member_id, member_type from sub
          where ${type ?? null}::text is null or member_type = ${type ?? null}::text
          order by member_id`,
    );
    return rows.map((r) => ({ memberId: r.member_id, memberType: r.member_type }));
  }

  /** Groups a user or group is a direct member of. */
  async groupsOf(memberId: string): Promise<string[]> {
    const rows = await this.db
      .select({ id: memberships.groupId })
      .from(memberships)
      .where(eq(memberships.memberId, memberId))
      .orderBy(asc(memberships.groupId));
    return rows.map((r) => r.id);
  }

  /** Groups a user belongs to, directly or (with `transitive`, the default) through nested groups. */
  async groupsOfUser(userId: string, options: { transitive?: boolean } = {}): Promise<string[]> {
    return options.transitive === false ? this.groupsOf(userId) : this.transitiveGroupsOf(userId);
  }

  /** Every group containing the object directly or through nesting (cycles tolerated). */
  async transitiveGroupsOf(memberId: string): Promise<string[]> {
    const rows = await query<{ group_id: string }>(
      this.db,
      sql`with recursive anc(group_id) as (
            select group_id from directory_memberships where member_id = ${memberId}
            union
            select m.group_id from directory_memberships m join anc a on m.member_id = a.group_id
          )
          select group_id from anc order by group_id`,
    );
    return rows.map((r) => r.group_id);
  }

  /**
   * The memberships above an object: its own and those of every group containing it (nesting
   * followed, cycles tolerated) — what scoping reads to decide whether an assignment reaches it.
   */
  async membershipsAbove(memberId: string): Promise<Membership[]> {
    const rows = await query<{ group_id: string; member_id: string; member_type: ObjectType }>(
      this.db,
      sql`with recursive anc(group_id, member_id, member_type) as (
            select group_id, member_id, member_type from directory_memberships where member_id = ${memberId}
            union
            select m.group_id, m.member_id, m.member_type from directory_memberships m
              join anc a on m.member_id = a.group_id
          )
          select group_id, member_id, member_type from anc order by group_id, member_id`,
    );
    return rows.map((r) => ({ groupId: r.group_id, memberId: r.member_id, memberType: r.member_type }));
  }
}

const memberChange = (op: 'memberAdd' | 'memberRemove', m: Membership): NewChange => ({
  objectType: 'group',
  objectId: m.groupId,
  op,
  detail: { memberId: m.memberId, memberType: m.memberType },
});

/** Removes a principal from every group and app; returns the changes to append. */
async function detachPrincipal(tx: Executor, id: string): Promise<NewChange[]> {
  const removedFrom = await tx.delete(memberships).where(eq(memberships.memberId, id)).returning();
  const unassigned = await tx.delete(assignments).where(eq(assignments.principalId, id)).returning();
  return [
    ...removedFrom.map((m) => memberChange('memberRemove', m)),
    ...unassigned.map((a): NewChange => ({
      objectType: a.principalType,
      objectId: id,
      op: 'assignmentRemove',
      appId: a.appId,
      detail: { role: a.role },
    })),
  ];
}

/** Inserts memberships (existing ones are left alone) with a `memberAdd` change each; returns how many were new. */
async function insertMembers(tx: Executor, items: readonly Membership[], chunkSize: number): Promise<number> {
  let added = 0;
  for (const part of chunk(items, chunkSize)) {
    const rows = jsonRows(
      memberships,
      part.map((m) => ({ groupId: m.groupId, memberId: m.memberId, memberType: m.memberType })),
    );
    const result = await tx.execute(sql`
      with added as (
        insert into directory_memberships (${rows.columns}) ${rows.select}
        on conflict do nothing returning group_id, member_id, member_type
      )
      insert into directory_changes (object_type, object_id, op, detail)
      select 'group', group_id, 'memberAdd', jsonb_build_object('memberId', member_id, 'memberType', member_type) from added`);
    added += affectedRows(result);
  }
  return added;
}

/** Group-in-group memberships: containing group → the groups it holds directly. */
async function nestingGraph(tx: Executor): Promise<Map<string, string[]>> {
  const rows = await tx
    .select({ groupId: memberships.groupId, memberId: memberships.memberId })
    .from(memberships)
    .where(eq(memberships.memberType, 'group'));
  const graph = new Map<string, string[]>();
  for (const r of rows) addEdge(graph, r.groupId, r.memberId);
  return graph;
}

function addEdge(graph: Map<string, string[]>, groupId: string, memberId: string): void {
  const held = graph.get(groupId);
  if (!held) graph.set(groupId, [memberId]);
  else if (!held.includes(memberId)) held.push(memberId);
}

/**
 * The cycle that putting group `memberId` into group `groupId` would close — `[groupId, memberId,
 * …, groupId]` — or null. Breadth-first from the member, so the shortest cycle is named; data
 * holding an older cycle is walked safely (each group once).
 */
function nestingCycle(
  graph: ReadonlyMap<string, readonly string[]>,
  groupId: string,
  memberId: string,
): string[] | null {
  if (groupId === memberId) return [groupId, groupId];
  const parent = new Map<string, string | null>([[memberId, null]]);
  const queue = [memberId];
  for (let i = 0; i < queue.length; i++) {
    for (const next of graph.get(queue[i]) ?? []) {
      if (parent.has(next)) continue;
      parent.set(next, queue[i]);
      if (next === groupId) {
        const path: string[] = [];
        for (let at: string | null = next; at !== null; at = parent.get(at) ?? null) path.unshift(at);
        return [groupId, ...path];
      }
      queue.push(next);
    }
  }
  return null;
}

/** Splits memberships into those that keep the nesting acyclic (applied in order) and the refused ones. */
async function refuseCycles(
  tx: Executor,
  items: readonly Membership[],
): Promise<{ accepted: Membership[]; refused: { index: number; cycle: string[] }[] }> {
  const accepted: Membership[] = [];
  const refused: { index: number; cycle: string[] }[] = [];
  if (!items.some((m) => m.memberType === 'group')) return { accepted: [...items], refused };
  const graph = await nestingGraph(tx);
  for (const [index, m] of items.entries()) {
    if (m.memberType === 'group') {
      const cycle = nestingCycle(graph, m.groupId, m.memberId);
      if (cycle) {
        refused.push({ index, cycle });
        continue;
      }
      addEdge(graph, m.groupId, m.memberId);
    }
    accepted.push(m);
  }
  return { accepted, refused };
}

/** Multi-row upsert of users or groups with one `upsert` change per row, in one statement. */
async function bulkUpsert(
  tx: Executor,
  table: typeof users | typeof groups,
  objectType: ObjectType,
  values: Record<string, unknown>[],
): Promise<void> {
  const rows = jsonRows(table, values);
  // Only the columns given are replaced: an API import leaves a source's ownership columns alone.
  const given = new Set(Object.keys(values[0] ?? {}));
  const set = sql.join(
    Object.entries(getTableColumns(table))
      .filter(([key, c]) => given.has(key) && c.name !== 'id' && c.name !== 'created_at')
      .map(([, c]) => sql`${sql.identifier(c.name)} = excluded.${sql.identifier(c.name)}`),
    sql`, `,
  );
  await tx.execute(sql`
    with written as (
      insert into ${table} (${rows.columns}) ${rows.select}
      on conflict (id) do update set ${set} returning id
    )
    insert into directory_changes (object_type, object_id, op) select ${objectType}, id, 'upsert' from written`);
}

interface MembershipRow {
  group_id: string;
  member_id: string;
  member_type: ObjectType;
}

const membershipOf = (r: MembershipRow): Membership => ({
  groupId: r.group_id,
  memberId: r.member_id,
  memberType: r.member_type,
});

/** The groups assigned to the app and every group nested below them (a query's text). */
function groupsInScope(appId: string): SQL {
  return sql`with recursive below(group_id) as (
      select principal_id from app_role_assignments where app_id = ${appId} and principal_type = 'group'
      union
      select m.member_id from directory_memberships m join below b on m.group_id = b.group_id
        where m.member_type = 'group'
    )
    select group_id from below`;
}

/** The memberships of the groups assigned to the app and of every group nested below them. */
function membershipsInScope(appId: string): SQL {
  return sql`select m.group_id, m.member_id, m.member_type from directory_memberships m
    where m.group_id in (${groupsInScope(appId)})`;
}
