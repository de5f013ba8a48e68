// Scheduled reconcile passes: at each of the API process's ensure rounds (every 30 s, also under
// `npm start`), every app whose provisioning is on and not paused, whose job is not quarantined or
// disabled, and whose last pass started longer ago than its `reconcileIntervalHours` (default 24;
// 0 = off), gets a pass in its configured mode. A quarantined app's target is failing or untrusted:
// paging through it daily would only add load and drift noise until an operator releases the job. Starting is idempotent: the workflow id `reconcile:<appId>` admits one run at a time, and a
// refused start keeps no pass row.
import type { Store } from '../store/index.ts';
import { ApiError } from './errors.ts';
import { configuredMode, startReconcilePass, type ReconcileControl } from './reconcile-control.ts';
import { isProvisioningPaused } from './resources.ts';
import { reconcileIntervalOf } from './routes/apps-config.ts';

/** The state of an app's job (its status query), or null when unknown: a pass is then started. */
export type JobStateLookup = (appId: string) => Promise<string | null>;

/** Job states in which no scheduled pass starts. */
const NO_PASS_STATES: ReadonlySet<string> = new Set(['quarantined', 'disabled']);

/**
 * Starts a pass (in the app's configured mode) for every app whose provisioning is on and not
 * paused, whose job is not quarantined or disabled (per `jobState`), whose interval is not 0, and whose last pass started at least `reconcileIntervalHours` before `now`
 * (never one: counted from the app's creation). A pass already running is left alone. Idempotent:
 * the workflow id `reconcile:<appId>` admits one run at a time. Returns the apps it started one for.
 */
export async function startDueReconcilePasses(
  store: Store,
  control: ReconcileControl,
  now: Date = new Date(),
  jobState: JobStateLookup = async () => null,
): Promise<string[]> {
  const started: string[] = [];
  for (const app of await store.apps.listProvisioningEnabled()) {
    const hours = reconcileIntervalOf(app.configuration as { reconcileIntervalHours?: unknown });
    if (hours === 0 || (await isProvisioningPaused(store, app.id))) continue;
    const latest = await store.reconcile.latestPass(app.id);
    const since = Date.parse(latest?.startedAt ?? app.createdAt);
    if (now.getTime() - since < hours * 3_600_000) continue;
    const state = await jobState(app.id);
    if (state !== null && NO_PASS_STATES.has(state)) continue;
    try {
      await startReconcilePass(store, control, app.id, configuredMode(app));
      started.push(app.id);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'conflict') continue;
      throw error;
    }
  }
  return started;
}
