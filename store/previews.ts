// Previews of proposed app changes (POST /apps/{id}/preview): the preview's state and counts, and one
// row per object with the action the next cycle would take and the attributes it would change.
import { and, asc, eq, gt, lt } from 'drizzle-orm';
import type { ModifiedAttribute, ObjectType } from '../engine/types.ts';
import { decodeCursor, encodeCursor, iso, type Executor } from './db.ts';
import type { Page } from './directory.ts';
import { previewItems, previews } from './schema.ts';

export type PreviewStatus = 'running' | 'completed' | 'failed' | 'applied';

export interface PreviewRecord {
  id: string;
  appId: string;
  baseVersion: number;
  changes: Record<string, unknown>;
  status: PreviewStatus;
  /** Objects per action (`Create`, `Update`, `Disable`, `Delete`, `Skip`, `None`, …). */
  counts: Record<string, number>;
  total: number;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
  appliedAt: string | null;
}

export interface PreviewItem {
  objectType: ObjectType;
  objectId: string;
  displayName: string | null;
  action: string;
  reason: string;
  dependsOnMatch: boolean;
  modifiedAttributes: ModifiedAttribute[];
}

type Row = typeof previews.$inferSelect;

const toRecord = (row: Row): PreviewRecord => ({
  id: row.id,
  appId: row.appId,
  baseVersion: row.baseVersion,
  changes: row.changes,
  status: row.status,
  counts: row.counts,
  total: row.total,
  error: row.error,
  createdAt: iso(row.createdAt) ?? '',
  finishedAt: iso(row.finishedAt),
  appliedAt: iso(row.appliedAt),
});

export class PreviewRepository {
  constructor(private readonly db: Executor) {}

  async create(input: { id: string; appId: string; baseVersion: number; changes: Record<string, unknown> }) {
    const [row] = await this.db
      .insert(previews)
      .values({ ...input, status: 'running' })
      .returning();
    return toRecord(row);
  }

  async get(appId: string, id: string): Promise<PreviewRecord | null> {
    const [row] = await this.db
      .select()
      .from(previews)
      .where(and(eq(previews.appId, appId), eq(previews.id, id)));
    return row ? toRecord(row) : null;
  }

  /** Appends a batch of items at `firstSeq`, `firstSeq + 1`, … (a retried batch replaces nothing: same keys). */
  async addItems(previewId: string, firstSeq: number, items: readonly PreviewItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.db
      .insert(previewItems)
      .values(items.map((item, i) => ({ ...item, previewId, seq: firstSeq + i })))
      .onConflictDoNothing();
  }

  async finish(id: string, outcome: { counts: Record<string, number>; total: number } | { error: string }) {
    await this.db
      .update(previews)
      .set(
        'error' in outcome
          ? { status: 'failed', error: outcome.error, finishedAt: new Date() }
          : { status: 'completed', counts: outcome.counts, total: outcome.total, finishedAt: new Date() },
      )
      .where(eq(previews.id, id));
  }

  async markApplied(id: string): Promise<void> {
    await this.db.update(previews).set({ status: 'applied', appliedAt: new Date() }).where(eq(previews.id, id));
  }

  /** The preview's objects in the order they were computed (users, then groups), optionally of one action. */
  async items(
    previewId: string,
    options: { action?: string; cursor?: string | null; limit?: number } = {},
  ): Promise<Page<PreviewItem>> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const after = options.cursor ? Number(decodeCursor(options.cursor)[0]) : null;
    const rows = await this.db
      .select()
      .from(previewItems)
      .where(
        and(
          eq(previewItems.previewId, previewId),
          options.action ? eq(previewItems.action, options.action) : undefined,
          after === null ? undefined : gt(previewItems.seq, after),
        ),
      )
      .orderBy(asc(previewItems.seq))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map((row) => ({
        objectType: row.objectType,
        objectId: row.objectId,
        displayName: row.displayName,
        action: row.action,
        reason: row.reason,
        dependsOnMatch: row.dependsOnMatch,
        modifiedAttributes: row.modifiedAttributes as ModifiedAttribute[],
      })),
      nextCursor: rows.length > limit ? encodeCursor([page[page.length - 1].seq]) : null,
    };
  }

  /** Removes the app's previews made before `before` (their items go with them). */
  async deleteOlderThan(appId: string, before: Date): Promise<number> {
    const rows = await this.db
      .delete(previews)
      .where(and(eq(previews.appId, appId), lt(previews.createdAt, before)))
      .returning({ id: previews.id });
    return rows.length;
  }
}
