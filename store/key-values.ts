// A small key-value table for state that needs no schema of its own (sent notifications, job
// bookkeeping, generated settings), grouped by namespace.
import { and, asc, eq, inArray, lt } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { keyValues } from './schema.ts';

export class KeyValueRepository {
  constructor(private readonly db: Executor) {}

  async get<T = unknown>(namespace: string, key: string): Promise<T | null> {
    const [row] = await this.db
      .select({ value: keyValues.value })
      .from(keyValues)
      .where(and(eq(keyValues.namespace, namespace), eq(keyValues.key, key)));
    return row ? (row.value as T) : null;
  }

  async set(namespace: string, key: string, value: unknown): Promise<void> {
    await this.db
      .insert(keyValues)
      .values({ namespace, key, value, updatedAt: new Date() })
      .onConflictDoUpdate({ target: [keyValues.namespace, keyValues.key], set: { value, updatedAt: new Date() } });
  }

  /** Sets the value only if the key is absent; true when this call set it (an idempotency guard). */
  async setIfAbsent(namespace: string, key: string, value: unknown): Promise<boolean> {
    const rows = await this.db
      .insert(keyValues)
      .values({ namespace, key, value })
      .onConflictDoNothing()
      .returning({ key: keyValues.key });
    return rows.length === 1;
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    const rows = await this.db
      .delete(keyValues)
      .where(and(eq(keyValues.namespace, namespace), eq(keyValues.key, key)))
      .returning({ key: keyValues.key });
    return rows.length > 0;
  }

  /** Deletes up to `limit` entries of `namespace` last written before `before`; returns how many. */
  async deleteUpdatedBefore(namespace: string, before: Date, limit: number): Promise<number> {
    const oldest = this.db
      .select({ key: keyValues.key })
      .from(keyValues)
      .where(and(eq(keyValues.namespace, namespace), lt(keyValues.updatedAt, before)))
      .limit(limit);
    const rows = await this.db
      .delete(keyValues)
      .where(and(eq(keyValues.namespace, namespace), inArray(keyValues.key, oldest)))
      .returning({ key: keyValues.key });
    return rows.length;
  }

  async list(namespace: string): Promise<{ key: string; value: unknown }[]> {
    return this.db
      .select({ key: keyValues.key, value: keyValues.value })
      .from(keyValues)
      .where(eq(keyValues.namespace, namespace))
      .orderBy(asc(keyValues.key));
  }
}
