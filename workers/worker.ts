// The Ferry worker (`npm run worker`): builds the activities' dependencies from the environment,
// opens and migrates the store, and serves the provisioning workflows and activities on the
// `ferry` task queue (workflows/messages.ts TASK_QUEUE) until SIGINT/SIGTERM. `createFerryWorker` is reused by `npm start` and tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { PayloadCodec } from '@temporalio/common';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createSourceActivities } from '../activities/source-import.ts';
import { createFerryActivities, createSmtpMailer, type ActivityDeps, type Mailer } from '../activities/index.ts';
import { createLogger } from '../api/logger.ts';
import { openStore, type Store } from '../store/index.ts';
import type { HealthCheck } from '../telemetry/health.ts';
import { createFerryMetrics } from '../telemetry/metrics.ts';
import { serveProbes, type ProbeServer } from '../telemetry/probe-server.ts';
import { startTracing, type Tracing } from '../telemetry/tracing.ts';
import { installRuntimeLogger } from './runtime-logger.ts';
import { jobWorkflowId, TASK_QUEUE } from '../workflows/messages.ts';
import { loadEnv, type FerryEnv } from './env.ts';
import { connectTemporalWorker, ferryDataConverter, payloadCodecFromEnv } from './temporal-connection.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const tracingInterceptorsPath = fileURLToPath(new URL('../workflows/tracing-interceptors.ts', import.meta.url));

export interface FerryWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  /** Dependencies of the activities (at least the store). */
  deps: ActivityDeps;
  /** Encrypts every payload the worker sends to Temporal (payloadCodecFromEnv); null/absent = plain JSON. */
  payloadCodec?: PayloadCodec | null;
  /** A bundle made with `bundleWorkflowCode` (saves bundling at every start); default: bundle `workflows/`. */
  workflowBundlePath?: string;
  /** Traces workflows and activities (telemetry/tracing.ts); null/absent = no spans. */
  tracing?: Tracing | null;
  /** Passed through to `Worker.create` (e.g. concurrency limits, shutdownGraceTime). */
  workerOptions?: Partial<
    Omit<
      WorkerOptions,
      'connection' | 'namespace' | 'taskQueue' | 'activities' | 'workflowsPath' | 'workflowBundle' | 'dataConverter'
    >
  >;
}

export interface FerryWorker {
  worker: Worker;
  /** Resolves when the worker has stopped (after `shutdown()`). */
  run(): Promise<void>;
  /** Stops polling, lets running tasks finish, then closes the SCIM clients. */
  shutdown(): Promise<void>;
}

export async function createFerryWorker(options: FerryWorkerOptions): Promise<FerryWorker> {
  const handle = createFerryActivities(options.deps);
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    activities: {
      ...handle.activities,
      ...createSourceActivities({
        store: options.deps.store,
        policy: {
          allowLoopback: options.deps.allowInsecureLoopback ?? false,
          allowedNetworks: options.deps.allowedTargetNetworks ?? [],
        },
        resolve: options.deps.resolve,
        logger: options.deps.logger,
      }),
    },
    dataConverter: ferryDataConverter(options.payloadCodec ?? null),
    ...workflowCode(options),
    ...options.workerOptions,
  });
  let running: Promise<void> | null = null;
  return {
    worker,
    run() {
      running ??= worker.run().finally(() => handle.close());
      return running;
    },
    async shutdown() {
      if (worker.getState() === 'RUNNING' || worker.getState() === 'INITIALIZED') worker.shutdown();
      await running;
    },
  };
}

/**
 * The workflow code and, when tracing, its interceptors. The tracing interceptors are bundled in,
 * so a traced worker bundles at start even when given a prebuilt bundle (made without them).
 */
