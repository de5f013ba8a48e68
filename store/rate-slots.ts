// The shared request schedule of each app (table app_rate_slots, migration 0014): a worker reserves
// its next run of request start times in ONE upsert. Concurrent reservations of one app queue on the
// row lock, and each reads the row as the previous one left it, so runs never overlap between
// workers. Nothing expires: a worker that dies only leaves its last run (a few hundred ms) unused.
// Times are the database's clock, so workers whose clocks disagree still agree on the schedule.
import { sql } from 'drizzle-orm';
import { asyncCommit, preparedQuery, query, type Executor } from './db.ts';

/** A run of consecutive start times reserved by one worker; times are database epoch ms (fractional). */
export interface RateSlotRun {
  /** The first reserved start. */
  firstStartMs: number;
  /** Starts reserved: firstStartMs, firstStartMs + intervalMs, … */
  slots: number;
  intervalMs: number;
  /** The database clock when the reservation was made. */
  databaseNowMs: number;
  /** End of the app's Retry-After pause (0 when none was ever set); the run starts after it. */
  pausedUntilMs: number;
}

interface RunRow {
  first_ms: number | string;
  now_ms: number | string;
  paused_ms: number | string | null;
}

/** `n` microseconds as a Postgres interval (bound as one number). */
const micros = (us: number) => sql`(${Math.round(us)}::bigint * interval '1 microsecond')`;

export class RateSlotRepository {
  constructor(private readonly db: Executor) {}

  /**
   * Reserves `slots` start times `intervalMs` apart, from the app's next free start (never before
   * now, never inside a pause). Null when the app no longer exists.
   */
  async reserve(appId: string, slots: number, intervalMs: number): Promise<RateSlotRun | null> {
    if (!(slots >= 1) || !(intervalMs > 0))
      throw new RangeError('reserve needs at least one slot and a positive interval');
    const span = micros(slots * intervalMs * 1000);
    // A prepared statement, committed without waiting for the WAL flush (asyncCommit in the filter):
    // it runs every few requests. A crash of the database itself may lose the last runs reserved,
    // so runs reserved after it may overlap them: at most a few hundred ms above the rate, once.
    const rows = await preparedQuery<RunRow>(
      this.db,
      sql`insert into app_rate_slots as s (app_id, next_start, updated_at)
          select id, clock_timestamp() + ${span}, clock_timestamp() from apps
            where id = ${appId} and ${asyncCommit}
        on conflict (app_id) do update
          set next_start = greatest(s.next_start, clock_timestamp(), coalesce(s.paused_until, '-infinity'::timestamptz)) + ${span},
            updated_at = clock_timestamp()
        returning (extract(epoch from s.next_start - ${span}) * 1000)::float8 as first_ms,
          (extract(epoch from clock_timestamp()) * 1000)::float8 as now_ms,
          (extract(epoch from s.paused_until) * 1000)::float8 as paused_ms`,
    );
    const row = rows[0];
    if (!row) return null;
    return {
      firstStartMs: Number(row.first_ms),
      slots,
      intervalMs,
      databaseNowMs: Number(row.now_ms),
      pausedUntilMs: row.paused_ms === null ? 0 : Number(row.paused_ms),
    };
  }

  /**
   * Holds every worker's next reservation of the app back until `forMs` from now (a Retry-After);
   * never shortens a pause. Returns the pause's end (database epoch ms), or null when the app is gone.
   */
  async pause(appId: string, forMs: number): Promise<number | null> {
    const until = sql`clock_timestamp() + ${micros(Math.max(0, forMs) * 1000)}`;
    const rows = await query<{ paused_ms: number | string }>(
      this.db,
      sql`insert into app_rate_slots as s (app_id, next_start, paused_until, updated_at)
          select id, clock_timestamp(), ${until}, clock_timestamp() from apps where id = ${appId}
        on conflict (app_id) do update
          set paused_until = greatest(s.paused_until, excluded.paused_until), updated_at = clock_timestamp()
        returning (extract(epoch from s.paused_until) * 1000)::float8 as paused_ms`,
    );
    return rows[0] ? Number(rows[0].paused_ms) : null;
  }
}
