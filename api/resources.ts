// The resource routers (directory, gallery, apps, assignments, on-demand, objects, staged deletions, cycles, logs) mounted
// under /api/v1, and the pieces of the composition root that tie the API to the store.
import type { NetworkRange, ScimClient, ScimClientOptions } from '../scim/index.ts';
import type { Store } from '../store/index.ts';
import type { Logger } from './logger.ts';
import type { ProvisioningControl } from './provisioning-control.ts';
import { createRouter } from './router.ts';
import type { AppLookup } from './routes/provisioning.ts';
import { appProbeRouter } from './routes/apps-probe.ts';
import { appsRouter } from './routes/apps.ts';
import { assignmentsRouter } from './routes/assignments.ts';
import { cyclesRouter } from './routes/cycles.ts';
import { directoryImportRouter } from './routes/directory-import.ts';
import { directoryRouter } from './routes/directory.ts';
import { expressionsRouter } from './routes/expressions.ts';
import { galleryRouter } from './routes/gallery.ts';
import { logsRouter } from './routes/logs.ts';
import { objectsRouter } from './routes/objects.ts';
import { onDemandRouter } from './routes/on-demand.ts';
import { previewsRouter } from './routes/previews.ts';
import { reconcileRouter } from './routes/reconcile.ts';
import type { ReconcileControl } from './reconcile-control.ts';
import { scopeCountRouter } from './routes/scope-count.ts';
import { stagedDeletionsRouter } from './routes/staged-deletions.ts';
import { webhooksRouter } from './routes/webhooks.ts';
import type { TemporalUi } from './temporal-ui.ts';
import type { CycleProgressSource } from './cycle-progress.ts';

export interface ResourceOptions {
  store: Store;
  /** SCIM client factory used by test-connection. */
  createScimClient?: (options: ScimClientOptions) => ScimClient;
  /** How long provision-on-demand waits for its report (ms). */
  onDemandTimeoutMs?: number;
  /** How long GET /apps/{id} waits for the job's status (ms). */
  statusTimeoutMs?: number;
  /** FERRY_ALLOW_INSECURE_LOOPBACK=1: every app may use a loopback target, also over plain http (as the worker allows). */
  allowInsecureLoopback?: boolean;
  /** FERRY_ALLOWED_TARGET_NETWORKS: networks apps may target besides public addresses (as the worker allows). */
  allowedTargetNetworks?: readonly NetworkRange[];
  /** Reconcile passes (Temporal in production); absent: POST /apps/{id}/reconcile answers 503. */
  reconcile?: ReconcileControl;
}

export function resourceRouters(
  options: ResourceOptions & { provisioning: ProvisioningControl; temporalUi?: TemporalUi | null; logger?: Logger },
) {
  const { store, provisioning } = options;
  const router = createRouter();
  router.route('/', directoryImportRouter({ store }));
  router.route('/', directoryRouter({ store }));
  router.route('/', galleryRouter());
  router.route(
    '/',
    appsRouter({
      store,
      provisioning,
      createScimClient: options.createScimClient,
      statusTimeoutMs: options.statusTimeoutMs,
      allowInsecureLoopback: options.allowInsecureLoopback,
      allowedTargetNetworks: options.allowedTargetNetworks,
      temporalUi: options.temporalUi,
      logger: options.logger,
    }),
  );
  router.route(
    '/',
    appProbeRouter({
      store,
      createScimClient: options.createScimClient,
      allowInsecureLoopback: options.allowInsecureLoopback,
      allowedTargetNetworks: options.allowedTargetNetworks,
      logger: options.logger,
    }),
  );
  router.route(
    '/',
    previewsRouter({
      store,
      provisioning,
      environment: {
        allowInsecureLoopback: options.allowInsecureLoopback,
        allowedTargetNetworks: options.allowedTargetNetworks,
      },
      logger: options.logger,
    }),
  );
  router.route('/', assignmentsRouter({ store }));
  router.route('/', onDemandRouter({ store, provisioning, timeoutMs: options.onDemandTimeoutMs }));
  router.route('/', objectsRouter({ store, provisioning, timeoutMs: options.onDemandTimeoutMs }));
  router.route('/', stagedDeletionsRouter({ store, provisioning, timeoutMs: options.onDemandTimeoutMs }));
  router.route('/', cyclesRouter({ store }));
  router.route('/', reconcileRouter({ store, reconcile: options.reconcile }));
  router.route('/', logsRouter({ store }));
  router.route('/', expressionsRouter({ store }));
  router.route(
    '/',
    webhooksRouter({
      store,
      allowInsecureLoopback: options.allowInsecureLoopback,
      allowedTargetNetworks: options.allowedTargetNetworks,
    }),
  );
  router.route(
    '/',
    scopeCountRouter({
      store,
      allowInsecureLoopback: options.allowInsecureLoopback,
      allowedTargetNetworks: options.allowedTargetNetworks,
    }),
  );
  return router;
}

