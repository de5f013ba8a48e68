// API keys kept in the database: records with a name and a role. The key itself is shown once, when
// it is made; the database keeps only its SHA-256 (a key is 32 random bytes, so a fast hash is
// enough: nobody can guess one from its digest) and its first characters, to tell keys apart.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { decodeCursor, encodeCursor, iso, type Executor } from './db.ts';
import type { Page } from './directory.ts';
import { apiKeys } from './schema.ts';

/** What a key may do: `admin` everything, `operator` run provisioning and write the directory, `viewer` read. */
export const API_KEY_ROLES = ['admin', 'operator', 'viewer'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** Prefix of every key Ferry makes (the generated key of `npm start` too). */
export const API_KEY_PREFIX = 'fk_';
/** How many leading characters of a key its record keeps (`fk_` and 5 more). */
const SHOWN_PREFIX_LENGTH = 8;

export interface ApiKeyRecord {
  id: string;
  name: string;
  role: ApiKeyRole;
  /** The key's first characters, e.g. `fk_3Zq9a`: enough to recognise it, never enough to use it. */
  keyPrefix: string;
  createdAt: string;
  /** Id of the key that created it, or `cli` for `npm run keys`. */
  createdBy: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A new random key: `fk_` and 43 base64url characters (256 bits). */
export const generateApiKey = (): string => `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;

/** The digest a key is looked up by (hex SHA-256). */
export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

type Row = typeof apiKeys.$inferSelect;

const toRecord = (r: Row): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  role: r.role,
  keyPrefix: r.keyPrefix,
  createdAt: iso(r.createdAt)!,
  createdBy: r.createdBy,
  lastUsedAt: iso(r.lastUsedAt),
  revokedAt: iso(r.revokedAt),
});

export class ApiKeyRepository {
  constructor(private readonly db: Executor) {}

  /** Makes a key; the returned `key` is the only time it exists outside the caller's hands. */
  async create(input: {
    name: string;
    role: ApiKeyRole;
    createdBy?: string | null;
  }): Promise<{ record: ApiKeyRecord; key: string }> {
    const key = generateApiKey();
    const [row] = await this.db
      .insert(apiKeys)
      .values({
        id: randomUUID(),
        name: input.name,
        role: input.role,
        keyHash: hashApiKey(key),
        keyPrefix: key.slice(0, SHOWN_PREFIX_LENGTH),
        // Milliseconds, as the list's cursor carries them (the database would keep microseconds).
        createdAt: new Date(),
        createdBy: input.createdBy ?? null,
      })
      .returning();
    return { record: toRecord(row), key };
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    return row ? toRecord(row) : null;
  }

  /** The record of the key whose digest is `keyHash` (revoked ones too: the caller refuses them). */
  async findByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.keyHash, keyHash));
    return row ? toRecord(row) : null;
  }

  /** Oldest first; revoked keys too unless `activeOnly`. */
  async list(
    options: { limit?: number; cursor?: string | null; activeOnly?: boolean } = {},
  ): Promise<Page<ApiKeyRecord>> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const after = options.cursor ? (decodeCursor(options.cursor) as [string, string]) : null;
    const rows = await this.db
      .select()
      .from(apiKeys)
      .where(
        and(
          options.activeOnly ? isNull(apiKeys.revokedAt) : undefined,
          after ? sql`(${apiKeys.createdAt}, ${apiKeys.id}) > (${after[0]}::timestamptz, ${after[1]})` : undefined,
        ),
      )
      .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toRecord);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit ? encodeCursor([last.createdAt, last.id]) : null };
  }

  /** How many keys are not revoked (of `role`, when given). */
  async countActive(role?: ApiKeyRole): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(apiKeys)
      .where(and(isNull(apiKeys.revokedAt), role ? eq(apiKeys.role, role) : undefined));
    return Number(row?.n ?? 0);
  }

  /** Revokes the key (a revoked key stays revoked: its first revocation time is kept). Null when unknown. */
  async revoke(id: string, at: Date = new Date()): Promise<ApiKeyRecord | null> {
    await this.db
      .update(apiKeys)
      .set({ revokedAt: at })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
    return this.get(id);
  }

  /** Records that the key was used at `at` (callers throttle this; see api/auth.ts). */
  async touch(id: string, at: Date = new Date()): Promise<void> {
    await this.db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, id));
  }
}
