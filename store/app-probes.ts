// The latest capability probe of each app's target: kept until the next probe replaces it, gone with the app.
import { eq } from 'drizzle-orm';
import { iso, type Executor } from './db.ts';
import { appProbes } from './schema.ts';

export interface AppProbeRecord {
  appId: string;
  result: Record<string, unknown>;
  writes: boolean;
  probedBy: string;
  probedAt: string;
}

export class AppProbeRepository {
  constructor(private readonly db: Executor) {}

  /** Stores `result` as the app's latest probe (replacing the one before). */
  async save(input: {
    appId: string;
    result: Record<string, unknown>;
    writes: boolean;
    probedBy: string;
  }): Promise<AppProbeRecord> {
    const values = { ...input, probedAt: new Date() };
    const [row] = await this.db
      .insert(appProbes)
      .values(values)
      .onConflictDoUpdate({ target: appProbes.appId, set: values })
      .returning();
    return { ...row, probedAt: iso(row.probedAt) ?? '' };
  }

  async get(appId: string): Promise<AppProbeRecord | null> {
    const [row] = await this.db.select().from(appProbes).where(eq(appProbes.appId, appId));
    return row ? { ...row, probedAt: iso(row.probedAt) ?? '' } : null;
  }
}
