// Sources that feed the directory (LDAP, CSV files, Entra ID): their configuration, one encrypted secret
// (an LDAP bind password, an Entra client secret or certificate private key), import bookkeeping (`state`) and the history of their imports. The
// objects a source owns carry its id (`source_id`) and their reference there (`source_ref`).
import { randomUUID } from 'node:crypto';
import { and, desc, eq, isNull, lt, notInArray, sql } from 'drizzle-orm';
import type { ObjectType } from '../engine/types.ts';
import type { SecretBox } from './crypto.ts';
import { anyOf, chunk, inTransaction, iso, type Executor } from './db.ts';
import { DirectoryRepository } from './directory.ts';
import { notFound } from './errors.ts';
import { groups, sourceRuns, sourceSnapshots, sources, userContributions, users } from './schema.ts';
import type { SourceView } from './user-contributions.ts';

/** Directory attributes a source may join its rows to existing users on (`joinOn`). */
export const JOIN_ATTRIBUTES = ['userPrincipalName', 'mail', 'employeeId'] as const;
export type JoinAttribute = (typeof JOIN_ATTRIBUTES)[number];

export type SourceType = 'ldap' | 'csv' | 'scim' | 'entra';
export type SourceRunStatus = 'running' | 'succeeded' | 'failed' | 'needsApproval';
export type SourceRunMode = 'full' | 'incremental';

/** Deletions a full import found but did not apply, because they crossed the deletion threshold. */
export interface StagedDeletions {
  runId: number;
  users: string[];
  groups: string[];
}

/** Import bookkeeping, kept as JSON. */
export interface SourceState {
  /** The source's own change marker at the start of the last import (LDAP modifyTimestamp form). */
  highWater?: string | null;
  lastFullImportAt?: string | null;
  stagedDeletions?: StagedDeletions | null;
  /** Set while the source is quarantined (its workflow decides; see engine/policies/sourceQuarantine.ts). */
  quarantine?: SourceQuarantine | null;
  /**
   * The `since` of the last quarantine that ended (resume, an import that worked, enabling): that
   * decision is never recorded again, so a retried `quarantineSource` attempt whose earlier attempt
   * recorded it cannot quarantine a source an operator released in between.
   */
  releasedQuarantineSince?: string | null;
  /** The last file a csv source with origin `folder` imported (the same file is not imported again). */
  folderFile?: FolderFile | null;
}

/** Why a source stopped importing on its cadence: its last error (the run's message, never a secret). */
export interface SourceQuarantine {
  /** When the workflow quarantined it (ISO). */
  since: string;
  /** When the first of the failed imports in a row ended (ISO). */
  failingSince: string;
  failures: number;
  /** The last error's code (`Unauthorized`, `TransportError`, …). */
  code: string;
  message: string;
}

export interface FolderFile {
  name: string;
  size: number;
  sha256: string;
  /** The file's modification time (ISO). */
  modifiedAt: string;
  importedAt: string;
}

/** A source as the API shows it: never the secret, only whether one is set. */
export interface SourceRecord {
  id: string;
  name: string;
  type: SourceType;
  config: Record<string, unknown>;
  hasSecret: boolean;
  enabled: boolean;
  state: SourceState;
  createdAt: string;
  updatedAt: string;
}

export interface NewSource {
  id?: string;
  name: string;
  type: SourceType;
  config: Record<string, unknown>;
  secret?: string | null;
  enabled?: boolean;
}

export interface SourceUpdate {
  name?: string;
  config?: Record<string, unknown>;
  /** A string replaces the secret, null removes it, undefined keeps it. */
  secret?: string | null;
  enabled?: boolean;
}

export interface SourceCounts {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  stagedDeletions: number;
}

export interface SourceRunRecord extends SourceCounts {
  id: number;
  sourceId: string;
  mode: SourceRunMode;
  status: SourceRunStatus;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  /** Attempts of the import activity this run records (a retried attempt updates its run): 1, 2, … */
  attempts: number;
}

/** An uploaded HR export of a csv source (`origin: 'upload'`), kept as received. */
export interface SourceSnapshot {
  id: number;
  sourceId: string;
  format: 'csv' | 'json';
  /** Rows of people (the CSV header not counted). */
  rows: number;
  bytes: number;
  createdAt: string;
}

/** Snapshots kept per source: the newest few, so an upload can be compared with the one before. */
export const SNAPSHOTS_KEPT = 3;

