// `npm start`: Ferry on one machine in one process — migrations, worker and API — with embedded
// defaults. Database: Postgres at DATABASE_URL, else PGlite under ./.ferry/db.
// Temporal: TEMPORAL_ADDRESS, else a `temporal` CLI dev server (durable: its SQLite file is under
// ./.ferry/) when one is found (workers/temporal-cli.ts), else the in-repo test service (in memory,
// NOT durable: a warning says so). API key and encryption key from the environment, else generated
// once and kept under ./.ferry/. At start every app whose provisioning is on gets its job workflow
// ensured (paused if it was): on a durable server the running job is found and left as it is; on
// the test service, which lost it, it is created again — the database, not Temporal, remembers.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfiguredKey } from '../api/auth.ts';
import { createLogger, type Logger, type LogLevel } from '../api/logger.ts';
import { ensureProvisioningJobs } from '../api/resources.ts';
import { serveApi } from '../api/server.ts';
import { generateEncryptionKey, openStore, type Store } from '../store/index.ts';
import { createControlApi, startBackgroundRounds } from './api.ts';
import { loadEnv, type FerryEnv } from './env.ts';
import { findTemporalCli } from './temporal-cli.ts';
import { connectTemporalClient, connectTemporalWorker, payloadCodecFromEnv } from './temporal-connection.ts';
import { startTemporalDevServer } from './temporal-dev-server.ts';
import {
  activityDepsFromEnv,
  createFerryWorker,
  forgetStickyJobQueues,
  mailerFromEnv,
  workerReadinessChecks,
} from './worker.ts';
import { createFerryMetrics } from '../telemetry/metrics.ts';
import { serveProbes } from '../telemetry/probe-server.ts';
import { installRuntimeLogger } from './runtime-logger.ts';
import { startTracing, type Tracing } from '../telemetry/tracing.ts';

/** Keyword search attributes the job upserts (workflows/messages.ts); a dev server must know them. */
const SEARCH_ATTRIBUTES = ['FerryAppId', 'FerryJobState'];

export type TemporalMode = 'address' | 'cli' | 'test-service';

export interface StartOptions {
  /** The environment (default: loadEnv() of process.env). */
  env?: FerryEnv;
  /** Where messages for the operator go (default: stdout). */
  print?: (line: string) => void;
  /** Level of the JSON request/worker log lines (default: the env's LOG_LEVEL). */
  logLevel?: LogLevel;
  /** Use an in-memory PGlite instead of ./.ferry/db when no DATABASE_URL (the demo). */
  inMemoryDatabase?: boolean;
  /** Do not look for a `temporal` CLI (tests, demo in CI). */
  skipTemporalCli?: boolean;
  /** This process's tracing (telemetry/tracing.ts), started by `main`; absent = no spans. */
  tracing?: Tracing | null;
}

export interface RunningFerry {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  apiKey: string;
  store: Store;
  temporal: { mode: TemporalMode; address: string; uiUrl: string | null };
  close(): Promise<void>;
}

/** A secret from the environment, else the one kept in `file`, else a new one written there (mode 600). */
function keptSecret(file: string, generate: () => string): { value: string; generated: boolean } {
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), generated: false };
  const value = generate();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { value, generated: true };
}

interface TemporalServer {
  mode: TemporalMode;
  address: string;
  /** The Temporal Web UI when Ferry knows it: TEMPORAL_UI_URL, or the dev server it started. */
  uiUrl: string | null;
  stop(): Promise<void>;
}

