// Test databases. Several test files and helpers share the Postgres on 127.0.0.1:5432, so every
// suite gets its OWN fresh database (never tables in `test` directly) and drops it afterwards.
// `storeBackends` lets a suite run on PGlite (in memory) AND Postgres with `describe.each`.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openStore, type Store } from '../../store/index.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fixed key for tests (32 bytes, hex). */
export const TEST_ENCRYPTION_KEY = '6a'.repeat(32);

export interface TestDatabase {
  /** Connection URL of the fresh database. */
  url: string;
  name: string;
  /** Drops the database (terminating leftover connections). Safe to call twice. */
  drop(): Promise<void>;
}

function urlWithDatabase(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

async function onAdminDatabase(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: urlWithDatabase(TEST_DATABASE_URL, 'postgres') });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Creates `ferry_<prefix>_<random>` on the test server. */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const name = `ferry_${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(6).toString('hex')}`;
  await onAdminDatabase(`create database "${name}"`);
  let dropped = false;
  return {
    url: urlWithDatabase(TEST_DATABASE_URL, name),
    name,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await onAdminDatabase(`drop database if exists "${name}" with (force)`);
    },
  };
}

/** Registers beforeAll/afterAll in the current suite: a fresh database for it. Read `url` inside tests/hooks. */
export function withTestDatabase(prefix?: string): { readonly url: string } {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(prefix);
  });
  afterAll(async () => {
    await db?.drop();
  });
  return {
    get url(): string {
      if (!db) throw new Error('withTestDatabase: the database exists only inside tests and hooks.');
      return db.url;
    },
  };
}

export interface StoreBackend {
  name: 'pglite' | 'postgres';
  /** Opens a migrated store on a fresh database; `close()` also drops it. */
  open(options?: { encryptionKey?: string }): Promise<OpenedStore>;
}

export interface OpenedStore {
  store: Store;
  /** For Postgres, the fresh database's URL (open a second store on it with `reopen`). */
  url: string | null;
  /** Opens another store on the same database (not possible for in-memory PGlite: returns null). */
  reopen(options?: { encryptionKey?: string; migrate?: boolean }): Promise<Store | null>;
  close(): Promise<void>;
}

export const storeBackends: StoreBackend[] = [
  {
    name: 'pglite',
    open: async (options = {}) => {
      const store = await openStore({ encryptionKey: options.encryptionKey ?? TEST_ENCRYPTION_KEY });
      await store.migrate();
      return { store, url: null, reopen: async () => null, close: () => store.close() };
    },
  },
  {
    name: 'postgres',
    open: async (options = {}) => {
      const db = await createTestDatabase('store');
      const others: Store[] = [];
      const store = await openStore({
        databaseUrl: db.url,
        encryptionKey: options.encryptionKey ?? TEST_ENCRYPTION_KEY,
        poolSize: 4,
      });
      await store.migrate();
      return {
        store,
        url: db.url,
        reopen: async (more = {}) => {
          const other = await openStore({
            databaseUrl: db.url,
            encryptionKey: more.encryptionKey ?? TEST_ENCRYPTION_KEY,
            poolSize: 4,
          });
          others.push(other);
          if (more.migrate !== false) await other.migrate();
          return other;
        },
        close: async () => {
          for (const other of others) await other.close();
          await store.close();
          await db.drop();
        },
      };
    },
  },
];

/**
 * In a `describe.each(storeBackends)` body: one migrated store for the whole suite, closed (and
 * its database dropped) after it. Tests share it, so each test uses its own ids.
 */
export function useStore(backend: StoreBackend): { readonly store: Store; readonly opened: OpenedStore } {
  let opened: OpenedStore | undefined;
  beforeAll(async () => {
    opened = await backend.open();
  });
  afterAll(async () => {
    await opened?.close();
  });
  return {
    get store(): Store {
      if (!opened) throw new Error('useStore: the store exists only inside tests and hooks.');
      return opened.store;
    },
    get opened(): OpenedStore {
      if (!opened) throw new Error('useStore: the store exists only inside tests and hooks.');
      return opened;
    },
  };
}
