// The import every source type shares: read pages from a SourceReader, write what changed through
// the store's directory API (so every change lands in the change log and app cycles pick it up),
// then — on a full import — soft-delete the source's objects it no longer returns, unless they
// cross the deletion threshold: then they are staged and the run waits for approval.
import { createHash } from 'node:crypto';
import { FerryError, publicMessage } from '../engine/errors.ts';
import { provides } from '../engine/policies/attributePrecedence.ts';
import {
  DEFAULT_SOURCE_DELETION_THRESHOLD_PERCENT,
  sourceDeletionsNeedApproval,
} from '../engine/policies/sourceDeletions.ts';
import type { DirectoryGroup, DirectoryUser, Membership, ObjectType } from '../engine/types.ts';
import type { JoinAttribute, SourceCounts, SourceRunMode, StagedDeletions, Store } from '../store/index.ts';
import { canonical, type SourceView } from '../store/user-contributions.ts';
import type { ImportCursor, SourceLogger, SourceMembers, SourceReader, SourceUser } from './types.ts';

/** Default share of a source's live objects an import may soft-delete without approval. */
export const DEFAULT_DELETION_THRESHOLD_PERCENT = DEFAULT_SOURCE_DELETION_THRESHOLD_PERCENT;

export interface ImportOptions {
  store: Store;
  sourceId: string;
  reader: SourceReader;
  mode: SourceRunMode;
  /** Change marker of the previous import (incremental imports read what changed since). */
  since: string | null;
  deletionThresholdPercent?: number;
  /**
   * The user attribute that joins a row to a user already in the directory (another source's, or
   * one made through the API) instead of creating one; absent: every row is its own user.
   */
  joinOn?: JoinAttribute;
  /** Called after every page (the activity heartbeats it). */
  onProgress?: (cursor: ImportCursor) => void;
  /** Gets the whole error of an entry skipped for a reason the run's history cannot name. */
  logger?: SourceLogger;
}

export interface ImportOutcome {
  counts: SourceCounts;
  staged: StagedDeletions | null;
  /**
   * Entries that could not be written, as messages for people: the entry and what is wrong (e.g. a
   * userPrincipalName another user holds), never the statement or the entry's other values.
   */
  skipped: string[];
  highWater: string | null;
}

const ID_SAFE = /^[A-Za-z0-9._~@-]{1,120}$/;

