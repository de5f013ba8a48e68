// The journey harness: Ferry started the way a user starts it — `npm start` (one process), or
// `npm run dev:temporal` + `npm run worker` + `npm run api` (separate processes on one Postgres) —
// on free ports, and driven only over HTTP. Each process runs in its own process group so a stop
// (SIGTERM or SIGKILL) reaches npm and the node process it runs, and nothing else.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { findTemporalCli } from '../../workers/temporal-cli.ts';
import { closedPort, until } from '../support/net.ts';
import { createTestDatabase } from '../support/postgres.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const API_KEY = 'fk_journey_7d1c4e9a2b5f8e3c0a6d';
const ENCRYPTION_KEY = '5e'.repeat(32);
/** Generous bounds: the machine running CI may be busy; nothing here is a timing assertion. */
const START_TIMEOUT_MS = 180_000;

/**
 * `FERRY_JOURNEY_TEMPORAL=real`: the journeys run on the real Temporal server (`temporal server
 * start-dev`, durable in the data directory) — `npm start`'s default where the CLI is built — instead
 * of the in-repo test service a fresh clone without the CLI gets. CI runs both.
 */
export const REAL_TEMPORAL = process.env.FERRY_JOURNEY_TEMPORAL === 'real';

function realTemporalCli(): string {
  const cli = findTemporalCli();
  if (!cli) throw new Error('FERRY_JOURNEY_TEMPORAL=real needs the Temporal CLI: run `npm run setup:temporal`');
  return cli;
}
const STOP_TIMEOUT_MS = 60_000;

/** Answers are read field by field; `any` keeps those checks readable. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ApiAnswer {
  status: number;
  json: Json;
  text: string;
}

/** One npm script running in its own process group. */
export class NpmProcess {
  readonly output: string[] = [];
  private outputChars = 0;
  private readonly exited: Promise<number | null>;

