// The progress of on-demand requests while they run: the steps done so far, then the report or the
// failure. Kept in the key-value table (no schema of its own: one small JSON document per request,
// rewritten as each step completes) under the app and request id, and removed by the maintenance
// run a week after its last write (activities/retention.ts).
import type { KeyValueRepository } from './key-values.ts';

/** Key-value namespace of on-demand progress (key: `<appId>/<requestId>`). */
export const ON_DEMAND_PROGRESS_NAMESPACE = 'on-demand-progress';

/** One step as it completed: a pipeline step of the object, or a member provisioned with a group. */
export interface OnDemandProgressStep {
  name: string;
  status: string;
  /** For a group's members: the user this line is about (the group's own steps carry none). */
  objectId?: string;
  details: Record<string, unknown>;
  /** When the step completed (ISO time). */
  at: string;
}

export interface OnDemandProgress {
  appId: string;
  requestId: string;
  objectType: 'user' | 'group';
  objectId: string;
  /** The activity attempt writing it: a retry starts its list of steps again. */
  attempt: number;
  startedAt: string;
  steps: OnDemandProgressStep[];
  finished: boolean;
  /** The final report (the activity's answer), once finished without a failure. */
  report: unknown;
  /** The failure that ended it (its type, e.g. `ObjectBusy`, and message), once finished with one. */
  failure: { type: string; message: string } | null;
}

const keyOf = (appId: string, requestId: string) => `${appId}/${requestId}`;

export class OnDemandProgressRepository {
  constructor(private readonly keyValues: KeyValueRepository) {}

  async get(appId: string, requestId: string): Promise<OnDemandProgress | null> {
    return this.keyValues.get<OnDemandProgress>(ON_DEMAND_PROGRESS_NAMESPACE, keyOf(appId, requestId));
  }

  /** Writes the document only if there is none yet (the API's placeholder before the activity runs). */
  async begin(progress: OnDemandProgress): Promise<void> {
    await this.keyValues.setIfAbsent(ON_DEMAND_PROGRESS_NAMESPACE, keyOf(progress.appId, progress.requestId), progress);
  }

  /** Writes the whole document (it is small: a few steps, a member line per user of a group). */
  async set(progress: OnDemandProgress): Promise<void> {
    await this.keyValues.set(ON_DEMAND_PROGRESS_NAMESPACE, keyOf(progress.appId, progress.requestId), progress);
  }

  /** Deletes up to `limit` documents last written before `before`; returns how many. */
  async deleteUpdatedBefore(before: Date, limit: number): Promise<number> {
    return this.keyValues.deleteUpdatedBefore(ON_DEMAND_PROGRESS_NAMESPACE, before, limit);
  }
}
