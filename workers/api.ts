// `npm run api`: the control API as its own process (docker-compose), with the store-backed
// resource routes. Needs TEMPORAL_ADDRESS, FERRY_API_KEYS, FERRY_ENCRYPTION_KEY and (normally)
// DATABASE_URL; migrations are the worker's job but are applied here too (idempotent, locked).
// At start it ensures the job of every app whose provisioning is on, as `npm start` does.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app.ts';
import { createLogger, type Logger } from '../api/logger.ts';
import type { ProvisioningControl } from '../api/provisioning-control.ts';
import { ensureProvisioningJobs, trackProvisioningEnabled } from '../api/resources.ts';
import { serveApi } from '../api/server.ts';
import { createTemporalProvisioningControl } from '../api/temporal.ts';
import type { Store } from '../store/index.ts';
import { loadEnv, type FerryEnv } from './env.ts';
import { openStoreFromEnv } from './worker.ts';

/** The control API over the store and a Temporal client, with database and Temporal health checks. */
export function createControlApi(deps: {
  store: Store;
  connection: Connection;
  client: Client;
  taskQueue: string;
  apiKeys: string[];
  logger: Logger;
}): { app: ReturnType<typeof createApp>; provisioning: ProvisioningControl } {
  const { store, connection } = deps;
  const provisioning = trackProvisioningEnabled(
    createTemporalProvisioningControl({ client: deps.client.workflow, taskQueue: deps.taskQueue }),
    store,
  );
  const app = createApp({
    apiKeys: deps.apiKeys,
    provisioning,
    resources: { store },
    healthChecks: {
      database: async () => {
        await store.apps.list({ limit: 1 });
      },
      temporal: async () => {
        await connection.workflowService.getSystemInfo({});
      },
    },
    logger: deps.logger,
  });
  return { app, provisioning };
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
export async function startApi(env: FerryEnv, logger: Logger): Promise<RunningApiProcess> {
  if (env.apiKeys.length === 0) throw new Error('FERRY_API_KEYS is required to run the API on its own');
  if (!env.temporal.address) throw new Error('TEMPORAL_ADDRESS is required to run the API on its own');
  const cleanups: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const store = await openStoreFromEnv(env);
    cleanups.push(() => store.close());
    await store.migrate();
    const connection = await Connection.connect({ address: env.temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: env.temporal.namespace });
    const { app, provisioning } = createControlApi({
      store,
      connection,
      client,
      taskQueue: env.temporal.taskQueue,
      apiKeys: env.apiKeys,
      logger,
    });
    const server = await serveApi(app, { host: env.host, port: env.port });
    cleanups.push(() => server.close());
    const ensured = await ensureProvisioningJobs(store, provisioning);
    logger.info('Ferry API listening', { url: server.url, docs: `${server.url}/docs`, jobsEnsured: ensured });
    return { url: server.url, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function main(): Promise<void> {
  const env = loadEnv();
  const logger = createLogger({ level: env.logLevel, base: { service: 'ferry-api' } });
  const api = await startApi(env, logger);
  const stop = async (signal: string) => {
    logger.info('shutting down', { signal });
    await api.close();
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
