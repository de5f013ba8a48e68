// Apps: configuration (plain jsonb) and secrets (AES-256-GCM envelope, store/crypto.ts). The safe
// view never carries a secret, only `has…` flags; the worker asks for secrets separately.
import { randomUUID } from 'node:crypto';
import { asc, eq, gt, sql } from 'drizzle-orm';
import type { SecretBox } from './crypto.ts';
import { decodeCursor, encodeCursor, inTransaction, iso, retryingConflicts, type Executor } from './db.ts';
import type { Page } from './directory.ts';
import { conflict, isUniqueViolation, notFound, VersionMismatchError } from './errors.ts';
import { apps } from './schema.ts';

/** Secrets of an app by name, e.g. `token` (bearer) or `clientSecret` (OAuth). */
export type AppSecrets = Record<string, string>;

/** The safe view of an app: what the API may return. */
export interface AppRecord {
  id: string;
  name: string;
  template: string;
  configuration: Record<string, unknown>;
  provisioningEnabled: boolean;
  /** Increases whenever `configuration` changes (a new value means an initial cycle is due). */
  configVersion: number;
  /** Increases with every change of the app (name, target, secrets, settings, provisioning on/off): its ETag. */
  version: number;
  /** Directory change seq provisioned so far; null = the next cycle is initial. */
  watermark: number | null;
  hasToken: boolean;
  hasClientSecret: boolean;
  /** Names of the secrets held (never their values). */
  secretNames: string[];
  createdAt: string;
  updatedAt: string;
}

export interface NewApp {
  id?: string;
  name: string;
  template: string;
  configuration: Record<string, unknown>;
  secrets?: AppSecrets;
  provisioningEnabled?: boolean;
}

export interface AppUpdate {
  name?: string;
  template?: string;
  /** Replaces the whole configuration and bumps configVersion (unless `bumpConfigVersion` is false). */
  configuration?: Record<string, unknown>;
  /**
   * False for a change the job need not react to (e.g. the app's name): configVersion stays, so
   * the job does not start an initial cycle. Default true.
   */
  bumpConfigVersion?: boolean;
  /** Merged into the stored secrets; a null value removes that secret. */
  secrets?: Record<string, string | null>;
}

type AppRow = typeof apps.$inferSelect;

function toRecord(row: AppRow): AppRecord {
  return {
    id: row.id,
    name: row.name,
    template: row.template,
    configuration: row.configuration,
    provisioningEnabled: row.provisioningEnabled,
    configVersion: row.configVersion,
    version: row.version,
    watermark: row.watermark,
    hasToken: row.secretNames.includes('token'),
    hasClientSecret: row.secretNames.includes('clientSecret'),
    secretNames: row.secretNames,
    createdAt: iso(row.createdAt)!,
    updatedAt: iso(row.updatedAt)!,
  };
}

const owner = (appId: string): string => `app:${appId}`;

export class AppRepository {
  constructor(
    private readonly db: Executor,
    private readonly box: SecretBox,
  ) {}

  private seal(appId: string, secrets: AppSecrets): { secrets: string | null; secretNames: string[] } {
    const names = Object.keys(secrets).sort();
    return {
      secrets: names.length === 0 ? null : this.box.seal(JSON.stringify(secrets), owner(appId)),
      secretNames: names,
    };
  }

  async create(input: NewApp): Promise<AppRecord> {
    const id = input.id ?? randomUUID();
    try {
      const [row] = await this.db
        .insert(apps)
        .values({
          id,
          name: input.name,
          template: input.template,
          configuration: input.configuration,
          provisioningEnabled: input.provisioningEnabled ?? false,
          ...this.seal(id, input.secrets ?? {}),
        })
        .returning();
      return toRecord(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`An app with id ${id} exists.`, error);
      throw error;
    }
  }

  async get(id: string): Promise<AppRecord | null> {
    const [row] = await this.db.select().from(apps).where(eq(apps.id, id));
    return row ? toRecord(row) : null;
  }

  /** Like get, but throws NotFoundError. */
  async require(id: string): Promise<AppRecord> {
    const app = await this.get(id);
    if (!app) throw notFound('App', id);
    return app;
  }