/** The directory id of a source's object: the source id and its stable id there, kept within the id rule. */
export function directoryId(sourceId: string, externalId: string): string {
  const tail = ID_SAFE.test(externalId)
    ? externalId
    : `h-${createHash('sha256').update(externalId).digest('hex').slice(0, 40)}`;
  return `${sourceId}:${tail}`;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Whether a user already holds what the source gives: live, the source's last contribution the
 * same, and every attribute it provides still won by some source (an API edit since drops it from
 * attributeSources, and the source then writes its value again, as before precedence existed).
 */
function unchangedUser(existing: DirectoryUser | undefined, view: SourceView | undefined, entry: SourceUser): boolean {
  if (!existing || existing.deletedDateTime !== null || !view || view.ref !== entry.ref) return false;
  return Object.entries(entry.user).every(
    ([key, value]) =>
      canonical(view.attributes[key as keyof SourceView['attributes']]) === canonical(value) &&
      (!provides(value) || view.attributeSources[key] !== undefined),
  );
}

/** Whether the stored object already holds every attribute the source gives, live and owned. */
function unchanged<T extends DirectoryUser | DirectoryGroup>(
  existing: T | undefined,
  given: Partial<T>,
  owner: { sourceId: string | null; ref: string | null } | undefined,
  sourceId: string,
  ref: string,
): boolean {
  if (!existing || existing.deletedDateTime !== null) return false;
  if (owner?.sourceId !== sourceId || owner.ref !== ref) return false;
  return Object.entries(given).every(([key, value]) => same(existing[key as keyof T], value));
}

/**
 * The pages of a reader, each next one requested while the caller writes the one it holds, so the
 * source (slapd, Graph) and the database work at the same time. Pages come in the reader's order;
 * the reader's error surfaces where its page would have; stopping early closes the reader's iterator.
 */
async function* readAhead<T>(pages: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = pages[Symbol.asyncIterator]();
  let next = iterator.next();
  let finished = false;
  try {
    for (;;) {
      const current = await next;
      if (current.done) {
        finished = true;
        return;
      }
      next = iterator.next();
      // Settled later (or never, if the caller stops); an error must not go unhandled meanwhile.
      next.catch(() => {});
      yield current.value;
    }
  } finally {
    if (!finished) await iterator.return?.().catch(() => {});
  }
}

const chunked = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * What to change so a group holds the members the source names: the current members it no longer
 * names (a partial entry: those it reports removed) and the named ones not there yet. `current`
 * (group id → its members, in member id order) loses the removed ones, so a group named twice in
 * a page is reconciled against what the first time left.
 */
function memberDifference(
  groupId: string,
  group: SourceMembers,
  resolved: Map<string, { id: string; type: ObjectType }>,
  current: Map<string, Membership[]>,
): { remove: { groupId: string; memberId: string }[]; add: Membership[] } {
  const wanted = new Map<string, ObjectType>();
  for (const ref of group.memberRefs) {
    const member = resolved.get(ref);
    if (member) wanted.set(member.id, member.type);
  }
  const members = current.get(groupId) ?? [];
  const leaving = group.partial
    ? new Set(group.removedRefs?.map((ref) => resolved.get(ref)?.id).filter((id) => id !== undefined))
    : null;
  const isLeaving = (m: Membership) => (leaving ? leaving.has(m.memberId) : !wanted.has(m.memberId));
  const remove = members.filter(isLeaving).map((m) => ({ groupId, memberId: m.memberId }));
  const currentIds = new Set(members.map((m) => m.memberId));
  current.set(
    groupId,
    members.filter((m) => !isLeaving(m)),
  );
  const add = [...wanted]
    .filter(([id]) => !currentIds.has(id))
    .map(([memberId, memberType]) => ({ groupId, memberId, memberType }));
  return { remove, add };
}

class Importer {
  readonly counts: SourceCounts = { created: 0, updated: 0, deleted: 0, unchanged: 0, stagedDeletions: 0 };
  readonly skipped: string[] = [];
  readonly seen: Record<ObjectType, Set<string>> = { user: new Set(), group: new Set() };
  private readonly pendingManagers: { userId: string; ref: string }[] = [];
  /** User id → the stable id of the row that wrote it in this import (two rows joining one user: the second is skipped). */
  private readonly rowOfUser = new Map<string, string>();

  constructor(private readonly options: ImportOptions) {}

  private get store() {
    return this.options.store;
  }

  private progress(phase: ImportCursor['phase'], processed: number) {
    this.options.onProgress?.({ phase, processed });
  }

  /** A page's entries with their directory ids. */
  private withIds<E extends { externalId: string }>(page: E[]): { id: string; entry: E }[] {
    return page.map((entry) => ({ id: directoryId(this.options.sourceId, entry.externalId), entry }));
  }

  /** Splits a page into what the store already holds (counted unchanged) and what to write; marks every id seen. */
  private async split<E extends { ref: string }, O extends DirectoryUser | DirectoryGroup>(
    type: ObjectType,
    items: { id: string; entry: E }[],
    load: (ids: string[]) => Promise<O[]>,
    attributes: (entry: E) => Partial<O>,
  ): Promise<{ write: { id: string; entry: E }[]; byId: Map<string, O> }> {
    const ids = items.map((i) => i.id);
    const [existing, owners] = await Promise.all([load(ids), this.store.sources.owners(type, ids)]);
    const byId = new Map(existing.map((o) => [o.id, o]));
    const write: { id: string; entry: E }[] = [];
    for (const item of items) {
      this.seen[type].add(item.id);
      const owner = owners.get(item.id);
      if (unchanged(byId.get(item.id), attributes(item.entry), owner, this.options.sourceId, item.entry.ref)) {
        this.counts.unchanged++;
      } else write.push(item);
    }
    return { write, byId };
  }

  async users(): Promise<void> {
    const { reader, since } = this.options;
    let processed = 0;
    for await (const page of readAhead(reader.users(since))) {
      // What the page needs read, in two rounds of reads at once: the users its rows write and
      // the managers they name; then what those users hold and what this source said of them.
      const refs = page.map((e) => e.managerRef).filter((r): r is string => !!r);
      const [items, managers] = await Promise.all([
        this.userItems(page),
        refs.length ? this.store.sources.resolveRefs(this.options.sourceId, refs) : new Map(),
      ]);
      const ids = items.map((i) => i.id);
      const [existing, views] = await Promise.all([
        this.store.directory.getUsers(ids),
        this.store.sources.views(this.options.sourceId, ids),
      ]);
      this.resolveManagers(items, managers, views);
      const { write, byId } = this.splitUsers(items, existing, views);
      await this.writeUsers(write, byId);
      processed += page.length;
      this.progress('users', processed);
    }
  }

  /** A page's rows with the user each writes: its own, or (joinOn) the existing user it joins. */
  private async userItems(page: SourceUser[]): Promise<{ id: string; entry: SourceUser }[]> {
    const { sourceId, joinOn } = this.options;
    const targets = await this.store.sources.userTargets(
      sourceId,
      page.map((entry) => ({
        externalId: entry.externalId,
        ownId: directoryId(sourceId, entry.externalId),
        joinValue: joinOn ? ((entry.user as Partial<DirectoryUser>)[joinOn] ?? null) : null,
      })),
      joinOn,
    );
    const items: { id: string; entry: SourceUser }[] = [];
    for (const entry of page) {
      const id = targets.get(entry.externalId) ?? directoryId(sourceId, entry.externalId);
      const other = this.rowOfUser.get(id);
      if (other !== undefined && other !== entry.externalId) {
        this.skipped.push(`user ${entry.ref}: joins user ${id}, which row ${other} of this source already provides`);
        continue;
      }
      this.rowOfUser.set(id, entry.externalId);
      items.push({ id, entry });
    }
    return items;
  }

  /** Splits a page of users into what the source said before (counted unchanged) and what to write. */
  private splitUsers(
    items: { id: string; entry: SourceUser }[],
    existing: DirectoryUser[],
    views: Map<string, SourceView>,
  ): { write: { id: string; entry: SourceUser }[]; byId: Map<string, DirectoryUser> } {
    const byId = new Map(existing.map((u) => [u.id, u]));
    const write: { id: string; entry: SourceUser }[] = [];
    for (const item of items) {
      this.seen.user.add(item.id);
      if (unchangedUser(byId.get(item.id), views.get(item.id), item.entry)) this.counts.unchanged++;
      else write.push(item);
    }
    return { write, byId };
  }

  /**
   * Sets each user's managerId from its manager reference. A manager not imported yet (later in
   * this import) is remembered and set by `managersLeft` once every user is written.
   */
  private resolveManagers(
    items: { id: string; entry: SourceUser }[],
    resolved: Map<string, { id: string; type: ObjectType }>,
    views: Map<string, SourceView>,
  ): void {
    for (const item of items) {
      const ref = item.entry.managerRef;
      const manager = ref ? resolved.get(ref) : undefined;
      if (ref && !manager) this.pendingManagers.push({ userId: item.id, ref });
      // Unsaid: the manager this source gave before (not the merged one another source may have won).
      const managerId =
        ref === undefined
          ? (views.get(item.id)?.attributes.managerId ?? null)
          : manager?.type === 'user'
            ? manager.id
            : null;
      item.entry = { ...item.entry, user: { ...item.entry.user, managerId } as SourceUser['user'] };
    }
  }

  /** Managers that were imported after their reports (in one write per thousand users). */
  async managersLeft(): Promise<void> {
    const pending = this.pendingManagers.splice(0);
    if (pending.length === 0) return;
    const resolved = await this.store.sources.resolveRefs(
      this.options.sourceId,
      pending.map((p) => p.ref),
    );
    const patches = pending.flatMap(({ userId, ref }) => {
      const manager = resolved.get(ref);
      return manager?.type === 'user' ? [{ userId, patch: { managerId: manager.id } }] : [];
    });
    for (const part of chunked(patches, 1000)) await this.store.directory.patchSourceUsers(this.options.sourceId, part);
  }

  private async writeUsers(items: { id: string; entry: SourceUser }[], existing: Map<string, DirectoryUser>) {
    const { sourceId } = this.options;
    const rows = items.map(({ id, entry }) => ({
      ref: entry.ref,
      externalId: entry.externalId,
      user: { ...entry.user, id },
    }));
    // Back from the recycle bin first, so the change log says `restore` (what apps act on).
    for (const { id } of items) if (existing.get(id)?.deletedDateTime) await this.store.directory.restoreUser(id);
    const written = await this.tryAll(
      rows,
      (part) => this.store.directory.upsertSourceUsers(sourceId, part),
      (row) => `user ${row.ref}`,
    );
    for (const row of written) {
      const before = existing.get(row.user.id);
      if (before) this.counts.updated++;
      else this.counts.created++;
    }
  }

  async groups(): Promise<void> {
    const { sourceId, reader, since } = this.options;
    let processed = 0;
    for await (const page of readAhead(reader.groups(since))) {
      const { write, byId } = await this.split(
        'group',
        this.withIds(page),
        (ids) => this.store.directory.getGroups(ids),
        (entry) => entry.group as Partial<DirectoryGroup>,
      );
      const rows = write.map(({ id, entry }) => ({ ref: entry.ref, group: { ...entry.group, id } }));
      for (const { id } of write) if (byId.get(id)?.deletedDateTime) await this.store.directory.restoreGroup(id);
      const written = await this.tryAll(
        rows,
        (part) => this.store.directory.upsertSourceGroups(sourceId, part),
        (row) => `group ${row.ref}`,
      );
      for (const row of written) {
        if (byId.has(row.group.id)) this.counts.updated++;
        else this.counts.created++;
      }
      processed += page.length;
      this.progress('groups', processed);
    }
  }

  /** Writes a page in one call; when it fails, row by row, so one bad entry does not stop the rest. */
  private async tryAll<R>(rows: R[], write: (part: R[]) => Promise<void>, name: (row: R) => string): Promise<R[]> {
    if (rows.length === 0) return [];
    try {
      await write(rows);
      return rows;
    } catch {
      const done: R[] = [];
      for (const row of rows) {
        try {
          await write([row]);
          done.push(row);
        } catch (error) {
          this.skipped.push(`${name(row)}: ${publicMessage(error, 'could not be written (see the server log)')}`);
          // Unclassified: the run says only that; the whole error goes to the server log.
          if (!(error instanceof FerryError)) {
            this.options.logger?.warn('import entry skipped', {
              sourceId: this.options.sourceId,
              entry: name(row),
              error,
            });
          }
        }
      }
      return done;
    }
  }

  /**
   * Sets each group's members to exactly those the source names (members outside the import are
   * ignored). A page of groups at a time: their current members in one read, the members leaving
   * in one write, the new ones in another.
   */
  async members(): Promise<void> {
    const { sourceId, reader, since } = this.options;
    let processed = 0;
    for await (const page of readAhead(reader.members(since))) {
      const resolved = await this.store.sources.resolveRefs(
        sourceId,
        page.flatMap((g) => [...g.memberRefs, ...(g.removedRefs ?? [])]),
      );
      const groupIds = page.map((g) => directoryId(sourceId, g.externalId));
      const [known, current] = await Promise.all([
        this.store.directory.getGroups(groupIds),
        this.store.directory.membersOfGroups(groupIds),
      ]);
      const knownIds = new Set(known.map((g) => g.id));
      const leaving: { groupId: string; memberId: string }[] = [];
      const adds: Membership[] = [];
      page.forEach((group, i) => {
        if (!knownIds.has(groupIds[i])) return;
        const { remove, add } = memberDifference(groupIds[i], group, resolved, current);
        leaving.push(...remove);
        adds.push(...add);
      });
      await this.store.directory.removeMembers(leaving);
      const { refused } = await this.store.directory.importMembers(adds);
      for (const r of refused)
        this.skipped.push(`membership ${adds[r.index].memberId} in ${adds[r.index].groupId}: nesting cycle`);
      processed += page.length;
      this.progress('members', processed);
    }
  }

  /**
   * Objects the source reported deleted (Graph `@removed`) in an incremental import: soft-deleted,
   * unless they are more than the deletion threshold — then staged for approval, like a full
   * import's. (A full round reports none; its deletions are what it did not return.)
   */
  async reportedDeletions(runId: number): Promise<StagedDeletions | null> {
    const reported = this.options.reader.removed?.();
    if (!reported || reported.users.length + reported.groups.length === 0) return null;
    const { sourceId } = this.options;
    const userIds = await this.store.sources.userTargets(
      sourceId,
      reported.users.map((externalId) => ({ externalId, ownId: directoryId(sourceId, externalId), joinValue: null })),
      undefined,
    );
    const [liveUsers, liveGroups] = await Promise.all([
      this.store.sources.providedLiveUserIds(sourceId),
      this.store.sources.liveIds(sourceId, 'group'),
    ]);
    // Only what this source still provides counts: a repeated or foreign removal deletes nothing.
    const live = (ids: string[], provided: string[]) => {
      const providedSet = new Set(provided);
      return [...new Set(ids)].filter((id) => providedSet.has(id));
    };
    const users = live([...userIds.values()], liveUsers);
    const groups = live(
      reported.groups.map((externalId) => directoryId(sourceId, externalId)),
      liveGroups,
    );
    const deletions = users.length + groups.length;
    if (deletions === 0) return null;
    const liveObjects = liveUsers.length + liveGroups.length;
    if (sourceDeletionsNeedApproval({ deletions, liveObjects, percent: this.options.deletionThresholdPercent })) {
      this.counts.stagedDeletions = deletions;
      return { runId, users, groups };
    }
    const { deleted, withdrawn } = await applyDeletions(this.store, sourceId, { runId, users, groups });
    this.counts.deleted += deleted;
    this.counts.updated += withdrawn;
    this.progress('deletions', deleted);
    return null;
  }

  /** Full import: the source's live objects it did not return are deleted, or staged past the threshold. */
  async deletions(runId: number): Promise<StagedDeletions | null> {
    const { sourceId } = this.options;
    const [liveUsers, liveGroups] = await Promise.all([
      this.store.sources.providedLiveUserIds(sourceId),
      this.store.sources.liveIds(sourceId, 'group'),
    ]);
    const users = liveUsers.filter((id) => !this.seen.user.has(id));
    const groups = liveGroups.filter((id) => !this.seen.group.has(id));
    const missing = users.length + groups.length;
    if (missing === 0) return null;
    const liveObjects = liveUsers.length + liveGroups.length;
    if (
      sourceDeletionsNeedApproval({ deletions: missing, liveObjects, percent: this.options.deletionThresholdPercent })
    ) {
      this.counts.stagedDeletions = missing;
      return { runId, users, groups };
    }
    const { deleted, withdrawn } = await applyDeletions(this.store, sourceId, { runId, users, groups });
    this.counts.deleted += deleted;
    this.counts.updated += withdrawn;
    this.progress('deletions', missing);
    return null;
  }
}

/**
 * Applies deletions a source found. A user another source still provides is not deleted: this
 * source's contribution is withdrawn and the others' values take its attributes (`withdrawn`).
 * A user only it provides, and its groups, are soft-deleted (`deleted`). Objects already deleted,
 * or no longer this source's, are left alone.
 */
export async function applyDeletions(
  store: Store,
  sourceId: string,
  staged: StagedDeletions,
): Promise<{ deleted: number; withdrawn: number }> {
  let deleted = 0;
  let withdrawn = 0;
  for (const id of staged.users) {
    const outcome = await store.directory.withdrawSourceUser(sourceId, id);
    if (outcome === 'deleted') deleted++;
    else if (outcome === 'withdrawn') withdrawn++;
  }
  const owners = await store.sources.owners('group', staged.groups);
  for (const id of staged.groups) {
    if (owners.get(id)?.sourceId !== sourceId) continue;
    const before = await store.directory.getGroup(id);
    if (!before || before.deletedDateTime !== null) continue;
    await store.directory.softDeleteGroup(id);
    deleted++;
  }
  return { deleted, withdrawn };
}

/** Runs one import of a source; the caller records the run (sources/run.ts). */
export async function importSource(options: ImportOptions, runId: number): Promise<ImportOutcome> {
  const importer = new Importer(options);
  await importer.users();
  await importer.managersLeft();
  await importer.groups();
  await importer.members();
  const staged = options.mode === 'full' ? await importer.deletions(runId) : await importer.reportedDeletions(runId);
  return { counts: importer.counts, staged, skipped: importer.skipped, highWater: options.reader.highWater() };
}
