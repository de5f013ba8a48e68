// The real Temporal server for tests and benches: `temporal server start-dev` (the CLI that
// workers/temporal-cli.ts finds) on free loopback ports, with a throw-away SQLite file and Ferry's
// search attributes registered. It is the reference the in-repo test service is checked against.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { findTemporalCli } from '../../workers/temporal-cli.ts';
import { closedPort } from './net.ts';

/**
 * Keyword search attributes every server gets: Ferry's own (workflows/messages.ts) and `FerryTag`,
 * which the test-service suite uses for its visibility checks.
 */
export const DEV_SERVER_SEARCH_ATTRIBUTES = ['FerryAppId', 'FerryJobState', 'FerryTag'] as const;

export interface TemporalDevServer {
  /** `127.0.0.1:<port>` of the frontend. */
  address: string;
  /** `http://127.0.0.1:<port>` of the Web UI, or null when started headless. */
  uiUrl: string | null;
  /** The server's log (stdout and stderr), for a test that fails. */
  log(): string;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s) and deletes its database file. */
  close(): Promise<void>;
}

export interface TemporalDevServerOptions {
  /** Serve the Web UI (default false: headless). */
  ui?: boolean;
  /** The CLI to run (default: findTemporalCli()). */
  cli?: string;
  /** Dynamic config values (`--dynamic-config-value KEY=JSON`), e.g. a lower continue-as-new suggestion. */
  dynamicConfig?: Record<string, string | number | boolean>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A test process that dies without close() must not leave servers behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export async function startTemporalDevServer(options: TemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const cli = options.cli ?? findTemporalCli();
  if (!cli) throw new Error('no Temporal CLI: run `npm run setup:temporal` or set FERRY_TEMPORAL_CLI');
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-temporal-'));
  const port = await closedPort();
  const uiPort = options.ui ? await closedPort() : null;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(await closedPort()),
    '--metrics-port',
    String(await closedPort()),
    '--db-filename',
    path.join(dir, 'temporal.db'),
    '--log-level',
    'warn',
    ...DEV_SERVER_SEARCH_ATTRIBUTES.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
    ...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...Object.entries(options.dynamicConfig ?? {}).flatMap(([key, value]) => [
      '--dynamic-config-value',
      `${key}=${JSON.stringify(value)}`,
    ]),
  ];
  installExitHook();
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(r, 10_000, false))]);
      if (!killed) child.kill('SIGKILL');
      await exited;
    }
    running.delete(child);
    await rm(dir, { recursive: true, force: true });
  };

  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilServing(
      address,
      () => child.exitCode !== null,
      () => output,
    );
    if (uiPort !== null) await waitForUi(`http://127.0.0.1:${uiPort}`, () => output);
  } catch (error) {
    await close();
    throw error;
  }
  return { address, uiUrl: uiPort === null ? null : `http://127.0.0.1:${uiPort}`, log: () => output, close };
}

/** Until the frontend answers for the `default` namespace with Ferry's search attributes (30 s at most). */
async function waitUntilServing(address: string, died: () => boolean, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < deadline) {
    if (died()) throw new Error(`temporal server start-dev exited:\n${log()}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        const described = await connection.workflowService.describeNamespace({ namespace: 'default' });
        if (described.namespaceInfo?.name === 'default') {
          const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
          if (DEV_SERVER_SEARCH_ATTRIBUTES.every((name) => customAttributes?.[name] !== undefined)) return;
        }
      } finally {
        await connection.close();
      }
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`temporal server start-dev did not serve ${address} within 30 s (${String(last)}):\n${log()}`);
}

async function waitForUi(url: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the Temporal Web UI did not answer at ${url} within 30 s:\n${log()}`);
}
