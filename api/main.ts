// `npm run api`: the control API as its own process (docker-compose). Reads the environment,
// connects to Temporal and serves until SIGINT/SIGTERM. `npm start` composes the same parts
// together with the worker instead.
import { Connection, WorkflowClient } from '@temporalio/client';
import { loadEnv } from '../workers/env.ts';
import { createApp } from './app.ts';
import { createLogger } from './logger.ts';
import { serveApi } from './server.ts';
import { createTemporalProvisioningControl } from './temporal.ts';

async function main(): Promise<void> {
  const env = loadEnv();
  const logger = createLogger({ level: env.logLevel, base: { service: 'ferry-api' } });
  if (env.apiKeys.length === 0) throw new Error('FERRY_API_KEYS is required to run the API on its own');
  if (!env.temporal.address) throw new Error('TEMPORAL_ADDRESS is required to run the API on its own');

  const connection = await Connection.connect({ address: env.temporal.address });
  const client = new WorkflowClient({ connection, namespace: env.temporal.namespace });
  const app = createApp({
    apiKeys: env.apiKeys,
    provisioning: createTemporalProvisioningControl({ client, taskQueue: env.temporal.taskQueue }),
    healthChecks: {
      temporal: async () => {
        await connection.workflowService.getSystemInfo({});
      },
    },
    logger,
  });
  const server = await serveApi(app, { host: env.host, port: env.port });
  logger.info('Ferry API listening', { url: server.url, docs: `${server.url}/docs` });

  const stop = async (signal: string) => {
    logger.info('shutting down', { signal });
    await server.close();
    await connection.close();
    process.exit(0);
  };
  process.once('SIGINT', (s) => void stop(s));
  process.once('SIGTERM', (s) => void stop(s));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
