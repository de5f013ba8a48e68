// Applies the SQL migrations drizzle-kit generated (store/migrations/, listed by meta/_journal.json).
// One transaction under an advisory lock: two processes starting together apply each migration
// once; the second waits, then finds nothing to do. Applied migrations are kept in ferry_migrations.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { advisoryXactLock, LOCK_MIGRATIONS, query, type Executor } from './db.ts';

interface Journal {
  entries: { idx: number; tag: string }[];
}

export interface Migration {
  tag: string;
  hash: string;
  statements: string[];
}

const folder = new URL('./migrations/', import.meta.url);

export function loadMigrations(): Migration[] {
  const journal = JSON.parse(readFileSync(new URL('meta/_journal.json', folder), 'utf8')) as Journal;
  return [...journal.entries]
    .sort((a, b) => a.idx - b.idx)
    .map(({ tag }) => {
      const text = readFileSync(new URL(`${tag}.sql`, folder), 'utf8');
      const statements = text
        .split('--> statement-breakpoint')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      return { tag, hash: createHash('sha256').update(text).digest('hex'), statements };
    });
}

/** Applies pending migrations; returns the tags applied by this call. */
export async function migrate(db: Executor, migrations: Migration[] = loadMigrations()): Promise<string[]> {
  return db.transaction(async (tx) => {
    await advisoryXactLock(tx, LOCK_MIGRATIONS);
    await tx.execute(sql`create table if not exists ferry_migrations (
      tag text primary key,
      hash text not null,
      applied_at timestamptz not null default now()
    )`);
    const applied = new Set(
      (await query<{ tag: string }>(tx, sql`select tag from ferry_migrations`)).map((r) => r.tag),
    );
    const done: string[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.tag)) continue;
      for (const statement of migration.statements) await tx.execute(sql.raw(statement));
      await tx.execute(sql`insert into ferry_migrations (tag, hash) values (${migration.tag}, ${migration.hash})`);
      done.push(migration.tag);
    }
    return done;
  });
}
