// The full provisioning path, measured: a Temporal server (the in-repo test service, or the real
// `temporal server start-dev` on a SQLite file as `npm start` runs it), the Ferry worker in its
// own process (workers/worker.ts: real workflows + activities), Postgres, and the fast loopback
// SCIM target (dev/scim-target). For a directory of N users with groups it measures the initial
// cycle, the same creates in a bare undici loop against the same target at the same concurrency,
// a no-change incremental cycle and a 1 % change incremental cycle. Prints figures; asserts nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startScimTarget } from '../dev/scim-target/index.ts';
import { startTemporalTestService } from '../dev/temporal-service/index.ts';
import { findTemporalCli } from '../workers/temporal-cli.ts';
import { connectTemporalClient, payloadCodecFromEnv } from '../workers/temporal-connection.ts';
import { startTemporalDevServer } from '../workers/temporal-dev-server.ts';
import { openStore, type Store } from '../store/index.ts';
import { cycleWorkflowId, JOB_WORKFLOW_TYPE, jobWorkflowId, runNowSignal, TASK_QUEUE } from '../workflows/messages.ts';
import { createBenchApp } from './bench-app.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BASE_DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const ENCRYPTION_KEY = randomBytes(32).toString('hex');

export interface ProvisioningBenchOptions {
  users: number;
  /** Users per group (default 50); every other group is nested in the next one. */
  groupSize?: number;
  /**
   * User memberships in the directory (default: `users`, each user in one group): users are put in
   * several groups to reach it, e.g. 1,000,000 for 100k users in 2,000 groups → 500 members a group.
   */
  memberships?: number;
  /** SCIM requests in flight (the app's concurrency), also used by the bare loop. Default 16. */
  concurrency?: number;
  /** Objects per processBatch call. Default 500. */
  batchSize?: number;
  /** Milliseconds the target waits before each answer (default 0: Ferry's own CPU is what limits). */
  latencyMs?: number;
  /** `in-repo` (default): the in-repo test service; `real`: `temporal server start-dev` on a SQLite file. */
  temporal?: BenchTemporal;
  /**
   * Accounts the target holds before Ferry connects (default 0): the initial cycle streams them all
   * into the store to match against (userNames no directory user has, so every user is still created).
   */
  existingAccounts?: number;
  /**
   * The target serves SCIM Bulk (maxOperations 1,000, 1 MB) and the app turns `bulk` on: creates,
   * updates and disables go in /Bulk requests.
   */
  bulk?: boolean;
}

export type BenchTemporal = 'in-repo' | 'real';

interface BenchTemporalServer {
  address: string;
  /** CPU seconds of the server when it runs in a process of its own (null: it runs in the bench process). */
  cpuSeconds(): number | null;
  close(): Promise<void>;
}

export async function startBenchTemporal(kind: BenchTemporal, dir: string): Promise<BenchTemporalServer> {
  if (kind === 'in-repo') {
    const service = await startTemporalTestService({ timeSkipping: true });
    return { address: service.address, cpuSeconds: () => null, close: () => service.close() };
  }
  const cli = findTemporalCli();
  if (!cli)
    throw new Error('FERRY_BENCH_TEMPORAL=real: no Temporal CLI (npm run setup:temporal, or FERRY_TEMPORAL_CLI)');
  const server = await startTemporalDevServer({
    cli,
    dbFile: path.join(dir, 'temporal.db'),
    namespace: 'default',
    searchAttributes: ['FerryAppId', 'FerryJobState'],
    logFile: path.join(dir, 'temporal.log'),
    print: () => {},
  });
  return { address: server.address, cpuSeconds: () => processTreeCpuSeconds(server.pid), close: () => server.stop() };
}

