// createActivities(deps): Ferry's Temporal activities as thin, idempotent wrappers over engine/,
// scim/ and store/. Every error leaves through activities/failures.ts (one classification).
import { FerryError } from '../engine/errors.ts';
import { DEFAULT_INTERVAL_MINUTES } from '../engine/policies/cadence.ts';
import { AppRuntimes } from './app-runtime.ts';
import { CycleContexts } from './cycle-context.ts';
import { beginCycle, deletionGuard, finishCycle, processBatch, type CycleServices } from './cycle.ts';
import { silentLogger, type ActivityDeps } from './deps.ts';
import { withFailureConversion } from './failures.ts';
import { announceJobState } from './job-events.ts';
import { notify } from './notify.ts';
import { provisionOnDemand } from './on-demand.ts';
import { failReconcilePass, reconcileApp } from './reconcile.ts';
import { applyRetention } from './retention.ts';
import { WebhookDeliverer } from './webhooks.ts';
import type { AppSummary, CycleFailure, FerryActivities } from './types.ts';
import type { TestConnectionResult } from '../scim/index.ts';

export type { ActivityDeps, ActivityLogger, Mailer } from './deps.ts';
export { createSmtpMailer, type SmtpSettings } from './notify.ts';
export { toActivityFailure } from './failures.ts';

export interface FerryActivityHandle {
  activities: FerryActivities;
  /** Closes the SCIM clients (connection pools) this worker opened. */
  close(): Promise<void>;
}

function targetFailure(result: Exclude<TestConnectionResult, { ok: true }>): CycleFailure {
  switch (result.reason) {
    case 'unauthorized':
    case 'forbidden':
      return { kind: 'configuration', code: 'Unauthorized', message: result.message };
    case 'notFound':
    case 'notScim':
      return { kind: 'configuration', code: 'NonScimResponse', message: result.message };
    case 'insecure':
      return { kind: 'configuration', code: 'Unknown', message: result.message };
    case 'addressNotAllowed':
      return { kind: 'configuration', code: 'AddressNotAllowed', message: result.message };
    default:
      return { kind: 'transient', code: 'ServiceUnavailable', message: result.message };
  }
}

export function createFerryActivities(deps: ActivityDeps): FerryActivityHandle {
  const store = deps.store;
  const runtimes = new AppRuntimes(deps);
  const services: CycleServices = {
    deps,
    store,
    runtimes,
    contexts: new CycleContexts(store),
    now: deps.now ?? (() => new Date()),
  };
  const logger = deps.logger ?? silentLogger;
  const webhooks = new WebhookDeliverer(store, deps);

  /**
   * A cycle with nothing to export must send nothing at all, not even a test connection: no
   * directory change since the watermark, no escrow due, and the last cycle went well.
   */
  async function nothingToDo(appId: string): Promise<boolean> {
    const app = await store.apps.require(appId);
    if (app.watermark === null) return false;
    const [latestSeq, last, due] = await Promise.all([
      store.changes.latestSeq(),
      store.cycles.latest(appId),
      store.links.escrowDue(appId, services.now(), 1),
    ]);
    return (
      latestSeq === app.watermark && due.length === 0 && last?.status === 'succeeded' && !last.deletionThresholdExceeded
    );
  }

  const activities: FerryActivities = {
    async loadApp({ appId }) {
      const app = await store.apps.require(appId);
      const configuration = app.configuration as { cycleIntervalMinutes?: number; notificationEmail?: string | null };
      const summary: AppSummary = {
        appId,
        appName: app.name,
        provisioningEnabled: app.provisioningEnabled,
        cycleIntervalMinutes: configuration.cycleIntervalMinutes ?? DEFAULT_INTERVAL_MINUTES,
        notificationEmail: configuration.notificationEmail ?? null,
        configVersion: String(app.configVersion),
        nextCycleNumber: await store.cycles.nextNumber(appId),
      };
      return summary;
    },

    async checkTarget({ appId }) {
      try {
        if (await nothingToDo(appId)) return null;
        const runtime = await runtimes.get(appId);
        const result = await runtime.client.testConnection();
        if (result.ok) return null;
        const failure = targetFailure(result);
        // `detail` (e.g. ECONNREFUSED) is for the operator's log: the cycle's record says only `unreachable`.
        logger.warn('target check failed', { appId, code: failure.code, reason: result.reason, detail: result.detail });
        return failure;
      } catch (error) {
        if (error instanceof FerryError) return { kind: error.kind, code: error.code, message: error.message };
        throw error;
      }
    },

    beginCycle: (input) => beginCycle(services, input),
    deletionGuard: (input) => deletionGuard(services, input),
    processBatch: (input) => processBatch(services, input),
    finishCycle: (input) => finishCycle(services, input),

    async resetApp({ appId, reset }) {
      await store.transaction(async (tx) => {
        await tx.apps.setWatermark(appId, null);
        await tx.links.clearEscrows(appId);
        if (reset === 'full') await tx.links.deleteAll(appId);
      });
    },

    provisionOnDemand: (input) => provisionOnDemand(services, input),

    reconcileApp: (input) => reconcileApp(services, input),
    failReconcilePass: (input) => failReconcilePass(services, input),

    notify: (input) => notify(store, deps.mailer, input),

    applyRetention: (input) => applyRetention(store, input),

    announceJobState: (change) => announceJobState(store, change),

    dispatchWebhooks: () => webhooks.dispatch(),
    deliverWebhook: ({ deliveryId }) => webhooks.deliver(deliveryId),
  };

  const wrapped = Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      withFailureConversion(fn as (...args: unknown[]) => Promise<unknown>),
    ]),
  ) as unknown as FerryActivities;
  return {
    activities: wrapped,
    close: async () => {
      await Promise.all([runtimes.closeAll(), webhooks.close()]);
    },
  };
}

/** The activities alone (for `Worker.create({ activities })`). */
export function createActivities(deps: ActivityDeps): FerryActivities {
  return createFerryActivities(deps).activities;
}