type SourceRow = typeof sources.$inferSelect;
type RunRow = typeof sourceRuns.$inferSelect;

const toSource = (row: SourceRow): SourceRecord => ({
  id: row.id,
  name: row.name,
  type: row.type as SourceType,
  config: row.config,
  hasSecret: row.secret !== null,
  enabled: row.enabled,
  state: row.state as SourceState,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

const toRun = (row: RunRow): SourceRunRecord => ({
  id: row.id,
  sourceId: row.sourceId,
  mode: row.mode,
  status: row.status,
  startedAt: row.startedAt.toISOString(),
  finishedAt: iso(row.finishedAt),
  created: row.created,
  updated: row.updated,
  deleted: row.deleted,
  unchanged: row.unchanged,
  stagedDeletions: row.stagedDeletions,
  error: row.error,
  attempts: row.attempts,
});

const tableOf = (type: ObjectType) => (type === 'user' ? users : groups);

/** Marks the source's runs still `running` (those before run `before`, if given) failed for `error`. */
async function failRunningRuns(db: Executor, sourceId: string, error: string, before?: number): Promise<number> {
  const rows = await db
    .update(sourceRuns)
    .set({ status: 'failed', finishedAt: new Date(), error })
    .where(
      and(
        eq(sourceRuns.sourceId, sourceId),
        eq(sourceRuns.status, 'running'),
        before === undefined ? undefined : lt(sourceRuns.id, before),
      ),
    )
    .returning({ id: sourceRuns.id });
  return rows.length;
}

export class SourceRepository {
  constructor(
    private readonly db: Executor,
    private readonly box: SecretBox,
  ) {}

  private seal(id: string, secret: string | null | undefined): string | null {
    return secret ? this.box.seal(secret, `source:${id}`) : null;
  }

  async create(input: NewSource): Promise<SourceRecord> {
    const id = input.id ?? randomUUID();
    const [row] = await this.db
      .insert(sources)
      .values({
        id,
        name: input.name,
        type: input.type,
        config: input.config,
        secret: this.seal(id, input.secret),
        enabled: input.enabled ?? true,
      })
      .returning();
    return toSource(row);
  }

  async get(id: string): Promise<SourceRecord | null> {
    const [row] = await this.db.select().from(sources).where(eq(sources.id, id));
    return row ? toSource(row) : null;
  }

  /** The source, its row locked until the transaction ends (call it on a transaction); null when gone. */
  async getForUpdate(id: string): Promise<SourceRecord | null> {
    const [row] = await this.db.select().from(sources).where(eq(sources.id, id)).for('update');
    return row ? toSource(row) : null;
  }

  async require(id: string): Promise<SourceRecord> {
    const source = await this.get(id);
    if (!source) throw notFound('Source', id);
    return source;
  }

  async list(): Promise<SourceRecord[]> {
    const rows = await this.db.select().from(sources).orderBy(sources.createdAt, sources.id);
    return rows.map(toSource);
  }

  /** The decrypted secret, for the import only (null: none set). */
  async getSecret(id: string): Promise<string | null> {
    const [row] = await this.db.select({ secret: sources.secret }).from(sources).where(eq(sources.id, id));
    if (!row) throw notFound('Source', id);
    return row.secret === null ? null : this.box.open(row.secret, `source:${id}`);
  }

  async update(id: string, update: SourceUpdate): Promise<SourceRecord> {
    const values: Partial<typeof sources.$inferInsert> = { updatedAt: new Date() };
    if (update.name !== undefined) values.name = update.name;
    if (update.config !== undefined) values.config = update.config;
    if (update.enabled !== undefined) values.enabled = update.enabled;
    if (update.secret !== undefined) values.secret = this.seal(id, update.secret);
    const [row] = await this.db.update(sources).set(values).where(eq(sources.id, id)).returning();
    if (!row) throw notFound('Source', id);
    return toSource(row);
  }

  /** Merges `patch` into the source's state (top-level keys). */
  async setState(id: string, patch: SourceState): Promise<void> {
    await this.db
      .update(sources)
      .set({ state: sql`${sources.state} || ${JSON.stringify(patch)}::jsonb` })
      .where(eq(sources.id, id));
  }

  /** Sets the hash of a SCIM source's bearer token (the token itself is never stored). */
  async setTokenHash(id: string, tokenHash: string): Promise<void> {
    const rows = await this.db
      .update(sources)
      .set({ tokenHash, updatedAt: new Date() })
      .where(eq(sources.id, id))
      .returning({ id: sources.id });
    if (rows.length === 0) throw notFound('Source', id);
  }

  /** The source whose bearer token has this hash, if any. */
  async findByTokenHash(tokenHash: string): Promise<SourceRecord | null> {
    const [row] = await this.db.select().from(sources).where(eq(sources.tokenHash, tokenHash));
    return row ? toSource(row) : null;
  }

  /**
   * Deletes the source and its runs. Users another source also provides are written as that source
   * says (what this one won goes to the next); the objects only it provided stay, owned by nobody (API-owned).
   */
  async delete(id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await new DirectoryRepository(tx).withdrawSource(id);
      await tx.update(users).set({ sourceId: null, sourceRef: null }).where(eq(users.sourceId, id));
      await tx.update(groups).set({ sourceId: null, sourceRef: null }).where(eq(groups.sourceId, id));
      const rows = await tx.delete(sources).where(eq(sources.id, id)).returning({ id: sources.id });
      return rows.length > 0;
    });
  }

  // ---- runs ----

  /**
   * A new run of the source. Its imports run one at a time (its workflow runs them in turn), so a run
   * of it still `running` now was abandoned — its worker died before recording an outcome — and is
   * marked failed, saying so, rather than shown running for ever. (A retried attempt continues its
   * own run through retryRun instead.)
   */
  async beginRun(sourceId: string, mode: SourceRunMode): Promise<SourceRunRecord> {
    return inTransaction(this.db, async (tx) => {
      const [row] = await tx.insert(sourceRuns).values({ sourceId, mode, status: 'running' }).returning();
      await failRunningRuns(
        tx,
        sourceId,
        `Abandoned: the import stopped without recording its outcome (its worker ended); run ${row.id} began after it`,
        row.id,
      );
      return toRun(row);
    });
  }

  /**
   * Ends the source's runs still `running` as failed, for `reason` (the source was disabled and its
   * workflow ended: nothing else would). An import that still records its own outcome afterwards
   * (its activity ended at its next heartbeat, or finished first) writes over this.
   */
  async endRunningRuns(sourceId: string, reason: string): Promise<number> {
    return failRunningRuns(this.db, sourceId, reason);
  }

  /**
   * A retried attempt of the import that began run `id`: the run is running again (its counts and
   * error cleared, its start kept) and counts `attempt` attempts. Null when the source has no such
   * run (deleted meanwhile): the attempt begins a run of its own.
   */
  async retryRun(id: number, sourceId: string, mode: SourceRunMode, attempt: number): Promise<SourceRunRecord | null> {
    const zero = { created: 0, updated: 0, deleted: 0, unchanged: 0, stagedDeletions: 0 };
    const [row] = await this.db
      .update(sourceRuns)
      .set({ mode, status: 'running', finishedAt: null, error: null, attempts: attempt, ...zero })
      .where(and(eq(sourceRuns.id, id), eq(sourceRuns.sourceId, sourceId)))
      .returning();
    return row ? toRun(row) : null;
  }

  async finishRun(
    id: number,
    outcome: { status: Exclude<SourceRunStatus, 'running'>; counts: SourceCounts; error?: string | null },
  ): Promise<SourceRunRecord> {
    const [row] = await this.db
      .update(sourceRuns)
      .set({ status: outcome.status, finishedAt: new Date(), ...outcome.counts, error: outcome.error ?? null })
      .where(eq(sourceRuns.id, id))
      .returning();
    return toRun(row);
  }

  /** Newest first; `before` is the id of the last run of the previous page. */
  async runs(sourceId: string, options: { limit?: number; before?: number | null } = {}): Promise<SourceRunRecord[]> {
    const rows = await this.db
      .select()
      .from(sourceRuns)
      .where(
        and(eq(sourceRuns.sourceId, sourceId), options.before == null ? undefined : lt(sourceRuns.id, options.before)),
      )
      .orderBy(desc(sourceRuns.id))
      .limit(Math.min(Math.max(options.limit ?? 50, 1), 500));
    return rows.map(toRun);
  }

  // ---- uploaded snapshots ----

  /** Stores a snapshot and deletes the source's older ones beyond the newest SNAPSHOTS_KEPT. */
  async saveSnapshot(
    sourceId: string,
    input: { format: 'csv' | 'json'; content: string; rows: number },
  ): Promise<SourceSnapshot> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(sourceSnapshots)
        .values({ sourceId, ...input, bytes: Buffer.byteLength(input.content) })
        .returning();
      const kept = tx
        .select({ id: sourceSnapshots.id })
        .from(sourceSnapshots)
        .where(eq(sourceSnapshots.sourceId, sourceId))
        .orderBy(desc(sourceSnapshots.id))
        .limit(SNAPSHOTS_KEPT);
      await tx
        .delete(sourceSnapshots)
        .where(and(eq(sourceSnapshots.sourceId, sourceId), notInArray(sourceSnapshots.id, kept)));
      const { content: _content, ...snapshot } = row;
      return { ...snapshot, createdAt: row.createdAt.toISOString() };
    });
  }

  /** The source's snapshots, newest first, without their content. */
  async snapshots(sourceId: string): Promise<SourceSnapshot[]> {
    const rows = await this.db
      .select({
        id: sourceSnapshots.id,
        sourceId: sourceSnapshots.sourceId,
        format: sourceSnapshots.format,
        rows: sourceSnapshots.rows,
        bytes: sourceSnapshots.bytes,
        createdAt: sourceSnapshots.createdAt,
      })
      .from(sourceSnapshots)
      .where(eq(sourceSnapshots.sourceId, sourceId))
      .orderBy(desc(sourceSnapshots.id));
    return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
  }

  /** The newest snapshot with its content (null: none uploaded). */
  async latestSnapshot(sourceId: string): Promise<(SourceSnapshot & { content: string }) | null> {
    const [row] = await this.db
      .select()
      .from(sourceSnapshots)
      .where(eq(sourceSnapshots.sourceId, sourceId))
      .orderBy(desc(sourceSnapshots.id))
      .limit(1);
    return row ? { ...row, createdAt: row.createdAt.toISOString() } : null;
  }

  // ---- owned objects ----

  /** Owner and reference of each given object that exists (soft-deleted included). */
  async owners(
    type: ObjectType,
    ids: readonly string[],
  ): Promise<Map<string, { sourceId: string | null; ref: string | null }>> {
    const table = tableOf(type);
    const out = new Map<string, { sourceId: string | null; ref: string | null }>();
    for (const part of chunk([...new Set(ids)], 5000)) {
      const rows = await this.db
        .select({ id: table.id, sourceId: table.sourceId, ref: table.sourceRef })
        .from(table)
        .where(anyOf(table.id, part));
      for (const r of rows) out.set(r.id, { sourceId: r.sourceId, ref: r.ref });
    }
    return out;
  }

  /** Ids of the source's live objects whose reference is one of `refs` (a SCIM externalId), oldest first. */
  async idsByRef(sourceId: string, type: ObjectType, ref: string): Promise<string[]> {
    const table = tableOf(type);
    const rows = await this.db
      .select({ id: table.id })
      .from(table)
      .where(and(eq(table.sourceId, sourceId), eq(table.sourceRef, ref), isNull(table.deletedDateTime)))
      .orderBy(table.createdAt, table.id);
    return rows.map((r) => r.id);
  }

  /** Ids of the source's objects that are not soft-deleted. */
  async liveIds(sourceId: string, type: ObjectType): Promise<string[]> {
    const table = tableOf(type);
    const rows = await this.db
      .select({ id: table.id })
      .from(table)
      .where(and(eq(table.sourceId, sourceId), isNull(table.deletedDateTime)));
    return rows.map((r) => r.id);
  }

  /**
   * The directory user each of a source's rows writes: the user it joined before (its stable id
   * remembered), else its own id (`<sourceId>:<stable id>`) when that user exists, else — with
   * `joinOn` — the user whose attribute equals the row's (case-insensitive; a live user before a
   * deleted one; none this source already provides), else its own id (a new user).
   */
  async userTargets(
    sourceId: string,
    rows: readonly { externalId: string; ownId: string; joinValue: string | null }[],
    joinOn: JoinAttribute | undefined,
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const externals = rows.map((r) => r.externalId);
    for (const part of chunk(externals, 5000)) {
      const joined = await this.db
        .select({ userId: userContributions.userId, externalId: userContributions.externalId })
        .from(userContributions)
        .where(and(eq(userContributions.sourceId, sourceId), anyOf(userContributions.externalId, part)));
      for (const j of joined) if (j.externalId !== null) out.set(j.externalId, j.userId);
    }
    const rest = rows.filter((r) => !out.has(r.externalId));
    const existing = new Set<string>();
    for (const part of chunk(
      rest.map((r) => r.ownId),
      5000,
    )) {
      for (const u of await this.db.select({ id: users.id }).from(users).where(anyOf(users.id, part)))
        existing.add(u.id);
    }
    const toJoin = rest.filter((r) => !existing.has(r.ownId) && joinOn && r.joinValue);
    const matches = joinOn
      ? await this.joinMatches(
          sourceId,
          joinOn,
          toJoin.map((r) => r.joinValue!),
        )
      : new Map();
    for (const r of rest) out.set(r.externalId, (r.joinValue && matches.get(r.joinValue.toLowerCase())) || r.ownId);
    return out;
  }

  /** Lower-cased value → the user holding it in `attribute` that this source does not provide yet. */
  private async joinMatches(
    sourceId: string,
    attribute: JoinAttribute,
    values: string[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const column = users[attribute];
    for (const part of chunk([...new Set(values.map((v) => v.toLowerCase()))], 5000)) {
      const rows = await this.db
        .select({ id: users.id, value: column, deleted: users.deletedDateTime })
        .from(users)
        .where(
          and(
            sql`lower(${column}) = any(${sql.param(part)}::text[])`,
            sql`not exists (select 1 from ${userContributions} c where c.user_id = ${users.id} and c.source_id = ${sourceId})`,
          ),
        )
        .orderBy(sql`${users.deletedDateTime} is not null`, users.createdAt, users.id);
      for (const r of rows) {
        const key = r.value!.toLowerCase();
        if (!out.has(key)) out.set(key, r.id);
      }
    }
    return out;
  }

  /** What the source last wrote for each of these users (those it provides), with the users' attributeSources. */
  async views(sourceId: string, userIds: readonly string[]): Promise<Map<string, SourceView>> {
    const out = new Map<string, SourceView>();
    for (const part of chunk([...new Set(userIds)], 5000)) {
      const rows = await this.db
        .select({
          id: userContributions.userId,
          ref: userContributions.ref,
          attributes: userContributions.attributes,
          attributeSources: users.attributeSources,
        })
        .from(userContributions)
        .innerJoin(users, eq(users.id, userContributions.userId))
        .where(and(eq(userContributions.sourceId, sourceId), anyOf(userContributions.userId, part)));
      for (const r of rows)
        out.set(r.id, { ref: r.ref, attributes: r.attributes, attributeSources: r.attributeSources });
    }
    return out;
  }

  /** Live users the source provides, owned or joined. */
  async providedLiveUserIds(sourceId: string): Promise<string[]> {
    const rows = await this.db
      .select({ id: users.id })
      .from(users)
      .where(
        and(
          isNull(users.deletedDateTime),
          sql`(${users.sourceId} = ${sourceId} or exists (select 1 from ${userContributions} c where c.user_id = ${users.id} and c.source_id = ${sourceId}))`,
        ),
      );
    return rows.map((r) => r.id);
  }

  /** The directory ids of the source's objects with these references (users and groups). */
  async resolveRefs(sourceId: string, refs: readonly string[]): Promise<Map<string, { id: string; type: ObjectType }>> {
    const parts = chunk([...new Set(refs)], 5000);
    const owned = (type: ObjectType) => {
      const table = tableOf(type);
      return Promise.all(
        parts.map((part) =>
          this.db
            .select({ id: table.id, ref: table.sourceRef })
            .from(table)
            .where(and(eq(table.sourceId, sourceId), anyOf(table.sourceRef, part))),
        ),
      );
    };
    // Users the source joined (owned by another source) are found by the reference it gave them.
    const joined = Promise.all(
      parts.map((part) =>
        this.db
          .select({ id: userContributions.userId, ref: userContributions.ref })
          .from(userContributions)
          .where(and(eq(userContributions.sourceId, sourceId), anyOf(userContributions.ref, part))),
      ),
    );
    // Read at once, applied in this order (a later kind wins a reference two share).
    const [users, groups, contributed] = await Promise.all([owned('user'), owned('group'), joined]);
    const out = new Map<string, { id: string; type: ObjectType }>();
    for (const [type, rows] of [
      ['user', users.flat()],
      ['group', groups.flat()],
      ['user', contributed.flat()],
    ] as const) {
      for (const r of rows) if (r.ref !== null) out.set(r.ref.toLowerCase(), { id: r.id, type });
    }
    return out;
  }
}