export interface ProvisioningBenchResult {
  temporal: BenchTemporal;
  users: number;
  latencyMs: number;
  groups: number;
  /** Memberships in the directory: users in groups plus the nesting of groups. */
  memberships: number;
  seedSeconds: number;
  existingAccounts: number;
  initialSeconds: number;
  usersPerSecond: number;
  initialRequests: number;
  bareSeconds: number;
  bareUsersPerSecond: number;
  /** Where the initial cycle's time went, from the requests the target saw. */
  phases: InitialPhases;
  /** Rows the initial cycle wrote per created user, by table (FERRY_BENCH_ROW_WRITES=1), else null. */
  rowWrites: InitialRowWrites[] | null;
  /** WAL bytes the initial cycle wrote per created user (with rowWrites), else null. */
  walBytesPerUser: number | null;
  ratio: number;
  noChangeSeconds: number;
  noChangeRequests: number;
  changeSeconds: number;
  changeRequests: number;
  /** GET + PATCH of user accounts in the 1 % change cycle, per changed user (goal 1.0). */
  requestsPerUpdatedUser: number;
  changedUsers: number;
  workerPeakRssMb: number | null;
  /** The run sent its writes as SCIM Bulk requests. */
  bulk: boolean;
  /** POST /Bulk requests of the initial cycle. */
  initialBulkRequests: number;
  /** CPU seconds (user + system) the worker process spent in the initial cycle: steadier than wall time on a shared machine. */
  workerInitialCpuSeconds: number | null;
  /** CPU seconds of the Postgres server processes during the initial cycle. */
  postgresInitialCpuSeconds: number;
  /** CPU seconds of the Postgres backends serving the bench's database during the initial cycle. */
  postgresBackendsInitialCpuSeconds: number;
  /** CPU seconds of the bench process (SCIM target + Temporal test service) during the initial cycle. */
  benchInitialCpuSeconds: number;
  /** CPU seconds of the real Temporal server's processes during the initial cycle (null: in-repo). */
  temporalInitialCpuSeconds: number | null;
  /** CPU seconds of the bench process (client loop + SCIM target) during the bare creates. */
  bareCpuSeconds: number;
  /** History events of each run of the job (oldest first): one run per cycle, continue-as-new after each. */
  jobRunEvents: number[];
  /** History events of each run of cycles 1–3 (initial, no change, 1 % change), oldest run first. */
  cycleRunEvents: number[][];
}

/** Events in each run of a workflow id, oldest run first. */
async function eventsPerRun(client: Client, workflowId: string): Promise<number[]> {
  const runs: { runId: string; start: number }[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push({ runId: run.runId, start: run.startTime.getTime() });
  }
  runs.sort((a, b) => a.start - b.start);
  const counts: number[] = [];
  for (const { runId } of runs) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    counts.push(history.events?.length ?? 0);
  }
  return counts;
}