function workflowCode(
  options: Pick<FerryWorkerOptions, 'workflowBundlePath' | 'tracing'>,
): Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle' | 'interceptors' | 'sinks'> {
  const { tracing, workflowBundlePath } = options;
  if (!tracing) return workflowBundlePath ? { workflowBundle: { codePath: workflowBundlePath } } : { workflowsPath };
  return {
    workflowsPath,
    interceptors: {
      workflowModules: [tracingInterceptorsPath],
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}

/**
 * The activities' dependencies for a process configured by the environment. Where apps may connect
 * is the environment's to say, for every app alike (the API checks the same): loopback with
 * FERRY_ALLOW_INSECURE_LOOPBACK=1, other non-public networks with FERRY_ALLOWED_TARGET_NETWORKS.
 */
export function activityDepsFromEnv(
  env: Pick<FerryEnv, 'allowInsecureLoopback' | 'allowedTargetNetworks'>,
  parts: Pick<ActivityDeps, 'store' | 'mailer' | 'logger' | 'metrics'>,
): ActivityDeps {
  return {
    ...parts,
    allowInsecureLoopback: env.allowInsecureLoopback,
    allowedTargetNetworks: env.allowedTargetNetworks,
  };
}

/** The worker's readiness: the database answers, Temporal answers, and the worker polls. */
export function workerReadinessChecks(
  store: Pick<Store, 'apps'>,
  connection: NativeConnection,
  worker: Pick<Worker, 'getState'>,
): Record<string, HealthCheck> {
  return {
    database: async () => {
      await store.apps.list({ limit: 1 });
    },
    temporal: async () => {
      await connection.workflowService.getSystemInfo({});
    },
    polling: async () => {
      if (worker.getState() !== 'RUNNING') throw new Error(`worker is ${worker.getState()}`);
    },
  };
}

const STICKY_RESET_ATTEMPTS = 3;
const STICKY_RESET_RETRY_MS = 200;
/** gRPC codes a reset is tried again for: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE. */
const GRPC_TRANSIENT = new Set([4, 8, 10, 13, 14]);

/**
 * A worker that died (SIGKILL, crash) leaves every job it served bound to its own sticky task queue:
 * the server keeps sending their queries and workflow tasks there until it notices nobody polls it
 * (about 10 s). A worker starting anew tells the server to forget that binding for the job of every
 * app whose provisioning is on, so the first status query after a restart is answered at once
 * instead of timing out. Costs one history replay per job; a job that does not exist is skipped.
 */
export async function forgetStickyJobQueues(
  connection: NativeConnection,
  namespace: string,
  store: Pick<Store, 'apps'>,
  options: { retryMs?: number } = {},
): Promise<number> {
  const retryMs = options.retryMs ?? STICKY_RESET_RETRY_MS;
  let forgotten = 0;
  for (const app of await store.apps.listProvisioningEnabled()) {
    for (let attempt = 1; attempt <= STICKY_RESET_ATTEMPTS; attempt++) {
      try {
        await connection.workflowService.resetStickyTaskQueue({
          namespace,
          execution: { workflowId: jobWorkflowId(app.id) },
        });
        forgotten += 1;
        break;
      } catch (error) {
        // The server busy or the connection dropped: tried again, since a job left on the dead worker's
        // queue answers nothing until the server's sticky timeout. Anything else (not found: the job
        // is started later, on this worker; not supported or not permitted) would answer the same again.
        if (!GRPC_TRANSIENT.has((error as { code?: unknown }).code as number)) break;
        if (attempt < STICKY_RESET_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, retryMs * attempt));
      }
    }
  }
  return forgotten;
}

function readTlsCaFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`SMTP_TLS_CA: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The mailer the environment configures, or null. */
export function mailerFromEnv(env: FerryEnv): (Mailer & { close(): void }) | null {
  if (!env.smtp) return null;
  const { smtp } = env;
  return createSmtpMailer({
    url: smtp.url ?? undefined,
    host: smtp.host ?? undefined,
    port: smtp.port,
    from: smtp.from,
    secure: smtp.secure,
    startTls: smtp.startTls,
    user: smtp.user ?? undefined,
    password: smtp.password ?? undefined,
    ca: smtp.tlsCaFile ? readTlsCaFile(smtp.tlsCaFile) : undefined,
  });
}

/** Opens the store the environment names: Postgres with DATABASE_URL, else PGlite under FERRY_DATA_DIR. */
export async function openStoreFromEnv(env: FerryEnv): Promise<Store> {
  if (!env.encryptionKey) {
    throw new Error('FERRY_ENCRYPTION_KEY is not set: the worker cannot read app secrets without it');
  }
  return openStore({
    databaseUrl: env.databaseUrl ?? undefined,
    dataDir: env.databaseUrl ? undefined : path.join(env.dataDir, 'db'),
    encryptionKey: env.encryptionKey,
  });
}

async function main(): Promise<void> {
  const env = loadEnv();
  const logger = createLogger({ level: env.logLevel, moduleLevels: env.logLevels, base: { service: 'ferry-worker' } });
  installRuntimeLogger(logger, env.logLevel, env.logLevels, { metricsAddress: env.temporalMetricsAddress });
  const metrics = createFerryMetrics();
  const tracing = startTracing('ferry-worker');
  const store = await openStoreFromEnv(env);
  await store.migrate();
  const mailer = mailerFromEnv(env);
  const address = env.temporal.address ?? '127.0.0.1:7233';
  const connection = await connectTemporalWorker({ ...env.temporal, address });
  const ferry = await createFerryWorker({
    connection,
    payloadCodec: payloadCodecFromEnv(env, env.encryptionKey),
    namespace: env.temporal.namespace,
    taskQueue: env.temporal.taskQueue,
    deps: activityDepsFromEnv(env, { store, mailer, logger, metrics }),
    workflowBundlePath: env.workflowBundlePath ?? undefined,
    tracing,
  });
  await forgetStickyJobQueues(connection, env.temporal.namespace, store);
  let probes: ProbeServer | null = null;
  if (env.workerHttp) {
    probes = await serveProbes({
      ...env.workerHttp,
      metrics,
      checks: workerReadinessChecks(store, connection, ferry.worker),
    });
    logger.info('worker probes listening', { url: probes.url, paths: ['/metrics', '/healthz', '/readyz'] });
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`ferry worker: ${signal}, shutting down`);
    void ferry.shutdown();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  console.log(
    `ferry worker: polling task queue ${env.temporal.taskQueue} on ${address} (namespace ${env.temporal.namespace})`,
  );
  try {
    await ferry.run();
  } finally {
    await probes?.close();
    mailer?.close();
    await connection.close();
    await store.close();
    await tracing?.shutdown();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`ferry worker: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