async function startTemporal(
  env: FerryEnv,
  options: StartOptions,
  print: (l: string) => void,
): Promise<TemporalServer> {
  if (env.temporal.address) {
    return { mode: 'address', address: env.temporal.address, uiUrl: env.temporal.uiUrl, stop: async () => {} };
  }
  const cli = options.skipTemporalCli ? null : findTemporalCli();
  if (cli) {
    // The demo's database is in memory, so its Temporal is too: a durable job of an app that no
    // longer exists would only fail at the next start.
    const dbFile = options.inMemoryDatabase ? null : path.resolve(env.dataDir, 'temporal.db');
    const logFile = path.resolve(env.dataDir, 'temporal.log');
    const server = await startTemporalDevServer({
      cli,
      dbFile,
      namespace: env.temporal.namespace,
      searchAttributes: SEARCH_ATTRIBUTES,
      logFile,
      print,
    });
    print(
      `Temporal dev server (${cli}) on ${server.address}, ${dbFile ? `durable in ${dbFile}` : 'in memory'}; its log: ${logFile}`,
    );
    return {
      mode: 'cli',
      address: server.address,
      uiUrl: env.temporal.uiUrl ?? server.uiUrl,
      stop: () => server.stop(),
    };
  }
  // A development fallback, loaded only when needed: the production image does not ship dev/.
  const { startTemporalTestService } = await import('../dev/temporal-service/index.ts').catch((error: unknown) => {
    throw new Error(
      'No TEMPORAL_ADDRESS, no `temporal` CLI, and no in-repo Temporal test service (dev/ is not in this installation): set TEMPORAL_ADDRESS',
      { cause: error },
    );
  });
  const service = await startTemporalTestService({ timeSkipping: false });
  print(
    `WARNING: no TEMPORAL_ADDRESS and no \`temporal\` CLI (run \`npm run setup:temporal\`, or put one on the PATH) — using Ferry's in-memory Temporal test service on ${service.address}. It is NOT durable: workflow histories are lost when Ferry stops (jobs are re-created at the next start from the database). Set TEMPORAL_ADDRESS or install the temporal CLI for real use.`,
  );
  return { mode: 'test-service', address: service.address, uiUrl: null, stop: () => service.close() };
}

