// The resource routers (directory, gallery, apps, assignments, on-demand, cycles, logs) mounted
// under /api/v1, and the pieces of the composition root that tie the API to the store.
import type { ScimClient, ScimClientOptions } from '../scim/index.ts';
import type { Store } from '../store/index.ts';
import type { ProvisioningControl } from './provisioning-control.ts';
import { createRouter } from './router.ts';
import type { AppLookup } from './routes/provisioning.ts';
import { appsRouter } from './routes/apps.ts';
import { assignmentsRouter } from './routes/assignments.ts';
import { cyclesRouter } from './routes/cycles.ts';
import { directoryImportRouter } from './routes/directory-import.ts';
import { directoryRouter } from './routes/directory.ts';
import { galleryRouter } from './routes/gallery.ts';
import { logsRouter } from './routes/logs.ts';
import { onDemandRouter } from './routes/on-demand.ts';

export interface ResourceOptions {
  store: Store;
  /** SCIM client factory used by test-connection. */
  createScimClient?: (options: ScimClientOptions) => ScimClient;
  /** How long provision-on-demand waits for its report (ms). */
  onDemandTimeoutMs?: number;
  /** How long GET /apps/{id} waits for the job's status (ms). */
  statusTimeoutMs?: number;
}

export function resourceRouters(options: ResourceOptions & { provisioning: ProvisioningControl }) {
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
    }),
  );
  router.route('/', assignmentsRouter({ store }));
  router.route('/', onDemandRouter({ store, provisioning, timeoutMs: options.onDemandTimeoutMs }));
  router.route('/', cyclesRouter({ store }));
  router.route('/', logsRouter({ store }));
  return router;
}

/** The provisioning routes' app lookup, backed by the store. */
export const storeAppLookup = (store: Store): AppLookup => ({
  findApp: async (appId) => {
    const app = await store.apps.get(appId);
    return app ? { id: app.id, name: app.name } : null;
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
