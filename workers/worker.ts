// The Ferry worker (`npm run worker`): builds the activities' dependencies from the environment,
// opens and migrates the store, and serves the provisioning workflows and activities on the
// `ferry` task queue until SIGINT/SIGTERM. `createFerryWorker` is reused by `npm start` and tests.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createFerryActivities, createSmtpMailer, type ActivityDeps, type Mailer } from '../activities/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { loadEnv, type FerryEnv } from './env.ts';

export const FERRY_TASK_QUEUE = 'ferry';
export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface FerryWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  /** Dependencies of the activities (at least the store). */
  deps: ActivityDeps;
  /** A bundle made with `bundleWorkflowCode` (saves bundling at every start); default: bundle `workflows/`. */
  workflowBundlePath?: string;
  /** Passed through to `Worker.create` (e.g. concurrency limits, shutdownGraceTime). */
  workerOptions?: Partial<
    Omit<WorkerOptions, 'connection' | 'namespace' | 'taskQueue' | 'activities' | 'workflowsPath' | 'workflowBundle'>
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
    taskQueue: options.taskQueue ?? FERRY_TASK_QUEUE,
    activities: handle.activities,
    ...(options.workflowBundlePath ? { workflowBundle: { codePath: options.workflowBundlePath } } : { workflowsPath }),
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

/** The mailer the environment configures, or null. */
export function mailerFromEnv(env: FerryEnv): (Mailer & { close(): void }) | null {
  if (!env.smtp) return null;
  return createSmtpMailer({
    url: env.smtp.url ?? undefined,
    host: env.smtp.host ?? undefined,
    port: env.smtp.port,
    from: env.smtp.from,
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
  const store = await openStoreFromEnv(env);
  await store.migrate();
  const mailer = mailerFromEnv(env);
  const address = env.temporal.address ?? '127.0.0.1:7233';
  const connection = await NativeConnection.connect({ address });
  const ferry = await createFerryWorker({
    connection,
    namespace: env.temporal.namespace,
    taskQueue: env.temporal.taskQueue,
    // Plain http to 127.0.0.1 targets is for demos and tests only; it must be asked for.
    deps: { store, mailer, allowInsecureLoopback: env.allowInsecureLoopback },
    workflowBundlePath: env.workflowBundlePath ?? undefined,
  });
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
    mailer?.close();
    await connection.close();
    await store.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`ferry worker: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
