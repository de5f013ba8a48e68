// `npm start`: Ferry on one machine in one process — migrations, worker and API — with embedded
// defaults (DESIGN.md §7). Database: Postgres at DATABASE_URL, else PGlite under ./.ferry/db.
// Temporal: TEMPORAL_ADDRESS, else a `temporal` CLI dev server when one is on the PATH, else the
// in-repo test service (in memory, NOT durable: a warning says so). API key and encryption key from
// the environment, else generated once and kept under ./.ferry/. At start every app whose
// provisioning is on gets its job workflow ensured (paused if it was), so the database — not
// Temporal — remembers.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel as TemporalLogLevel } from '@temporalio/worker';
import { createLogger, type Logger, type LogLevel } from '../api/logger.ts';
import { ensureProvisioningJobs } from '../api/resources.ts';
import { serveApi } from '../api/server.ts';
import { startTemporalTestService } from '../dev/temporal-service/index.ts';
import { generateEncryptionKey, openStore, type Store } from '../store/index.ts';
import { createControlApi } from './api.ts';
import { loadEnv, type FerryEnv } from './env.ts';
import { createFerryWorker, mailerFromEnv } from './worker.ts';

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
}

export interface RunningFerry {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  apiKey: string;
  store: Store;
  temporal: { mode: TemporalMode; address: string };
  close(): Promise<void>;
}

/** A secret from the environment, else the one kept in `file`, else a new one written there (mode 600). */
function keptSecret(file: string, generate: () => string): { value: string; generated: boolean } {
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), generated: false };
  const value = generate();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { value, generated: true };
}

function onPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForTemporal(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal server start-dev exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`Temporal dev server did not answer on ${address}`, { cause: error });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

interface TemporalServer {
  mode: TemporalMode;
  address: string;
  stop(): Promise<void>;
}

async function startTemporal(
  env: FerryEnv,
  options: StartOptions,
  print: (l: string) => void,
): Promise<TemporalServer> {
  if (env.temporal.address) return { mode: 'address', address: env.temporal.address, stop: async () => {} };
  const cli = options.skipTemporalCli ? null : onPath('temporal');
  if (cli) {
    const port = await freePort();
    const uiPort = await freePort();
    const args = [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--ui-port',
      String(uiPort),
      '--db-filename',
      path.resolve(env.dataDir, 'temporal.db'),
      '--namespace',
      env.temporal.namespace,
      ...SEARCH_ATTRIBUTES.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
    ];
    const child = spawn(cli, args, { stdio: 'ignore' });
    const address = `127.0.0.1:${port}`;
    await waitForTemporal(address, child, 60_000);
    print(`Temporal dev server (temporal CLI) on ${address}; Web UI http://127.0.0.1:${uiPort}`);
    return {
      mode: 'cli',
      address,
      stop: async () => {
        if (child.exitCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      },
    };
  }
  const service = await startTemporalTestService({ timeSkipping: false });
  print(
    `WARNING: no TEMPORAL_ADDRESS and no \`temporal\` CLI on the PATH — using Ferry's in-memory Temporal test service on ${service.address}. It is NOT durable: workflow histories are lost when Ferry stops (jobs are re-created at the next start from the database). Set TEMPORAL_ADDRESS or install the temporal CLI for real use.`,
  );
  return { mode: 'test-service', address: service.address, stop: () => service.close() };
}

const TEMPORAL_LEVEL: Record<LogLevel, TemporalLogLevel> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
};

/** The Temporal SDK logs (worker state, bundling) at Ferry's level; only possible before the first worker. */
function installTemporalLogger(level: LogLevel): void {
  try {
    Runtime.install({ logger: new DefaultLogger(TEMPORAL_LEVEL[level]) });
  } catch {
    // Already installed (a second startFerry in the same process): keep the first.
  }
}

export async function startFerry(options: StartOptions = {}): Promise<RunningFerry> {
  const env = options.env ?? loadEnv();
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logger: Logger = createLogger({ level: options.logLevel ?? env.logLevel, base: { service: 'ferry' } });
  mkdirSync(env.dataDir, { recursive: true, mode: 0o700 });
  installTemporalLogger(options.logLevel ?? env.logLevel);

  let apiKeys = env.apiKeys;
  if (apiKeys.length === 0) {
    const kept = keptSecret(path.join(env.dataDir, 'api-key'), () => `fk_${randomBytes(24).toString('base64url')}`);
    apiKeys = [kept.value];
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

    const nativeConnection = await NativeConnection.connect({ address: temporal.address });
    cleanups.push(() => nativeConnection.close());
    const connection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: env.temporal.namespace });

    const mailer = mailerFromEnv(env);
    if (mailer) cleanups.push(async () => mailer.close());
    const worker = await createFerryWorker({
      connection: nativeConnection,
      namespace: env.temporal.namespace,
      taskQueue: env.temporal.taskQueue,
      // Plain http to a loopback target only for apps saved with allowInsecureLoopback (the API
      // checks it too), unless FERRY_ALLOW_INSECURE_LOOPBACK=1 allows it for every app.
      deps: { store, mailer, allowInsecureLoopback: env.allowInsecureLoopback, logger },
      workflowBundlePath: env.workflowBundlePath ?? undefined,
    });
    const running = worker.run();
    running.catch((error: unknown) => logger.error('worker stopped', { error }));
    cleanups.push(() => worker.shutdown());

    const { app, provisioning } = createControlApi({
      store,
      connection,
      client,
      taskQueue: env.temporal.taskQueue,
      apiKeys,
      logger,
    });
    const server = await serveApi(app, { host: env.host, port: env.port });
    cleanups.push(() => server.close());

    // A job paused before the restart comes back paused (resume then works as before).
    const ensured = await ensureProvisioningJobs(store, provisioning);
    if (ensured > 0) print(`Ensured the provisioning job of ${ensured} app(s)`);

    print(`Ferry API   ${server.url}/api/v1`);
    print(`API docs    ${server.url}/docs   (OpenAPI: ${server.url}/openapi.json)`);
    print(`Health      ${server.url}/healthz`);
    print(
      `Database    ${env.databaseUrl ? 'Postgres (DATABASE_URL)' : options.inMemoryDatabase ? 'PGlite in memory' : `PGlite in ${path.join(env.dataDir, 'db')}`}`,
    );
    print(`Temporal    ${temporal.address} (${temporal.mode})`);
    return {
      url: server.url,
      apiKey: apiKeys[0],
      store,
      temporal: { mode: temporal.mode, address: temporal.address },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function main(): Promise<void> {
  const ferry = await startFerry();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`ferry: ${signal}, shutting down\n`);
    ferry.close().then(
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