  async list(options: { cursor?: string | null; limit?: number } = {}): Promise<Page<AppRecord>> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const after = options.cursor ? String(decodeCursor(options.cursor)[0]) : null;
    const rows = await this.db
      .select()
      .from(apps)
      .where(after === null ? undefined : gt(apps.id, after))
      .orderBy(asc(apps.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toRecord);
    return { items, nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1].id]) : null };
  }

  /** Apps whose provisioning is on (at start, each gets its job workflow ensured). */
  async listProvisioningEnabled(): Promise<AppRecord[]> {
    const rows = await this.db.select().from(apps).where(eq(apps.provisioningEnabled, true)).orderBy(asc(apps.id));
    return rows.map(toRecord);
  }

  /**
   * Read-modify-write of one app in ONE transaction, its row locked from the read to the write: two
   * changes at once run one after the other, and neither loses the other's fields. `change` gets the
   * app and its decrypted secrets and returns the update (it may throw to write nothing). With
   * `ifVersion`, an app at a version it refuses fails with VersionMismatchError and nothing is written.
   */
  async modify(
    id: string,
    change: (current: AppRecord, secrets: AppSecrets) => AppUpdate | Promise<AppUpdate>,
    options: { ifVersion?: (version: number) => boolean } = {},
  ): Promise<{ before: AppRecord; after: AppRecord }> {
    return inTransaction(this.db, async (tx) => {
      const [row] = await tx.select().from(apps).where(eq(apps.id, id)).for('update');
      if (!row) throw notFound('App', id);
      if (options.ifVersion && !options.ifVersion(row.version)) {
        throw new VersionMismatchError(`App ${id}`, row.version);
      }
      const before = toRecord(row);
      const update = await change(before, row.secrets === null ? {} : this.openSecrets(id, row.secrets));
      const after = await new AppRepository(tx, this.box).update(id, update);
      return { before, after };
    });
  }

  async update(id: string, update: AppUpdate): Promise<AppRecord> {
    const values: Partial<typeof apps.$inferInsert> = {
      updatedAt: new Date(),
      version: sql`${apps.version} + 1` as unknown as number, // drizzle accepts SQL here
    };
    if (update.name !== undefined) values.name = update.name;
    if (update.template !== undefined) values.template = update.template;
    if (update.configuration !== undefined) {
      values.configuration = update.configuration;
      if (update.bumpConfigVersion !== false)
        values.configVersion = sql`${apps.configVersion} + 1` as unknown as number; // drizzle accepts SQL here
    }
    const secrets = update.secrets;
    // Secrets merge into the stored ones: read them under a row lock in the same transaction as the
    // write, so two updates at once cannot lose one another's secret.
    return inTransaction(this.db, async (tx) => {
      if (secrets !== undefined) {
        const [current] = await tx.select({ secrets: apps.secrets }).from(apps).where(eq(apps.id, id)).for('update');
        if (!current) throw notFound('App', id);
        const merged: AppSecrets = current.secrets === null ? {} : this.openSecrets(id, current.secrets);
        for (const [name, value] of Object.entries(secrets)) {
          if (value === null) delete merged[name];
          else merged[name] = value;
        }
        Object.assign(values, this.seal(id, merged));
      }
      const [row] = await tx.update(apps).set(values).where(eq(apps.id, id)).returning();
      if (!row) throw notFound('App', id);
      return toRecord(row);
    });
  }

  /**
   * Deletes the app with its assignments, links and cycles. Returns false when it did not exist.
   * A cycle of the app may still be writing (its activity ends at its next heartbeat): the cascade
   * and its writes can deadlock, and then the delete is tried again.
   */
  async delete(id: string): Promise<boolean> {
    const rows = await retryingConflicts(this.db, () =>
      this.db.delete(apps).where(eq(apps.id, id)).returning({ id: apps.id }),
    );
    return rows.length > 0;
  }

  /**
   * Decrypted secrets — for the worker only, never for API answers or logs. Throws
   * ConfigurationError when the encryption key is not the one they were saved with.
   */
  async getSecrets(id: string): Promise<AppSecrets> {
    const [row] = await this.db.select({ secrets: apps.secrets }).from(apps).where(eq(apps.id, id));
    if (!row) throw notFound('App', id);
    if (row.secrets === null) return {};
    return this.openSecrets(id, row.secrets);
  }

  private openSecrets(id: string, sealed: string): AppSecrets {
    return JSON.parse(this.box.open(sealed, owner(id))) as AppSecrets;
  }

  async setProvisioningEnabled(id: string, enabled: boolean): Promise<AppRecord> {
    const [row] = await this.db
      .update(apps)
      .set({
        provisioningEnabled: enabled,
        updatedAt: new Date(),
        // Only a real change is a new version: start/resume of a running job leaves the ETag as it is.
        version:
          sql`case when ${apps.provisioningEnabled} = ${enabled} then ${apps.version} else ${apps.version} + 1 end` as unknown as number,
      })
      .where(eq(apps.id, id))
      .returning();
    if (!row) throw notFound('App', id);
    return toRecord(row);
  }

  /** Saves the watermark after a cycle; null makes the next cycle initial (restart). */
  async setWatermark(id: string, watermark: number | null): Promise<void> {
    const rows = await this.db.update(apps).set({ watermark }).where(eq(apps.id, id)).returning({ id: apps.id });
    if (rows.length === 0) throw notFound('App', id);
  }
}