export function databaseUrl(name: string): string {
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const pad = (n: number) => String(n).padStart(7, '0');

export function userRecord(i: number, jobTitle = 'Engineer') {
  // A top-down org chart: a user's manager has a lower number, so most are linked before their reports.
  const manager = i > 10 ? Math.floor(i / 10) : null;
  return {
    id: `u${pad(i)}`,
    userPrincipalName: `user${pad(i)}@contoso.example`,
    mail: `user${pad(i)}@contoso.example`,
    mailNickname: `user${pad(i)}`,
    displayName: `User ${i}`,
    givenName: 'User',
    surname: String(i),
    department: i % 2 === 0 ? 'Sales' : 'Engineering',
    jobTitle,
    city: 'Oslo',
    country: 'NO',
    managerId: manager === null ? null : `u${pad(manager)}`,
  };
}

/**
 * The user memberships of the bench directory: `total` (at least one per user) spread over the groups.
 * Round r puts every user in one group, starting at its own group (users in order, `groupSize` a group)
 * and moving `stride` groups further each round, so a user's groups are distinct and every group gets
 * about `total / groups` members.
 */
export function* userMemberships(
  users: number,
  groupSize: number,
  total: number,
): Generator<{ groupId: string; memberId: string; memberType: 'user' }> {
  const groups = Math.max(1, Math.ceil(users / groupSize));
  const rounds = Math.ceil(total / users);
  if (total < users || rounds > groups)
    throw new RangeError(`memberships: ${total} is not between ${users} (one group a user) and ${users * groups}`);
  const stride = Math.floor(groups / rounds);
  for (let m = 0; m < total; m++) {
    const user = (m % users) + 1;
    const round = Math.floor(m / users);
    const group = ((Math.ceil(user / groupSize) - 1 + round * stride) % groups) + 1;
    yield { groupId: `g${pad(group)}`, memberId: `u${pad(user)}`, memberType: 'user' };
  }
}

/**
 * Users, groups of `groupSize` users (every other group nested in the next one) and `memberships`
 * user memberships in all (default: one group a user), every group assigned to the app.
 */
export async function seed(
  store: Store,
  appId: string,
  users: number,
  groupSize: number,
  memberships = users,
): Promise<{ groups: number; memberships: number }> {
  const chunk = 5000;
  for (let start = 1; start <= users; start += chunk) {
    const end = Math.min(users, start + chunk - 1);
    await store.directory.bulkUpsertUsers(Array.from({ length: end - start + 1 }, (_, k) => userRecord(start + k)));
  }
  const groups = Math.max(1, Math.ceil(users / groupSize));
  await store.directory.bulkUpsertGroups(
    Array.from({ length: groups }, (_, k) => ({ id: `g${pad(k + 1)}`, displayName: `Group ${k + 1}` })),
  );
  const nesting: { groupId: string; memberId: string; memberType: 'group' }[] = [];
  for (let k = 2; k <= groups; k += 2)
    nesting.push({ groupId: `g${pad(k)}`, memberId: `g${pad(k - 1)}`, memberType: 'group' });
  await store.directory.bulkAddMembers(nesting);
  // Users in chunks: a million rows need not be in memory at once.
  let page: { groupId: string; memberId: string; memberType: 'user' }[] = [];
  for (const membership of userMemberships(users, groupSize, memberships)) {
    page.push(membership);
    if (page.length === 50_000) {
      await store.directory.bulkAddMembers(page);
      page = [];
    }
  }
  if (page.length > 0) await store.directory.bulkAddMembers(page);
  for (let k = 1; k <= groups; k++) await store.assignments.assign(appId, `g${pad(k)}`, 'User');
  return { groups, memberships: memberships + nesting.length };
}

function peakRssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

/** A process's name and the CPU seconds (user + system) it has used so far, from /proc (clock ticks of 10 ms). */
function procStat(pid: number | string): { name: string; parent: number; cpuSeconds: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      parent: Number(fields[1]),
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100,
    };
  } catch {
    // Gone (it ended while being read), or no /proc.
    return null;
  }
}

function cpuSeconds(pid: number | undefined): number | null {
  return pid ? (procStat(pid)?.cpuSeconds ?? null) : null;
}

/** CPU seconds all Postgres server processes on this machine have used so far (they serve the bench alone). */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat?.name === 'postgres') total += stat.cpuSeconds;
  }
  return total;
}

/**
 * CPU seconds of the Postgres backends serving one database while a phase runs, sampled every 200 ms
 * from pg_stat_activity: on a shared machine the other databases' work (other benches, tests) is left
 * out, and so is the server's shared work (WAL writer, checkpointer), which postgresCpuSeconds counts.
 * A backend that ends between two samples loses at most its last 200 ms.
 */
export async function databaseBackendsCpu(dbName: string): Promise<{ stop(): Promise<number> }> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let initial = true;
  const sample = async () => {
    const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [
      dbName,
    ]);
    for (const { pid } of rows) {
      const cpu = cpuSeconds(pid);
      if (cpu === null) continue;
      // A backend first seen after the start began during the phase: all its CPU counts.
      if (!first.has(pid)) first.set(pid, initial ? cpu : 0);
      last.set(pid, cpu);
    }
    initial = false;
  };
  await sample();
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(sample).catch(() => undefined);
  }, 200);
  return {
    async stop() {
      clearInterval(timer);
      await sampling;
      await sample();
      await client.end();
      let total = 0;
      for (const [pid, cpu] of last) total += cpu - (first.get(pid) ?? 0);
      return total;
    },
  };
}

/** CPU seconds a process and all its descendants (the dev server under its watcher shell) have used so far. */
function processTreeCpuSeconds(root: number): number | null {
  const stats = new Map<number, { parent: number; cpuSeconds: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat) stats.set(Number(entry), stat);
  }
  if (!stats.has(root)) return null;
  let total = 0;
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    total += stats.get(pid)?.cpuSeconds ?? 0;
    for (const [child, stat] of stats) if (stat.parent === pid) pending.push(child);
  }
  return total;
}