/** The provisioning routes' app lookup, backed by the store. */
export const storeAppLookup = (store: Store): AppLookup => ({
  findApp: async (appId) => {
    const app = await store.apps.get(appId);
    return app ? { id: app.id, name: app.name } : null;
  },
});

/** The running cycles' progress from the store's cycles table (the status route's CycleProgressSource). */
export const storeCycleProgress = (store: Store): CycleProgressSource => ({
  runningCycle: async (appId, number) => {
    const cycle = await store.cycles.running(appId, number);
    return cycle ? { processed: cycle.processed, total: cycle.total, startedAt: cycle.startedAt } : null;
  },
});

/** Key-value namespace of the apps whose job is paused (key: app id), kept across restarts. */
export const PAUSED_JOBS_NAMESPACE = 'provisioning-paused';

/** Whether the app's job was paused (and not resumed since): a re-created job must start paused. */
export async function isProvisioningPaused(store: Store, appId: string): Promise<boolean> {
  return (await store.keyValues.get(PAUSED_JOBS_NAMESPACE, appId)) !== null;
}

/**
 * At process start (`npm start`, `npm run api`): ensures the job of every app whose provisioning is
 * on — paused if it was paused — leaving running jobs untouched. Returns how many apps it ensured.
 */
export async function ensureProvisioningJobs(store: Store, provisioning: ProvisioningControl): Promise<number> {
  const enabled = await store.apps.listProvisioningEnabled();
  for (const app of enabled) {
    await provisioning.ensure(app.id, { appName: app.name, paused: await isProvisioningPaused(store, app.id) });
  }
  return enabled.length;
}

/** How often the API process ensures the jobs again (a Temporal service that lost them gets them back). */
export const ENSURE_JOBS_EVERY_MS = 30_000;

/**
 * After the start-up ensure: ensures the jobs again every `everyMs`, so a Temporal service that lost
 * its workflows while Ferry kept running (the in-memory dev service restarted on its own, a fresh
 * Temporal database) has every job back within that time, paused where it was — no restart of
 * Ferry needed. Running jobs are left untouched (one start request per app with USE_EXISTING).
 * Failures (Temporal still down) are reported to `onError` and tried again at the next round.
 */
export function keepProvisioningJobsEnsured(
  store: Store,
  provisioning: ProvisioningControl,
  options: {
    everyMs?: number;
    onError?: (error: unknown) => void;
    /** Ensured in the same rounds, after the jobs (the maintenance workflow). */
    alsoEnsure?: () => Promise<void>;
  } = {},
): { stop(): void } {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const round = () => {
    timer = null;
    ensureProvisioningJobs(store, provisioning)
      .then(() => options.alsoEnsure?.())
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        if (!stopped) schedule();
      });
  };
  const schedule = () => {
    timer = setTimeout(round, options.everyMs ?? ENSURE_JOBS_EVERY_MS);
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * Keeps the app's `provisioningEnabled` flag and its paused state in step with the job: enabled
 * after start/resume, still enabled but remembered as paused after pause, off after stop. At
 * process start every app whose flag is on gets its job ensured — paused if it was — so an
 * in-memory Temporal that lost its workflows loses no job (the database remembers).
 */
export function trackProvisioningEnabled(control: ProvisioningControl, store: Store): ProvisioningControl {
  const setFlag = async (appId: string, enabled: boolean) => {
    if (await store.apps.get(appId)) await store.apps.setProvisioningEnabled(appId, enabled);
  };
  const forgetPaused = (appId: string) => store.keyValues.delete(PAUSED_JOBS_NAMESPACE, appId);
  return {
    ...control,
    async start(appId, options) {
      await control.start(appId, options);
      await setFlag(appId, true);
      await forgetPaused(appId);
    },
    async resume(appId) {
      await control.resume(appId);
      await setFlag(appId, true);
      await forgetPaused(appId);
    },
    async restart(appId, reset) {
      // The job's restart also un-pauses it.
      await control.restart(appId, reset);
      await forgetPaused(appId);
    },
    async pause(appId) {
      await control.pause(appId);
      if (await store.apps.get(appId))
        await store.keyValues.set(PAUSED_JOBS_NAMESPACE, appId, { since: new Date().toISOString() });
    },
    async stop(appId) {
      await control.stop(appId);
      await setFlag(appId, false);
      await forgetPaused(appId);
    },
  };
}
