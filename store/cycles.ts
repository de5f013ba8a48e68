// Cycles: one row per pass of a provisioning job, created idempotently by
// (app, number) so a re-run activity finds the cycle it already began.
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gte, lt, ne, sql } from 'drizzle-orm';
import { TransientError } from '../engine/errors.ts';
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
  /** Temporal run of the cycle workflow that began it, or null. */
  runId: string | null;
}

export interface NewCycle {
  appId: string;
  number: number;
  /** Temporal run of the cycle workflow beginning it: a retried beginCycle finds its cycle by it. */
  runId?: string | null;
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
    | 'runId'
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
    runId: r.runId,
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
        runId: input.runId ?? null,
      })
      .onConflictDoNothing({ target: [cycles.appId, cycles.number] })
      .returning();
    if (inserted[0]) return { cycle: toCycle(inserted[0]), created: true };
    const existing = await this.getByNumber(input.appId, input.number);
    if (!existing) throw notFound('Cycle', `${input.appId}#${input.number}`);
    return { cycle: existing, created: false };
  }

  /**
   * Begins cycle (app, number) for a cycle workflow run. The same run always gets the same cycle (a
   * retried activity). A running cycle of that number is taken over (a cycle workflow reset or re-run).
   * A FINISHED cycle of that number is never begun again: its summary belongs to a pass that is over,
   * so the run gets a new cycle with the app's next number (`number` then differs from the input).
   */
  async begin(input: NewCycle): Promise<{ cycle: CycleRecord; created: boolean }> {
    const runId = input.runId ?? null;
    if (runId !== null) {
      const [mine] = await this.db
        .select()
        .from(cycles)
        .where(and(eq(cycles.appId, input.appId), eq(cycles.runId, runId)));
      if (mine) return { cycle: toCycle(mine), created: false };
    }
    for (let number = input.number, tries = 0; tries < 5; tries++) {
      const { cycle, created } = await this.create({ ...input, number, runId });
      if (created) {
        await this.abandonRunning(input.appId, cycle.id);
        return { cycle, created };
      }
      if (cycle.status === 'running') {
        const taken = runId !== null && cycle.runId !== runId ? await this.update(cycle.id, { runId }) : cycle;
        return { cycle: taken, created: false };
      }
      number = await this.nextNumber(input.appId);
    }
    throw new TransientError(`Could not begin a new cycle for app ${input.appId}: cycle numbers keep being taken`, {
      code: 'Conflict',
    });
  }

  /**
   * An app runs one cycle at a time, so when a new one begins, any other still `running` was cut off
   * (its job terminated or reset, its worker gone with an in-memory Temporal): it is closed `stopped`.
   */
  private async abandonRunning(appId: string, currentId: string): Promise<void> {
    await this.db
      .update(cycles)
      .set({ status: 'stopped', endedAt: new Date() })
      .where(and(eq(cycles.appId, appId), eq(cycles.status, 'running'), ne(cycles.id, currentId)));
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

  /**
   * The app's running cycle `number`, or a later running one (beginCycle gives a run a new number when
   * the one asked for had finished); null before the cycle began or after it ended. The status route
   * reads the progress of the cycle the job runs from it.
   */
  async running(appId: string, number: number): Promise<CycleRecord | null> {
    const [row] = await this.db
      .select()
      .from(cycles)
      .where(and(eq(cycles.appId, appId), eq(cycles.status, 'running'), gte(cycles.number, number)))
      .orderBy(asc(cycles.number))
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