/** CPU seconds this process (the SCIM target and the Temporal test service) has used so far. */
function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function startWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  // FERRY_BENCH_NODE_ARGS: extra node flags for the worker, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.FERRY_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // The flags of `npm run worker` (package.json): a 64 MB young generation cuts the worker's GC time.
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=64', ...nodeArgs, '--import', 'tsx', 'workers/worker.ts'],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
      if (output.includes('polling task queue')) resolve(child);
    });
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
      if (process.env.FERRY_BENCH_WORKER_STDERR) process.stderr.write(c);
    });
    child.on('exit', (code) => reject(new Error(`worker exited with ${code}: ${output.slice(-2000)}`)));
  });
}

/** The workflow bundle written to `dir`, and the worker started on it (Postgres database `dbName`). */
export async function startBenchWorker(dir: string, temporalAddress: string, dbName: string): Promise<ChildProcess> {
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(ROOT, 'workflows/index.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  const bundlePath = path.join(dir, 'workflows.js');
  await writeFile(bundlePath, bundle.code);
  return startWorkerProcess({
    TEMPORAL_ADDRESS: temporalAddress,
    DATABASE_URL: databaseUrl(dbName),
    FERRY_ENCRYPTION_KEY: ENCRYPTION_KEY,
    FERRY_TASK_QUEUE: TASK_QUEUE,
    FERRY_ALLOW_INSECURE_LOOPBACK: '1',
    FERRY_WORKFLOW_BUNDLE: bundlePath,
    SMTP_URL: '',
    SMTP_HOST: '',
  });
}

/** SIGTERM, then SIGKILL after 10 s. */
export async function stopWorkerProcess(worker: ChildProcess | undefined): Promise<void> {
  if (!worker || worker.exitCode !== null) return;
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  worker.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (worker.exitCode === null) worker.kill('SIGKILL');
}

async function bareCreates(baseUrl: string, token: string, users: number, concurrency: number): Promise<number> {
  const url = new URL(baseUrl);
  const pool = new Pool(url.origin, { connections: concurrency });
  let next = 1;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next <= users) {
        const u = userRecord(next++);
        const response = await pool.request({
          method: 'POST',
          path: `${url.pathname}/Users`,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
          body: JSON.stringify({
            schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
            userName: u.userPrincipalName,
            active: true,
            displayName: u.displayName,
            title: u.jobTitle,
            name: { givenName: u.givenName, familyName: u.surname, formatted: `${u.givenName} ${u.surname}` },
            emails: [{ type: 'work', value: u.mail }],
            externalId: u.mailNickname,
            addresses: [{ type: 'work', locality: u.city, country: u.country }],
            'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: u.department },
          }),
        });
        const body = (await response.body.json()) as { id?: string };
        if (response.statusCode !== 201 || !body.id) throw new Error(`bare create failed: ${response.statusCode}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return seconds;
}

/** Creates `count` accounts at the target through its SCIM API, 32 at a time. */
async function seedTargetAccounts(target: { baseUrl: string; token: string }, count: number): Promise<void> {
  let next = 1;
  const post = async () => {
    for (let i = next++; i <= count; i = next++) {
      const res = await fetch(`${target.baseUrl}/Users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${target.token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify({
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          userName: `existing-${i}@other.example`,
          displayName: `Existing ${i}`,
          active: true,
        }),
      });
      if (res.status !== 201) throw new Error(`seeding the target: POST /Users answered ${res.status}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 32 }, post));
}

/** Rows inserted, updated (of them HOT) and deleted per table of the bench database, as Postgres counts them. */
type TableWrites = Record<string, { written: number; updated: number; hot: number }>;

async function tableWrites(dbName: string): Promise<{ tables: TableWrites; walBytes: number }> {
  const client = new pg.Client({ connectionString: databaseUrl(dbName) });
  await client.connect();
  try {
    // The server's WAL position in bytes (the whole server's: nothing else writes during a bench).
    const { rows: wal } = await client.query<{ bytes: string }>(
      "select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint as bytes",
    );
    const { rows } = await client.query<{ relname: string; written: string; updated: string; hot: string }>(
      `select relname, n_tup_ins + n_tup_upd + n_tup_del as written, n_tup_upd as updated, n_tup_hot_upd as hot
       from pg_stat_user_tables`,
    );
    return {
      walBytes: Number(wal[0].bytes),
      tables: Object.fromEntries(
        rows.map((r) => [r.relname, { written: Number(r.written), updated: Number(r.updated), hot: Number(r.hot) }]),
      ),
    };
  } finally {
    await client.end();
  }
}

/** What each table gained between two readings, per created user, biggest first (tables under 0.01 left out). */
function writesPerUser(before: TableWrites, after: TableWrites, users: number): InitialRowWrites[] {
  return Object.entries(after)
    .map(([table, a]) => {
      const b = before[table] ?? { written: 0, updated: 0, hot: 0 };
      return {
        table,
        written: (a.written - b.written) / users,
        updated: (a.updated - b.updated) / users,
        hot: (a.hot - b.hot) / users,
      };
    })
    .filter((w) => w.written >= 0.01)
    .sort((x, y) => y.written - x.written);
}

export interface InitialRowWrites {
  table: string;
  /** Rows inserted, updated or deleted per created user. */
  written: number;
  /** Of them updates, and of those HOT (no index entries written). */
  updated: number;
  hot: number;
}

/** The initial cycle's time split by what the target saw (seconds). */
export interface InitialPhases {
  /** From starting the job to the first user create reaching the target (import, staging, listing). */
  beforeCreates: number;
  /** From the first user create to the last. */
  creates: number;
  /** From the last user create to the cycle's end (groups, members, closing the cycle). */
  afterCreates: number;
  /** Requests other than user creates (listing, groups, members). */
  otherRequests: number;
}

function initialTimeline(events: { at: number; create: boolean }[], started: number, ended: number): InitialPhases {
  const creates = events.filter((e) => e.create);
  const first = creates[0]?.at ?? started;
  const last = creates.at(-1)?.at ?? started;
  return {
    beforeCreates: (first - started) / 1000,
    creates: (last - first) / 1000,
    afterCreates: (ended - last) / 1000,
    otherRequests: events.length - creates.length,
  };
}

export async function runProvisioningBench(options: ProvisioningBenchOptions): Promise<ProvisioningBenchResult> {
  const users = options.users;
  const groupSize = options.groupSize ?? 50;
  const concurrency = options.concurrency ?? 16;
  const batchSize = options.batchSize ?? 500;
  const latencyMs = options.latencyMs ?? 0;
  const dbName = `ferry_bench_${randomBytes(6).toString('hex')}`;
  await admin(`create database "${dbName}"`);
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-bench-'));
  const temporal = options.temporal ?? 'in-repo';
  const service = await startBenchTemporal(temporal, dir);
  const bulk = options.bulk === true;
  // When each request reached the target (ms, performance.now()), kept while `timeline` is set: where
  // the initial cycle's time goes besides the creates themselves.
  let timeline: { at: number; create: boolean }[] | null = null;
  const target = await startScimTarget({
    latencyMs,
    ...(bulk ? { bulk: {} } : {}),
    onRequest: ({ method, url }) => {
      const path = url.split('?')[0];
      timeline?.push({ at: performance.now(), create: method === 'POST' && /\/(Users|Bulk)$/.test(path) });
    },
  });
  const store = await openStore({ databaseUrl: databaseUrl(dbName), encryptionKey: ENCRYPTION_KEY });
  let worker: ChildProcess | undefined;
  // The worker process encrypts payloads with the key derived from FERRY_ENCRYPTION_KEY: so does this client.
  const { connection, client } = await connectTemporalClient(
    { address: service.address, namespace: 'default', tls: null, apiKey: null },
    payloadCodecFromEnv({ payloadKeys: [] }, ENCRYPTION_KEY),
  );
  try {
    await store.migrate();
    const app = await createBenchApp(store, target, {
      name: 'Bench app',
      concurrency,
      deletionThreshold: { percent: 50 },
      bulk,
    });
    const seedStarted = performance.now();
    const { groups, memberships } = await seed(store, app.id, users, groupSize, options.memberships ?? users);
    const existingAccounts = options.existingAccounts ?? 0;
    if (existingAccounts > 0) await seedTargetAccounts(target, existingAccounts);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const taskQueue = TASK_QUEUE;
    worker = await startBenchWorker(dir, service.address, dbName);

    const handle = client.workflow.getHandle(jobWorkflowId(app.id));
    // Polls the cycle row, not the job's status query: a query every few ms would cost the worker CPU.
    const waitForCycle = async (n: number) => {
      for (;;) {
        const row = await store.cycles.getByNumber(app.id, n);
        if (row && row.status !== 'running') return row;
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const cycle = async (n: number, trigger: () => Promise<unknown>) => {
      const before = target.stats();
      const started = performance.now();
      await trigger();
      const row = await waitForCycle(n);
      if (row.status !== 'succeeded') throw new Error(`cycle ${n} failed: ${JSON.stringify(row.failure)}`);
      const after = target.stats();
      const routed = (route: string) => (after.byRoute[route] ?? 0) - (before.byRoute[route] ?? 0);
      return {
        seconds: (performance.now() - started) / 1000,
        requests: after.requests - before.requests,
        bulkRequests: routed('POST /Bulk'),
        // The requests about one user's account (a read of it, its PATCH); the cycle's test connection is a filtered GET /Users.
        userAccountRequests: routed('GET /Users/{id}') + routed('PATCH /Users/{id}'),
      };
    };

    const cpuBefore = cpuSeconds(worker.pid);
    const postgresBefore = postgresCpuSeconds();
    const backends = await databaseBackendsCpu(dbName);
    const benchBefore = ownCpuSeconds();
    const temporalBefore = service.cpuSeconds();
    // Postgres counts a backend's row writes when it reports them: at a transaction's end at most once a
    // second, else after 10 s idle. Counting waits that out before and after the initial cycle.
    const countRows = process.env.FERRY_BENCH_ROW_WRITES === '1';
    const settleStats = () => new Promise((resolve) => setTimeout(resolve, 11_000));
    if (countRows) await settleStats();
    const writesBefore = countRows ? await tableWrites(dbName) : null;
    timeline = [];
    const initialStarted = performance.now();
    const initial = await cycle(1, () =>
      client.workflow.start(JOB_WORKFLOW_TYPE, {
        workflowId: jobWorkflowId(app.id),
        taskQueue,
        args: [{ appId: app.id, appName: 'Bench app', batchSize }],
      }),
    );
    const phases = initialTimeline(timeline, initialStarted, initialStarted + initial.seconds * 1000);
    timeline = null;
    const cpuAfter = cpuSeconds(worker.pid);
    const postgresInitialCpuSeconds = postgresCpuSeconds() - postgresBefore;
    const postgresBackendsInitialCpuSeconds = await backends.stop();
    const benchInitialCpuSeconds = ownCpuSeconds() - benchBefore;
    const temporalAfter = service.cpuSeconds();
    const temporalInitialCpuSeconds =
      temporalBefore === null || temporalAfter === null ? null : temporalAfter - temporalBefore;
    const workerInitialCpuSeconds = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
    const provisioned = target.users().length - existingAccounts;
    if (provisioned !== users) throw new Error(`expected ${users} users created at the target, found ${provisioned}`);

    if (countRows) await settleStats();
    const writesAfter = writesBefore ? await tableWrites(dbName) : null;
    const rowWrites =
      writesBefore && writesAfter ? writesPerUser(writesBefore.tables, writesAfter.tables, users) : null;
    const walBytesPerUser = writesBefore && writesAfter ? (writesAfter.walBytes - writesBefore.walBytes) / users : null;
    const noChange = await cycle(2, () => handle.signal(runNowSignal));

    const changedUsers = Math.max(1, Math.floor(users / 100));
    const step = Math.floor(users / changedUsers);
    await store.directory.bulkUpsertUsers(
      Array.from({ length: changedUsers }, (_, k) => userRecord(1 + k * step, 'Principal Engineer')),
    );
    const change = await cycle(3, () => handle.signal(runNowSignal));
    const workerPeakRssMb = peakRssMb(worker.pid);
    const jobRunEvents = await eventsPerRun(client, jobWorkflowId(app.id));
    const cycleRunEvents = await Promise.all([1, 2, 3].map((n) => eventsPerRun(client, cycleWorkflowId(app.id, n))));

    // The same creates, bare: a fresh target state, one undici pool, the same concurrency.
    target.reset();
    const bareCpuBefore = ownCpuSeconds();
    const bareSeconds = await bareCreates(target.baseUrl, target.token, users, concurrency);
    const bareCpuSeconds = ownCpuSeconds() - bareCpuBefore;

    await handle.terminate('bench done').catch(() => {});
    const usersPerSecond = users / initial.seconds;
    const bareUsersPerSecond = users / bareSeconds;
    return {
      temporal,
      users,
      latencyMs,
      groups,
      memberships,
      seedSeconds,
      existingAccounts,
      initialSeconds: initial.seconds,
      usersPerSecond,
      initialRequests: initial.requests,
      phases,
      rowWrites,
      walBytesPerUser,
      bulk,
      initialBulkRequests: initial.bulkRequests,
      bareSeconds,
      bareUsersPerSecond,
      ratio: usersPerSecond / bareUsersPerSecond,
      noChangeSeconds: noChange.seconds,
      noChangeRequests: noChange.requests,
      changeSeconds: change.seconds,
      changeRequests: change.requests,
      requestsPerUpdatedUser: change.userAccountRequests / changedUsers,
      changedUsers,
      workerPeakRssMb,
      workerInitialCpuSeconds,
      postgresInitialCpuSeconds,
      postgresBackendsInitialCpuSeconds,
      benchInitialCpuSeconds,
      temporalInitialCpuSeconds,
      bareCpuSeconds,
      jobRunEvents,
      cycleRunEvents,
    };
  } finally {
    await stopWorkerProcess(worker);
    await connection.close();
    await store.close();
    await target.close();
    await service.close();
    await rm(dir, { recursive: true, force: true });
    await admin(`drop database if exists "${dbName}" with (force)`);
  }
}

export function formatResult(r: ProvisioningBenchResult): string {
  const f = (n: number, d = 1) => n.toFixed(d);
  return [
    `provisioning ${r.users} users + ${r.groups} groups, ${r.memberships} memberships${r.bulk ? ' with SCIM Bulk' : ''} (seeded in ${f(r.seedSeconds)} s), target latency ${r.latencyMs} ms, Temporal: ${r.temporal === 'real' ? 'real server (start-dev, SQLite file)' : 'in-repo test service'}`,
    ...(r.existingAccounts > 0
      ? [`  target held ${r.existingAccounts} accounts before: listed into the store page by page for matching`]
      : []),
    `  initial cycle: ${f(r.initialSeconds)} s, ${f(r.usersPerSecond, 0)} users/s, ${r.initialRequests} requests`,
    ...(r.bulk
      ? [
          `  Bulk requests per object: ${f(r.initialBulkRequests / (r.users + r.groups), 4)} (${r.initialBulkRequests} POST /Bulk for ${r.users} users + ${r.groups} groups; goal ≤ 0.05); all requests per object: ${f(r.initialRequests / (r.users + r.groups), 4)} (group member PATCHes and reads are single requests)`,
        ]
      : []),
    `  initial cycle's time: ${f(r.phases.beforeCreates, 2)} s before the first create, ${f(r.phases.creates, 2)} s of creates, ${f(r.phases.afterCreates, 2)} s after the last (${r.phases.otherRequests} other requests: listing, groups, members)`,
    `  bare creates:  ${f(r.bareSeconds)} s, ${f(r.bareUsersPerSecond, 0)} users/s`,
    `  ratio ferry/bare: ${f(r.ratio, 2)} (goal ${r.latencyMs >= 20 ? '≥ 0.97 at a target latency of 20 ms or more' : '≥ 0.8'})`,
    `  no-change cycle: ${f(r.noChangeSeconds, 2)} s, ${r.noChangeRequests} requests (goal < 2 s, 0 requests)`,
    `  1 % change cycle (${r.changedUsers} users): ${f(r.changeSeconds, 2)} s, ${r.changeRequests} requests (goal < 10 s)`,
    `  requests per updated object: ${f(r.requestsPerUpdatedUser, 2)} (goal 1.0: one PATCH from the link's values, no GET)`,
    `  worker CPU in the initial cycle: ${r.workerInitialCpuSeconds === null ? 'n/a' : `${f(r.workerInitialCpuSeconds, 2)} s (${f((1000 * r.workerInitialCpuSeconds) / r.users, 3)} ms per user)`}`,
    `  CPU per user, initial cycle: Postgres ${f((1000 * r.postgresInitialCpuSeconds) / r.users, 3)} ms (its backends of the bench database ${f((1000 * r.postgresBackendsInitialCpuSeconds) / r.users, 3)} ms), ${r.temporal === 'real' ? 'target' : 'target + test service'} ${f((1000 * r.benchInitialCpuSeconds) / r.users, 3)} ms; bare loop (client + target) ${f((1000 * r.bareCpuSeconds) / r.users, 3)} ms`,
    ...(r.temporalInitialCpuSeconds === null
      ? []
      : [
          `  Temporal server CPU in the initial cycle: ${f(r.temporalInitialCpuSeconds, 2)} s (${f((1000 * r.temporalInitialCpuSeconds) / r.users, 3)} ms per user)`,
        ]),
    cpuBudgetLine(r),
    ...(r.rowWrites === null
      ? []
      : [
          `  Postgres rows written per created user: ${f(
            r.rowWrites.reduce((n, w) => n + w.written, 0),
            2,
          )}, WAL ${f(r.walBytesPerUser ?? 0, 0)} bytes (${r.rowWrites.map((w) => `${w.table} ${f(w.written, 2)}${w.updated > 0 ? `, ${f(w.updated, 2)} updated, ${f(w.hot, 2)} HOT` : ''}`).join('; ')})`,
        ]),
    ceilingLine(r),
    `  worker peak RSS: ${r.workerPeakRssMb === null ? 'n/a' : `${r.workerPeakRssMb} MB`}`,
    `  history events per job run: ${r.jobRunEvents.join(', ')} (goal < 2,000 each; one run per cycle)`,
    ...r.cycleRunEvents.map(
      (runs, i) =>
        `  history events of cycle ${i + 1} (${['initial', 'no change', '1 % change'][i]}): ${runs.reduce((a, b) => a + b, 0)} in ${runs.length} run(s), at most ${Math.max(0, ...runs)} per run (goal < 10,000 per run)`,
    ),
  ].join('\n');
}

/**
 * The CPU budget, stated against the bare loop's CPU per user (client and target together) measured in
 * the same run, so it holds on any machine: the worker and Postgres each spend at most as much per
 * created user as the bare loop does.
 */
function cpuBudgetLine(r: ProvisioningBenchResult): string {
  const bare = r.bareCpuSeconds / r.users;
  if (bare <= 0) return '  CPU budget: n/a (no bare-loop CPU measured)';
  const worker =
    r.workerInitialCpuSeconds === null ? 'n/a' : `${(r.workerInitialCpuSeconds / r.users / bare).toFixed(2)}×`;
  const postgres = `${(r.postgresInitialCpuSeconds / r.users / bare).toFixed(2)}×`;
  const backends = `${(r.postgresBackendsInitialCpuSeconds / r.users / bare).toFixed(2)}×`;
  return `  CPU budget per created user, against the bare loop's: worker ${worker} (goal ≤ 1.0×), Postgres ${postgres} (goal ≤ 1.0×; the bench database's backends alone ${backends}, steadier on a shared machine)`;
}

/**
 * What this machine could do at best: every core busy, the CPU per user of the worker, Postgres and
 * the target (+ test service) added up. A ratio goal above this ceiling cannot be met by tuning the
 * overlap of work; only by spending less CPU per user somewhere.
 */
function ceilingLine(r: ProvisioningBenchResult): string {
  if (r.workerInitialCpuSeconds === null) return '  CPU ceiling: n/a';
  const cpuPerUser =
    (r.workerInitialCpuSeconds +
      r.postgresInitialCpuSeconds +
      r.benchInitialCpuSeconds +
      (r.temporalInitialCpuSeconds ?? 0)) /
    r.users;
  const cores = availableParallelism();
  const ceiling = cores / cpuPerUser;
  return `  CPU ceiling: ${(1000 * cpuPerUser).toFixed(3)} ms CPU per user in all → at most ${ceiling.toFixed(0)} users/s on ${cores} cores, ratio ≤ ${(ceiling / r.bareUsersPerSecond).toFixed(2)}`;
}
