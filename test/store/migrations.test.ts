import { describe, expect, it } from 'vitest';
import { openStore } from '../../store/index.ts';
import { loadMigrations } from '../../store/migrate.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY } from '../support/postgres.ts';

describe('migrations', () => {
  const all = loadMigrations().map((m) => m.tag);

  it('on PGlite: applies every migration once; a second run applies nothing', async () => {
    const store = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
    try {
      expect(await store.migrate()).toEqual(all);
      expect(await store.migrate()).toEqual([]);
      expect(await store.changes.latestSeq()).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('on Postgres: processes starting together apply each migration exactly once', async () => {
    const db = await createTestDatabase('migrate');
    const stores = await Promise.all(
      [1, 2, 3].map(() => openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY, poolSize: 2 })),
    );
    try {
      const applied = await Promise.all(stores.map((s) => s.migrate()));
      expect(applied.flat().sort()).toEqual([...all].sort());
      expect(await stores[0].migrate()).toEqual([]);
      const user = await stores[1].directory.createUser({ userPrincipalName: 'a@contoso.com' });
      expect((await stores[2].directory.getUser(user.id))?.userPrincipalName).toBe('a@contoso.com');
    } finally {
      for (const s of stores) await s.close();
      await db.drop();
    }
  });

  it('on PGlite with a data directory (parents created): the data survives a restart', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'ferry-store-'));
    try {
      const first = await openStore({ dataDir: join(dir, '.ferry', 'db'), encryptionKey: TEST_ENCRYPTION_KEY });
      await first.migrate();
      const user = await first.directory.createUser({ userPrincipalName: 'kept@contoso.com' });
      await first.close();
      const second = await openStore({ dataDir: join(dir, '.ferry', 'db'), encryptionKey: TEST_ENCRYPTION_KEY });
      expect(await second.migrate()).toEqual([]);
      expect((await second.directory.getUser(user.id))?.userPrincipalName).toBe('kept@contoso.com');
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
