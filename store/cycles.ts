// Cycles (DESIGN.md §1): one row per pass of a provisioning job, created idempotently by
// (app, number) so a re-run activity finds the cycle it already began.
import { randomUUID } from 'node:crypto';
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { CycleCounts, CycleKind } from '../engine/types.ts';
import { decodeCursor, encodeCursor, iso, type Executor } from './db.ts';
import type { Page } from './directory.ts';
import { notFound } from './errors.ts';
import { cycles } from './schema.ts';

/** `stopped`: interrupted by the job (pause, restart, configChanged, quarantine) between batches. */
export type CycleStatus = 'running' | 'succeeded' | 'failed' | 'stopped';

export const EMPTY_COUNTS: CycleCounts = {
  created: 0,
  updated: 0,
  disabled: 0,
  deleted: 0,
  skipped: 0,
  failed: 0,
  escrowed: 0,
  stagedDeletes: 0,
};

export interface CycleRecord {
  id: string;
  appId: string;
  number: number;
  kind: CycleKind;
  status: CycleStatus;
  counts: CycleCounts;
  processed: number;
  total: number;
  /** Operations attempted against the target (for the failure-rate quarantine criterion). */
  operations: number;
  watermarkFrom: number | null;
  watermarkTo: number | null;
  failure: Record<string, unknown> | null;
  pendingDeletions: number;
  deletionThresholdExceeded: boolean;
  startedAt: string;
  endedAt: string | null;
}

export interface NewCycle {
  appId: string;
  number: number;
  kind: CycleKind;
  watermarkFrom?: number | null;
  watermarkTo?: number | null;
  total?: number;
  startedAt?: Date;
}

export type CycleUpdate = Partial<
  Pick<
    CycleRecord,
    | 'status'
    | 'counts'
    | 'processed'
    | 'total'
    | 'operations'
    | 'watermarkTo'
    | 'failure'
    | 'pendingDeletions'
    | 'deletionThresholdExceeded'
  >
> & { endedAt?: Date | string | null };

type CycleRow = typeof cycles.$inferSelect;

function toCycle(r: CycleRow): CycleRecord {
  return {
    id: r.id,
    appId: r.appId,
    number: r.number,
    kind: r.kind,
    status: r.status,
    counts: { ...EMPTY_COUNTS, ...r.counts },
    processed: r.processed,
    total: r.total,
    operations: r.operations,
    watermarkFrom: r.watermarkFrom,
    watermarkTo: r.watermarkTo,
    failure: r.failure,
    pendingDeletions: r.pendingDeletions,
    deletionThresholdExceeded: r.deletionThresholdExceeded,
    startedAt: iso(r.startedAt)!,
    endedAt: iso(r.endedAt),
  };
}

export class CycleRepository {
  constructor(private readonly db: Executor) {}

  /** Creates cycle (app, number), or returns the existing one unchanged (`created: false`). */
  async create(input: NewCycle): Promise<{ cycle: CycleRecord; created: boolean }> {
    const inserted = await this.db
      .insert(cycles)
      .values({
        id: randomUUID(),
        appId: input.appId,
        number: input.number,
        kind: input.kind,
        counts: EMPTY_COUNTS as unknown as Record<string, number>,
        watermarkFrom: input.watermarkFrom ?? null,
        watermarkTo: input.watermarkTo ?? null,
        total: input.total ?? 0,
        startedAt: input.startedAt ?? new Date(),
      })
      .onConflictDoNothing({ target: [cycles.appId, cycles.number] })
      .returning();
    if (inserted[0]) return { cycle: toCycle(inserted[0]), created: true };
    const existing = await this.getByNumber(input.appId, input.number);
    if (!existing) throw notFound('Cycle', `${input.appId}#${input.number}`);
    return { cycle: existing, created: false };
  }

  async get(id: string): Promise<CycleRecord | null> {
    const [row] = await this.db.select().from(cycles).where(eq(cycles.id, id));
    return row ? toCycle(row) : null;
  }

  async getByNumber(appId: string, number: number): Promise<CycleRecord | null> {
    const [row] = await this.db
      .select()
      .from(cycles)
      .where(and(eq(cycles.appId, appId), eq(cycles.number, number)));
    return row ? toCycle(row) : null;
  }

  /** The app's most recent cycle (highest number), or null. */
  async latest(appId: string): Promise<CycleRecord | null> {
    const [row] = await this.db
      .select()
      .from(cycles)
      .where(eq(cycles.appId, appId))
      .orderBy(desc(cycles.number))
      .limit(1);
    return row ? toCycle(row) : null;
  }

  /** The number the app's next cycle should take (1 for a new app): the database remembers across job restarts. */
  async nextNumber(appId: string): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`coalesce(max(${cycles.number}), 0)::int` })
      .from(cycles)
      .where(eq(cycles.appId, appId));
    return row.n + 1;
  }

  /** Newest first. */
  async list(appId: string, options: { cursor?: string | null; limit?: number } = {}): Promise<Page<CycleRecord>> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 1000);
    const before = options.cursor ? Number(decodeCursor(options.cursor)[0]) : null;
    const rows = await this.db
      .select()
      .from(cycles)
      .where(and(eq(cycles.appId, appId), before === null ? undefined : lt(cycles.number, before)))
      .orderBy(desc(cycles.number))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toCycle);
    return { items, nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1].number]) : null };
  }

  /** Sets the given fields (absolute values, so a re-run writes the same). */
  async update(id: string, update: CycleUpdate): Promise<CycleRecord> {
    const { endedAt, counts, ...rest } = update;
    const values: Partial<typeof cycles.$inferInsert> = { ...rest };
    if (counts !== undefined) values.counts = { ...EMPTY_COUNTS, ...counts } as unknown as Record<string, number>;
    if (endedAt !== undefined) values.endedAt = endedAt === null ? null : new Date(endedAt);
    const [row] = await this.db.update(cycles).set(values).where(eq(cycles.id, id)).returning();
    if (!row) throw notFound('Cycle', id);
    return toCycle(row);
  }

  /** Adds to the cycle's count of requests sent, in one statement (callers write it with the outcomes it counts). */
  async addOperations(id: string, operations: number): Promise<void> {
    if (operations === 0) return;
    await this.db
      .update(cycles)
      .set({ operations: sql`${cycles.operations} + ${operations}` })
      .where(eq(cycles.id, id));
  }

  /** Ends a cycle: status, final counts, failure, end time. */
  async finish(
    id: string,
    result: {
      status: Exclude<CycleStatus, 'running'>;
      counts?: CycleCounts;
      failure?: Record<string, unknown> | null;
      endedAt?: Date;
    },
  ): Promise<CycleRecord> {
    return this.update(id, {
      status: result.status,
      counts: result.counts,
      failure: result.failure ?? null,
      endedAt: result.endedAt ?? new Date(),
    });
  }
}
