// `npm run api`: the control API as its own process (docker-compose), with the store-backed
// resource routes. Needs TEMPORAL_ADDRESS, FERRY_API_KEYS, FERRY_ENCRYPTION_KEY and (normally)
// DATABASE_URL; migrations are the worker's job but are applied here too (idempotent, locked).
// At start it ensures the job of every app whose provisioning is on, as `npm start` does, and in
// its periodic ensure rounds it starts the scheduled reconcile passes that are due.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { createApp } from '../api/app.ts';
import type { ConfiguredKey } from '../api/auth.ts';
import { createLogger, type Logger } from '../api/logger.ts';
import type { ProvisioningControl } from '../api/provisioning-control.ts';
import { ensureProvisioningJobs, keepProvisioningJobsEnsured, trackProvisioningEnabled } from '../api/resources.ts';
import { ensureMaintenanceWorkflow, ensureWebhooksWorkflow } from '../api/maintenance.ts';
import { signalDirectoryChanged, startChangePush } from '../api/change-push.ts';
import { serveApi } from '../api/server.ts';
import { jobStatesReader } from '../api/job-states.ts';
import { createTemporalProvisioningControl } from '../api/temporal.ts';
import { createTemporalSourceControl } from '../api/source-temporal.ts';
import { createTemporalReconcileControl, type ReconcileControl } from '../api/reconcile-control.ts';
import { startDueReconcilePasses } from '../api/reconcile-schedule.ts';
import { ensureSourceWorkflows, type SourceControl } from '../api/source-control.ts';
import type { TemporalUi } from '../api/temporal-ui.ts';
import type { NetworkRange } from '../scim/index.ts';
import type { Store } from '../store/index.ts';
import { createFerryMetrics, type FerryMetrics } from '../telemetry/metrics.ts';
import { loadEnv, type FerryEnv } from './env.ts';
import { connectTemporalClient, payloadCodecFromEnv } from './temporal-connection.ts';
import { startTracing, type Tracing } from '../telemetry/tracing.ts';
import { openStoreFromEnv } from './worker.ts';

/** The control API over the store and a Temporal client, with database and Temporal health checks. */
export function createControlApi(deps: {
  store: Store;
  connection: Connection;
  client: Client;
  taskQueue: string;
  /** Admin keys from the environment; keys made with the API or `npm run keys` come from the store. */
  apiKeys: ConfiguredKey[];
  logger: Logger;
  /** FERRY_ALLOW_INSECURE_LOOPBACK=1: the API accepts plain-http loopback targets for every app, as the worker does. */
  allowInsecureLoopback: boolean;
  /** FERRY_ALLOWED_TARGET_NETWORKS: networks apps may target besides public addresses, as in the worker. */
  allowedTargetNetworks?: readonly NetworkRange[];
  /** The Temporal Web UI, when known: status answers link to the job's page there. */
  temporalUi?: TemporalUi | null;
  /** The payload codec of the client, served at /codec/encode and /codec/decode for the Web UI and CLI. */
  payloadCodec?: PayloadCodec | null;
  /** Temporal's namespace: the codec endpoint serves this one only. */
  namespace?: string;
  /** FERRY_ENCRYPTION_KEY: the console's session cookies are sealed with a key derived from it. */
  consoleSecret?: string | null;
  /** Prometheus metrics served at GET /metrics (shared with the worker under npm start). */
  metrics?: FerryMetrics;
  /** FERRY_METRICS_TOKEN: a bearer token that may read /metrics without an API key. */
  metricsToken?: string | null;
}): {
  app: ReturnType<typeof createApp>;
  provisioning: ProvisioningControl;
  sources: SourceControl;
  reconcile: ReconcileControl;
} {
  const { store, connection } = deps;
  const provisioning = trackProvisioningEnabled(
    createTemporalProvisioningControl({ client: deps.client.workflow, taskQueue: deps.taskQueue }),
    store,
  );
  const sources = createTemporalSourceControl(deps.client.workflow, deps.taskQueue);
  const reconcile = createTemporalReconcileControl(deps.client.workflow, deps.taskQueue);
  // ferry_jobs and ferry_job_state: read from Temporal's visibility at each scrape of /metrics.
  const metrics = deps.metrics ?? createFerryMetrics({ processMetrics: false });
  metrics.jobStatesFrom(jobStatesReader({ client: deps.client.workflow, store }));
  const app = createApp({
    apiKeys: deps.apiKeys,
    provisioning,
    resources: {
      store,
      allowInsecureLoopback: deps.allowInsecureLoopback,
      allowedTargetNetworks: deps.allowedTargetNetworks,
      reconcile,
    },
    sources,
    temporalUi: deps.temporalUi ?? null,
    codec: deps.payloadCodec
      ? { codec: deps.payloadCodec, namespace: deps.namespace ?? 'default', uiOrigin: uiOrigin(deps.temporalUi) }
      : undefined,
    healthChecks: {
      database: async () => {
        await store.apps.list({ limit: 1 });
      },
      temporal: async () => {
        await connection.workflowService.getSystemInfo({});
      },
    },
    logger: deps.logger,
    consoleSecret: deps.consoleSecret,
    metrics,
    metricsToken: deps.metricsToken,
  });
  return { app, provisioning, sources, reconcile };
}