  constructor(
    readonly script: string,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output.push(text);
      this.outputChars += text.length;
      // Keep the last ~200 kB: enough to explain a failure, bounded for long journeys.
      while (this.outputChars > 200_000 && this.output.length > 1) this.outputChars -= this.output.shift()!.length;
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  text(): string {
    return this.output.join('');
  }

  /** Signals the whole group (npm and the node process it started) and waits until every member is gone. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<number | null> {
    if (this.running) {
      try {
        process.kill(-this.pid, signal);
      } catch {
        // The group is already gone.
      }
    }
    const code = await this.exited;
    await until(() => !groupAlive(this.pid), `process group ${this.pid} (${this.script}) to end`, {
      timeoutMs: STOP_TIMEOUT_MS,
      pollMs: 50,
    }).catch(() => {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // gone
      }
    });
    return code;
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs `npm run <script> [-- args]` in ROOT with exactly `env` (plus PATH and HOME). */
export function npmRun(script: string, env: Record<string, string>, args: string[] = []): NpmProcess {
  const child = spawn('npm', ['run', '--silent', script, ...(args.length > 0 ? ['--', ...args] : [])], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      // The in-repo Temporal test service (what a fresh clone without the Temporal CLI gets), whatever
      // CLI this machine has — or the real server, on the real leg.
      FERRY_TEMPORAL_CLI: REAL_TEMPORAL ? realTemporalCli() : 'none',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  return new NpmProcess(script, child);
}

/** The workflow bundle the suite's global setup built (see global-setup.ts). */
export function workflowBundle(): string {
  return inject('workflowBundle');
}

/** An HTTP client for Ferry's API with the journey's key. */
export class FerryApi {
  constructor(public url: string) {}

  async call(method: string, route: string, body?: unknown, accept?: string): Promise<ApiAnswer> {
    const res = await fetch(`${this.url}/api/v1${route}`, {
      method,
      headers: {
        Authorization: `Bearer ${API_KEY}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(accept ? { Accept: accept } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : null;
    return { status: res.status, json, text };
  }

  /** Like call, but throws with the answer when the status is not the expected one. */
  async ok(method: string, route: string, body?: unknown, expected = [200, 201, 202, 204]): Promise<Json> {
    const answer = await this.call(method, route, body);
    if (!expected.includes(answer.status)) {
      throw new Error(`${method} ${route} answered ${answer.status}: ${answer.text.slice(0, 2000)}`);
    }
    return answer.json;
  }

  async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** Every log entry of the app (all pages). */
  async logs(appId: string, query = ''): Promise<Json[]> {
    const items: Json[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const sep = query ? `&${query}` : '';
      const json: Json = await this.ok(
        'GET',
        `/apps/${appId}/logs?limit=200${sep}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      items.push(...json.items);
      cursor = json.nextCursor;
      if (!cursor) return items;
    }
    throw new Error('more than 1000 pages of logs');
  }

  /** Every cycle row of the app, newest first. */
  async cycles(appId: string): Promise<Json[]> {
    const items: Json[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const json: Json = await this.ok(
        'GET',
        `/apps/${appId}/cycles?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      items.push(...json.items);
      cursor = json.nextCursor;
      if (!cursor) return items;
    }
    throw new Error('more than 100 pages of cycles');
  }

  async status(appId: string): Promise<Json> {
    return (await this.ok('GET', `/apps/${appId}/provisioning`)).status;
  }

  /**
   * Waits until the first cycle that started after `since` has finished; returns its row. The first,
   * not any: a later one (another run, a push) may have found nothing left to do.
   */
  async cycleFinishedAfter(appId: string, since: number, what = 'a cycle', timeoutMs = 120_000): Promise<Json> {
    let found: Json = null;
    await until(
      async () => {
        const after = (await this.cycles(appId)).filter((c: Json) => Date.parse(c.startedAt) >= since);
        const first = after.reduce((a: Json, c: Json) => (a === null || c.number < a.number ? c : a), null);
        found = first !== null && first.status !== 'running' ? first : null;
        return found !== null;
      },
      `${what} of app ${appId} to finish`,
      { timeoutMs, pollMs: 250 },
    );
    return found;
  }

  /**
   * POST …/provisioning/run (202 expected), then the cycle it started, finished. A 503 ("the job
   * did not answer; retry later" — e.g. for the seconds after a worker was killed, while the job's
   * next task still waits for the dead worker) is retried as its message says, for up to 30 s.
   */
  async runCycle(appId: string, timeoutMs = 120_000): Promise<Json> {
    const since = Date.now();
    let answer = await this.call('POST', `/apps/${appId}/provisioning/run`);
    for (let retry = 0; answer.status === 503 && retry < 30; retry++) {
      await new Promise((r) => setTimeout(r, 1000));
      answer = await this.call('POST', `/apps/${appId}/provisioning/run`);
    }
    if (answer.status !== 202) throw new Error(`run answered ${answer.status}: ${answer.text.slice(0, 1000)}`);
    return this.cycleFinishedAfter(appId, since, 'the cycle run started', timeoutMs);
  }

  /** Polls the job's status until `accept` holds; returns it. */
  async statusWhen(appId: string, accept: (status: Json) => boolean, what: string, timeoutMs = 120_000): Promise<Json> {
    let last: Json = null;
    await until(
      async () => {
        last = (await this.call('GET', `/apps/${appId}/provisioning`)).json?.status ?? null;
        return last !== null && accept(last);
      },
      `${what} (last status: ${JSON.stringify(last)?.slice(0, 500)})`,
      { timeoutMs, pollMs: 200 },
    );
    return last;
  }
}

/**
 * Ferry started as `npm start` runs it, on a fresh Postgres database and data directory named after
 * `name`; `close()` kills it (SIGKILL) and removes both.
 */
export async function startFerryOnPostgres(
  name: string,
): Promise<{ ferry: OneProcessFerry; api: FerryApi; close(): Promise<void> }> {
  const data = tempDir(name);
  const db = await createTestDatabase(`journey_${name.replace(/-/g, '_')}`);
  const ferry = await OneProcessFerry.create({ dataDir: data.dir, databaseUrl: db.url });
  const close = async () => {
    await ferry.stop('SIGKILL');
    await db.drop();
    data.cleanup();
  };
  try {
    await ferry.start();
  } catch (error) {
    await close();
    throw error;
  }
  return { ferry, api: ferry.api, close };
}

/** A fresh temp directory removed by `cleanup()`. */
export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `ferry-journey-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function commonEnv(bundle: string, extra: Record<string, string>): Record<string, string> {
  return {
    FERRY_API_KEYS: API_KEY,
    FERRY_ENCRYPTION_KEY: ENCRYPTION_KEY,
    FERRY_ALLOW_INSECURE_LOOPBACK: '1',
    FERRY_WORKFLOW_BUNDLE: bundle,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitHealthy(api: FerryApi, processes: NpmProcess[]): Promise<void> {
  await until(
    async () => {
      const dead = processes.find((p) => !p.running);
      if (dead) throw new Error(`${dead.script} exited while starting:\n${dead.text().slice(-4000)}`);
      return api.healthy();
    },
    `${api.url}/healthz`,
    { timeoutMs: START_TIMEOUT_MS, pollMs: 200 },
  );
}

/**
 * `npm start` on one data directory (embedded PGlite) or on `databaseUrl`, on one port: stop and
 * start it again as often as the journey needs — the port, the data and the keys stay.
 */
export class OneProcessFerry {
  process: NpmProcess | null = null;
  readonly api: FerryApi;
  private constructor(
    private readonly env: Record<string, string>,
    port: number,
  ) {
    this.api = new FerryApi(`http://127.0.0.1:${port}`);
  }

  static async create(options: {
    dataDir: string;
    databaseUrl?: string;
    /** More environment for `npm start` (e.g. OTEL_* settings). */
    env?: Record<string, string>;
  }): Promise<OneProcessFerry> {
    const port = await closedPort();
    const env = commonEnv(workflowBundle(), {
      FERRY_DATA_DIR: options.dataDir,
      PORT: String(port),
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      ...options.env,
    });
    return new OneProcessFerry(env, port);
  }

  async start(): Promise<void> {
    if (this.process?.running) throw new Error('Ferry is already running');
    const started = npmRun('start', this.env);
    this.process = started;
    await waitHealthy(this.api, [started]);
    // Which Temporal npm start chose is the line it prints last; the real leg must be on the real server.
    const mode = REAL_TEMPORAL ? '(cli)' : '(test-service)';
    await until(
      () => started.text().includes(`Temporal    `) && started.text().includes(mode),
      `npm start on ${mode}`,
      {
        timeoutMs: START_TIMEOUT_MS,
        pollMs: 100,
      },
    );
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<number | null> {
    const code = (await this.process?.stop(signal)) ?? null;
    await this.devServerGone();
    return code;
  }

  /**
   * Until the Temporal dev server npm start ran has stopped too. It is its own process group (so it
   * outlives a SIGKILL of npm start by the second or two it takes to stop after its watcher saw Ferry
   * go), and it writes into the data directory until then: a journey removing that directory, or
   * starting Ferry again on it, waits for it here.
   */
  private async devServerGone(): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(path.join(this.env.FERRY_DATA_DIR, 'temporal.db.pid'), 'utf8').trim());
    } catch {
      return; // No dev server, or it stopped and removed its pid file.
    }
    if (!Number.isInteger(pid) || pid <= 0) return;
    await until(() => !groupAlive(pid), `the Temporal dev server (process group ${pid}) to stop`, {
      timeoutMs: STOP_TIMEOUT_MS,
      pollMs: 50,
    }).catch(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    });
  }
}

/**
 * Ferry as separate processes on one Postgres database: `npm run dev:temporal` (the in-repo
 * Temporal service on a fixed port), `npm run worker` (once, or several times: workers on one task
 * queue, Temporal's way to scale out) and `npm run api`. Each can be stopped and started again on its own.
 */
export class SeparateProcessesFerry {
  temporal: NpmProcess | null = null;
  /** The worker started last. */
  worker: NpmProcess | null = null;
  /** Every worker started (running or not). */
  readonly workers: NpmProcess[] = [];
  apiProcess: NpmProcess | null = null;
  readonly api: FerryApi;

  private constructor(
    private readonly env: Record<string, string>,
    private readonly temporalPort: number,
    apiPort: number,
    private readonly dataDir: string,
  ) {
    this.api = new FerryApi(`http://127.0.0.1:${apiPort}`);
  }

  static async create(options: {
    databaseUrl: string;
    dataDir: string;
    /** More environment for every process (e.g. FERRY_LOG_LEVELS). */
    env?: Record<string, string>;
  }): Promise<SeparateProcessesFerry> {
    const temporalPort = await closedPort();
    const apiPort = await closedPort();
    const env = commonEnv(workflowBundle(), {
      DATABASE_URL: options.databaseUrl,
      FERRY_DATA_DIR: options.dataDir,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      PORT: String(apiPort),
      ...options.env,
    });
    return new SeparateProcessesFerry(env, temporalPort, apiPort, options.dataDir);
  }

  async startTemporal(): Promise<void> {
    const temporal = REAL_TEMPORAL
      ? await this.spawnRealTemporal()
      : npmRun('dev:temporal', this.env, ['--port', String(this.temporalPort)]);
    this.temporal = temporal;
    await until(
      async () => {
        if (!temporal.running) throw new Error(`${temporal.script} exited:\n${temporal.text().slice(-4000)}`);
        return REAL_TEMPORAL ? await accepts(this.temporalPort) : temporal.text().includes('listening on');
      },
      'the Temporal service to listen',
      { timeoutMs: START_TIMEOUT_MS, pollMs: 100 },
    );
  }

  /** `temporal server start-dev` on the fixed port, its database in the data directory (kept across restarts). */
  private async spawnRealTemporal(): Promise<NpmProcess> {
    const args = [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(this.temporalPort),
      '--headless',
      '--http-port',
      String(await closedPort()),
      '--metrics-port',
      String(await closedPort()),
      '--db-filename',
      path.join(this.dataDir, 'temporal.db'),
      '--namespace',
      'default',
      '--search-attribute',
      'FerryAppId=Keyword',
      '--search-attribute',
      'FerryJobState=Keyword',
      '--log-level',
      'warn',
    ];
    const child = spawn(realTemporalCli(), args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    return new NpmProcess('temporal server start-dev', child);
  }

  /** Starts one more `npm run worker` on the task queue; resolves once it polls. */
  async startWorker(): Promise<NpmProcess> {
    const worker = npmRun('worker', this.env);
    this.worker = worker;
    this.workers.push(worker);
    await until(
      () => {
        if (!worker.running) throw new Error(`worker exited:\n${worker.text().slice(-4000)}`);
        return worker.text().includes('polling task queue');
      },
      'the worker to poll',
      { timeoutMs: START_TIMEOUT_MS, pollMs: 100 },
    );
    return worker;
  }

  async startApi(): Promise<void> {
    this.apiProcess = npmRun('api', this.env);
    await waitHealthy(this.api, [this.apiProcess]);
  }

  async start(): Promise<void> {
    await this.startTemporal();
    await this.startWorker();
    await this.startApi();
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    await this.apiProcess?.stop(signal);
    for (const worker of this.workers) await worker.stop(signal);
    await this.temporal?.stop(signal);
  }

  text(): string {
    return [this.temporal, ...this.workers, this.apiProcess].map((p) => p?.text() ?? '').join('\n');
  }
}

/** A directory user for journeys: `<id>@<domain>` with a display name built from the names. */
export function person(id: string, domain: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const given = id.charAt(0).toUpperCase() + id.slice(1);
  return {
    id,
    userPrincipalName: `${id}@${domain}`,
    givenName: given,
    surname: 'Journey',
    displayName: `${given} Journey`,
    mail: `${id}@${domain}`,
    ...extra,
  };
}

/**
 * A generic SCIM app on `target` with the journey defaults (plain http to loopback allowed by the
 * app's own setting too, so journeys do not depend on how the environment variable is read).
 */
export async function createApp(
  api: FerryApi,
  target: { url: string; token: string },
  options: { name?: string; settings?: Record<string, unknown>; mappings?: unknown; scopingFilters?: unknown } = {},
): Promise<string> {
  const app = await api.ok('POST', '/apps', {
    name: options.name ?? 'Journey app',
    template: 'generic-scim',
    target,
    settings: { allowInsecureLoopback: true, ...options.settings },
    ...(options.mappings ? { mappings: options.mappings } : {}),
    ...(options.scopingFilters ? { scopingFilters: options.scopingFilters } : {}),
  });
  return app.id as string;
}

/** POST …/provisioning/start, then the initial cycle, finished. */
export async function startProvisioning(api: FerryApi, appId: string): Promise<Json> {
  const since = Date.now();
  await api.ok('POST', `/apps/${appId}/provisioning/start`, undefined, [202]);
  return api.cycleFinishedAfter(appId, since, 'the initial cycle');
}