export async function startFerry(options: StartOptions = {}): Promise<RunningFerry> {
  const env = options.env ?? loadEnv();
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const level = options.logLevel ?? env.logLevel;
  const logger: Logger = createLogger({ level, moduleLevels: env.logLevels, base: { service: 'ferry' } });
  mkdirSync(env.dataDir, { recursive: true, mode: 0o700 });
  installRuntimeLogger(logger, level, env.logLevels, { metricsAddress: env.temporalMetricsAddress });
  // One registry for the worker and the API of this process: the API's /metrics shows both.
  const metrics = createFerryMetrics();

  // FERRY_API_KEYS, else the generated key: admin keys either way (keys made with the API or
  // `npm run keys` come from the database, with their roles).
  let apiKeys: ConfiguredKey[] = env.apiKeys;
  let apiKey = env.apiKeys[0];
  if (apiKeys.length === 0) {
    const kept = keptSecret(path.join(env.dataDir, 'api-key'), () => `fk_${randomBytes(24).toString('base64url')}`);
    apiKey = kept.value;
    apiKeys = [{ key: kept.value, name: `generated key (${path.join(env.dataDir, 'api-key')})` }];
    if (kept.generated) print(`Generated an API key (kept in ${path.join(env.dataDir, 'api-key')}): ${kept.value}`);
  }
  let encryptionKey = env.encryptionKey;
  if (!encryptionKey) {
    const kept = keptSecret(path.join(env.dataDir, 'encryption-key'), generateEncryptionKey);
    encryptionKey = kept.value;
    if (kept.generated) {
      print(
        `Generated the secret-encryption key in ${path.join(env.dataDir, 'encryption-key')} — back it up: app secrets cannot be read without it.`,
      );
    }
  }

  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    cleanups.length = 0;
  };
  try {
    const store = await openStore({
      databaseUrl: env.databaseUrl ?? undefined,
      dataDir: env.databaseUrl || options.inMemoryDatabase ? undefined : path.join(env.dataDir, 'db'),
      encryptionKey,
    });
    cleanups.push(() => store.close());
    await store.migrate();

    const temporal = await startTemporal(env, options, print);
    cleanups.push(() => temporal.stop());

    // TLS and the API key only for a Temporal given by TEMPORAL_ADDRESS: the dev server and the test
    // service Ferry starts itself listen on loopback without TLS.
    const settings = {
      ...env.temporal,
      address: temporal.address,
      ...(temporal.mode === 'address' ? {} : { tls: null, apiKey: null }),
    };
    const payloadCodec = payloadCodecFromEnv(env, encryptionKey);
    const nativeConnection = await connectTemporalWorker(settings);
    cleanups.push(() => nativeConnection.close());
    const { connection, client } = await connectTemporalClient(settings, payloadCodec, {
      traced: Boolean(options.tracing),
    });
    cleanups.push(() => connection.close());

    const mailer = mailerFromEnv(env);
    if (mailer) cleanups.push(async () => mailer.close());
    const worker = await createFerryWorker({
      connection: nativeConnection,
      payloadCodec,
      namespace: env.temporal.namespace,
      taskQueue: env.temporal.taskQueue,
      deps: activityDepsFromEnv(env, { store, mailer, logger, metrics }),
      workflowBundlePath: env.workflowBundlePath ?? undefined,
      tracing: options.tracing,
    });
    await forgetStickyJobQueues(nativeConnection, env.temporal.namespace, store);
    const running = worker.run();
    running.catch((error: unknown) => logger.error('worker stopped', { error }));
    cleanups.push(() => worker.shutdown());

    const { app, provisioning, sources, reconcile } = createControlApi({
      store,
      connection,
      client,
      payloadCodec,
      namespace: env.temporal.namespace,
      taskQueue: env.temporal.taskQueue,
      consoleSecret: encryptionKey,
      apiKeys,
      logger,
      allowInsecureLoopback: env.allowInsecureLoopback,
      allowedTargetNetworks: env.allowedTargetNetworks,
      temporalUi: temporal.uiUrl ? { url: temporal.uiUrl, namespace: env.temporal.namespace } : null,
      metrics,
      metricsToken: env.metricsToken,
    });
    const server = await serveApi(app, { host: env.host, port: env.port });
    cleanups.push(() => server.close());
    if (env.workerHttp) {
      const probes = await serveProbes({
        ...env.workerHttp,
        metrics,
        checks: workerReadinessChecks(store, nativeConnection, worker.worker),
      });
      cleanups.push(() => probes.close());
      print(`Worker probes ${probes.url}/metrics, /healthz, /readyz`);
    }

    // A job paused before the restart comes back paused (resume then works as before).
    const ensured = await ensureProvisioningJobs(store, provisioning);
    if (ensured > 0) print(`Ensured the provisioning job of ${ensured} app(s)`);
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

    print(`Console     ${server.url}/`);
    print(`Ferry API   ${server.url}/api/v1`);
    print(`API docs    ${server.url}/docs   (OpenAPI: ${server.url}/openapi.json)`);
    print(`Health      ${server.url}/healthz`);
    print(
      `Database    ${env.databaseUrl ? 'Postgres (DATABASE_URL)' : options.inMemoryDatabase ? 'PGlite in memory' : `PGlite in ${path.join(env.dataDir, 'db')}`}`,
    );
    print(`Temporal    ${temporal.address} (${temporal.mode})`);
    if (options.tracing) print(`Tracing     OTLP, service ${options.tracing.serviceName}`);
    if (temporal.uiUrl)
      print(`Temporal UI ${temporal.uiUrl}/namespaces/${encodeURIComponent(env.temporal.namespace)}/workflows`);
    return {
      url: server.url,
      apiKey,
      store,
      temporal: { mode: temporal.mode, address: temporal.address, uiUrl: temporal.uiUrl },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function main(): Promise<void> {
  const tracing = startTracing('ferry');
  const ferry = await startFerry({ tracing });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`ferry: ${signal}, shutting down\n`);
    ferry
      .close()
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`ferry: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
