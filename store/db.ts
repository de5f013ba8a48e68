// The database handle every repository works on: a drizzle PgDatabase over PGlite or node-postgres,
// or a transaction of either (a PgTransaction is a PgDatabase, so repositories do not care).
import { getTableColumns, getTableName, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { createHash } from 'node:crypto';
import { PgDialect, PgTransaction, type PgDatabase, type PgQueryResultHKT, type PgTable } from 'drizzle-orm/pg-core';
import { isTransactionConflict } from './errors.ts';

export type Executor = PgDatabase<PgQueryResultHKT>;

/** Runs `fn` in the caller's transaction if there is one, else in a new transaction. */
export async function inTransaction<T>(db: Executor, fn: (tx: Executor) => Promise<T>): Promise<T> {
  if (db instanceof PgTransaction) return fn(db as unknown as Executor);
  return db.transaction((tx) => fn(tx));
}

/** Attempts of `retryingConflicts` before the conflict is the caller's. */
const CONFLICT_ATTEMPTS = 5;

/**
 * Runs `fn` (its own statement or transaction, never inside the caller's: an aborted transaction
 * cannot go on) again when Postgres aborted it for a deadlock or a serialization failure, after a
 * short random pause. For writes that cross many rows other work may hold, like deleting an app
 * while its cycle writes: the cascade locks the app row, then waits for a link the cycle holds,
 * while the cycle waits for the app row to insert a log entry.
 */
export async function retryingConflicts<T>(db: Executor, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (db instanceof PgTransaction || attempt >= CONFLICT_ATTEMPTS || !isTransactionConflict(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 50 * attempt));
    }
  }
}

/** Rows of a raw `db.execute` on either driver (both answer `{ rows }`). */
export async function query<T>(db: Executor, statement: SQL): Promise<T[]> {
  const result = (await db.execute(statement)) as unknown as { rows: T[] };
  return result.rows;
}

const dialect = new PgDialect();
const statementNames = new Map<string, string>();

/**
 * `query` as a named statement, prepared on each connection at its first use: Postgres then parses
 * and plans it once per connection, not at every call. For the statements run for every exported
 * object (rate slots, fencing), where parsing and planning cost about as much as running them.
 * The name is the text's hash, so a name always stands for the same text.
 */
export async function preparedQuery<T>(db: Executor, statement: SQL): Promise<T[]> {
  const built = dialect.sqlToQuery(statement);
  let name = statementNames.get(built.sql);
  if (name === undefined) {
    name = `ferry_${createHash('sha256').update(built.sql).digest('hex').slice(0, 24)}`;
    statementNames.set(built.sql, name);
  }
  const prepared = db._.session.prepareQuery(built, undefined, name, false);
  const result = (await prepared.execute()) as unknown as { rows: T[] };
  return result.rows;
}

/**
 * A filter that commits the statement's transaction without waiting for the WAL flush: as a
 * `where` condition, `set_config(…, true)` turns synchronous_commit off for the statement's own
 * transaction (the implicit one of a single statement, or the caller's), so it costs no statement
 * of its own (not begin / set local / … / commit). For writes that must outlive a worker but may be
 * lost with a crash of the database itself (create intents, rate slot reservations), where waiting for
 * the flush would double the statement's latency.
 */
export const asyncCommit = sql`set_config('synchronous_commit', 'off', true) = 'off'`;

/** Advisory lock keys (arbitrary constants, Ferry-specific). */
export const LOCK_MIGRATIONS = 0x46_65_72_72_01;
export const LOCK_DIRECTORY_CHANGES = 0x46_65_72_72_02;

/** Transaction-scoped advisory lock: released at commit or rollback. */
export async function advisoryXactLock(tx: Executor, key: number): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${key})`);
}

export const iso = (date: Date | string | null | undefined): string | null =>
  date === null || date === undefined ? null : new Date(date).toISOString();

export const toDate = (value: Date | string | null | undefined): Date | null =>
  value === null || value === undefined ? null : value instanceof Date ? value : new Date(value);

/**
 * `column = any($1::<type>[])`: membership in a list as ONE bind parameter. drizzle's `inArray`
 * makes a parameter per value, and building, parsing and planning all scale with that count.
 */
export function anyOf(column: AnyColumn, values: readonly (string | number)[], type: 'text' | 'bigint' = 'text'): SQL {
  return sql`${column} = any(${sql.param([...values])}::${sql.raw(type)}[])`;
}

/** Splits rows for multi-row inserts (Postgres allows 65535 bind parameters per statement). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Opaque pagination cursors. */
export const encodeCursor = (parts: unknown[]): string =>
  Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
export function decodeCursor(cursor: string): unknown[] {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts)) return parts;
  } catch {
    // fall through to the error below
  }
  throw new Error(`Invalid cursor: ${cursor}`);
}

/** Affected-row count of a raw statement on either driver. */
export function affectedRows(result: unknown): number {
  const r = result as { rowCount?: number | null; affectedRows?: number };
  return Number(r.rowCount ?? r.affectedRows ?? 0);
}

/**
 * `select <columns> from jsonb_populate_recordset(null::<table>, $1)`: many rows as ONE bind
 * parameter. Far faster than a VALUES list of thousands of parameters (parse, plan and drizzle's
 * builder all scale with the parameter count). Rows are keyed by property name, as in drizzle.
 */
export function jsonRows(table: PgTable, rows: readonly Record<string, unknown>[]): { columns: SQL; select: SQL } {
  const columns = getTableColumns(table);
  const keys = Object.keys(rows[0] ?? {}).filter((k) => k in columns);
  const names = keys.map((k) => columns[k].name);
  const data = rows.map((row) => {
    const out: Record<string, unknown> = {};
    keys.forEach((k, i) => {
      const value = row[k];
      out[names[i]] = value instanceof Date ? value.toISOString() : value;
    });
    return out;
  });
  const list = sql.join(
    names.map((n) => sql.identifier(n)),
    sql`, `,
  );
  const tableName = sql.identifier(getTableName(table));
  return {
    columns: list,
    select: sql`select ${list} from jsonb_populate_recordset(null::${tableName}, ${JSON.stringify(data)}::jsonb)`,
  };
}