/** The origin (scheme://host[:port]) of the Web UI, whose browser pages may call the codec endpoint. */
function uiOrigin(ui: TemporalUi | null | undefined): string | null {
  return ui ? new URL(ui.url).origin : null;
}

/**
 * What the control API's process keeps running beside its routes (`npm run api` and `npm start`
 * alike): the maintenance, webhooks and source workflows ensured at start and in the 30 s rounds
 * that keep the provisioning jobs ensured, the scheduled reconcile passes started in those rounds,
 * and the change push. Returns what stops the rounds and the push.
 */
export async function startBackgroundRounds(deps: {
  store: Store;
  client: Client;
  taskQueue: string;
  provisioning: ProvisioningControl;
  sources: SourceControl;
  reconcile: ReconcileControl;
  logger: Logger;
}): Promise<() => Promise<void>> {
  const { store, client, taskQueue, provisioning, sources, reconcile, logger } = deps;
  const ensureMaintenance = async () => {
    await ensureMaintenanceWorkflow(client.workflow, taskQueue);
    await ensureWebhooksWorkflow(client.workflow, taskQueue);
    await ensureSourceWorkflows(store, sources);
    // Scheduled reconcile passes (reconcileIntervalHours) start in the same rounds.
    // A pass that cannot start now is tried again next round; it never holds up the ensures.
    // A job whose state cannot be read now gets its pass; starting it fails on its own if Temporal is down.
    const jobState = async (appId: string) =>
      (await provisioning.status(appId, { timeoutMs: 2_000 }).catch(() => null))?.state ?? null;
    await startDueReconcilePasses(store, reconcile, new Date(), jobState).catch((error: unknown) =>
      logger.warn('could not start the scheduled reconcile passes; trying again', { error }),
    );
  };
  await ensureMaintenance();
  const keeper = keepProvisioningJobsEnsured(store, provisioning, {
    onError: (error) => logger.warn('could not ensure the provisioning jobs; trying again', { error }),
    alsoEnsure: ensureMaintenance,
  });
  const push = startChangePush(store, signalDirectoryChanged(client.workflow), {
    onError: (error) => logger.warn('could not push directory changes; trying again', { error }),
  });
  return async () => {
    await push.stop();
    keeper.stop();
  };
}

export interface RunningApiProcess {
  url: string;
  close(): Promise<void>;
}

/**
 * The API process: migrations, Temporal client, the API on HOST:PORT, and — like `npm start` — the
 * job of every app whose provisioning is on ensured (paused if it was), so a Temporal that lost its
 * workflows gets them back whichever entry point starts first.
 */
export async function startApi(
  env: FerryEnv,
  logger: Logger,
  tracing: Tracing | null = null,
): Promise<RunningApiProcess> {
  if (!env.temporal.address) throw new Error('TEMPORAL_ADDRESS is required to run the API on its own');
  const cleanups: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const store = await openStoreFromEnv(env);
    cleanups.push(() => store.close());
    await store.migrate();
    if (env.apiKeys.length === 0 && (await store.apiKeys.countActive()) === 0) {
      throw new Error(
        'FERRY_API_KEYS is required to run the API on its own, unless the database holds a key (npm run keys -- create --name … --role admin)',
      );
    }
    const payloadCodec = payloadCodecFromEnv(env, env.encryptionKey);
    const { connection, client } = await connectTemporalClient(
      { ...env.temporal, address: env.temporal.address },
      payloadCodec,
      { traced: Boolean(tracing) },
    );
    cleanups.push(() => connection.close());
    const { app, provisioning, sources, reconcile } = createControlApi({
      store,
      connection,
      client,
      payloadCodec,
      namespace: env.temporal.namespace,
      taskQueue: env.temporal.taskQueue,
      consoleSecret: env.encryptionKey,
      apiKeys: env.apiKeys,
      logger,
      allowInsecureLoopback: env.allowInsecureLoopback,
      allowedTargetNetworks: env.allowedTargetNetworks,
      temporalUi: env.temporal.uiUrl ? { url: env.temporal.uiUrl, namespace: env.temporal.namespace } : null,
      metrics: createFerryMetrics(),
      metricsToken: env.metricsToken,
    });
    const server = await serveApi(app, { host: env.host, port: env.port });
    cleanups.push(() => server.close());
    const ensured = await ensureProvisioningJobs(store, provisioning);
    cleanups.push(
      await startBackgroundRounds({
        store,
        client,
        taskQueue: env.temporal.taskQueue,
        provisioning,
        sources,
        reconcile,
        logger,
      }),
    );
    logger.info('Ferry API listening', { url: server.url, docs: `${server.url}/docs`, jobsEnsured: ensured });
    return { url: server.url, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function main(): Promise<void> {
  const env = loadEnv();
  const logger = createLogger({ level: env.logLevel, moduleLevels: env.logLevels, base: { service: 'ferry-api' } });
  const tracing = startTracing('ferry-api');
  const api = await startApi(env, logger, tracing);
  const stop = async (signal: string) => {
    logger.info('shutting down', { signal });
    await api.close();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.once('SIGINT', (s) => void stop(s));
  process.once('SIGTERM', (s) => void stop(s));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`ferry-api: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
