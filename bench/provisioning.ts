// The full provisioning path, measured: the in-repo Temporal test service, the Ferry worker in its
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
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startScimTarget } from '../dev/scim-target/index.ts';
import { startTemporalTestService } from '../dev/temporal-service/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { jobWorkflowId, runNowSignal } from '../workflows/messages.ts';
import { createBenchApp } from './bench-app.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BASE_DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ENCRYPTION_KEY = randomBytes(32).toString('hex');

export interface ProvisioningBenchOptions {
  users: number;
  /** Users per group (default 50); every other group is nested in the next one. */
  groupSize?: number;
  /** SCIM requests in flight (the app's concurrency), also used by the bare loop. Default 16. */
  concurrency?: number;
  /** Objects per processBatch call. Default 500. */
  batchSize?: number;
  /** Milliseconds the target waits before each answer (default 0: Ferry's own CPU is what limits). */
  latencyMs?: number;
}

export interface ProvisioningBenchResult {
  users: number;
  latencyMs: number;
  groups: number;
  seedSeconds: number;
  initialSeconds: number;
  usersPerSecond: number;
  initialRequests: number;
  bareSeconds: number;
  bareUsersPerSecond: number;
  ratio: number;
  noChangeSeconds: number;
  noChangeRequests: number;
  changeSeconds: number;
  changeRequests: number;
  changedUsers: number;
  workerPeakRssMb: number | null;
  /** CPU seconds (user + system) the worker process spent in the initial cycle: steadier than wall time on a shared machine. */
  workerInitialCpuSeconds: number | null;
  /** CPU seconds of the Postgres server processes during the initial cycle. */
  postgresInitialCpuSeconds: number;
  /** CPU seconds of the bench process (SCIM target + Temporal test service) during the initial cycle. */
  benchInitialCpuSeconds: number;
  /** CPU seconds of the bench process (client loop + SCIM target) during the bare creates. */
  bareCpuSeconds: number;
}

function databaseUrl(name: string): string {
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const pad = (n: number) => String(n).padStart(7, '0');

function userRecord(i: number, jobTitle = 'Engineer') {
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

async function seed(store: Store, appId: string, users: number, groupSize: number): Promise<number> {
  const chunk = 5000;
  for (let start = 1; start <= users; start += chunk) {
    const end = Math.min(users, start + chunk - 1);
    await store.directory.bulkUpsertUsers(Array.from({ length: end - start + 1 }, (_, k) => userRecord(start + k)));
  }
  const groups = Math.max(1, Math.ceil(users / groupSize));
  await store.directory.bulkUpsertGroups(
    Array.from({ length: groups }, (_, k) => ({ id: `g${pad(k + 1)}`, displayName: `Group ${k + 1}` })),
  );
  const memberships: { groupId: string; memberId: string; memberType: 'user' | 'group' }[] = [];
  for (let i = 1; i <= users; i++) {
    memberships.push({ groupId: `g${pad(Math.ceil(i / groupSize))}`, memberId: `u${pad(i)}`, memberType: 'user' });
  }
  for (let k = 2; k <= groups; k += 2)
    memberships.push({ groupId: `g${pad(k)}`, memberId: `g${pad(k - 1)}`, memberType: 'group' });
  await store.directory.bulkAddMembers(memberships);
  for (let k = 1; k <= groups; k++) await store.assignments.assign(appId, `g${pad(k)}`, 'User');
  return groups;
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
function procStat(pid: number | string): { name: string; cpuSeconds: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
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

export async function runProvisioningBench(options: ProvisioningBenchOptions): Promise<ProvisioningBenchResult> {
  const users = options.users;
  const groupSize = options.groupSize ?? 50;
  const concurrency = options.concurrency ?? 16;
  const batchSize = options.batchSize ?? 500;
  const latencyMs = options.latencyMs ?? 0;
  const dbName = `ferry_bench_${randomBytes(6).toString('hex')}`;
  await admin(`create database "${dbName}"`);
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-bench-'));
  const service = await startTemporalTestService({ timeSkipping: true });
  const target = await startScimTarget({ latencyMs });
  const store = await openStore({ databaseUrl: databaseUrl(dbName), encryptionKey: ENCRYPTION_KEY });
  let worker: ChildProcess | undefined;
  const connection = await Connection.connect({ address: service.address });
  const client = new Client({ connection, namespace: 'default' });
  try {
    await store.migrate();
    const app = await createBenchApp(store, target, {
      name: 'Bench app',
      concurrency,
      deletionThreshold: { percent: 50 },
    });
    const seedStarted = performance.now();
    const groups = await seed(store, app.id, users, groupSize);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const bundle = await bundleWorkflowCode({
      workflowsPath: path.join(ROOT, 'workflows/index.ts'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    const bundlePath = path.join(dir, 'workflows.js');
    await writeFile(bundlePath, bundle.code);
    const taskQueue = 'ferry';
    worker = await startWorkerProcess({
      TEMPORAL_ADDRESS: service.address,
      DATABASE_URL: databaseUrl(dbName),
      FERRY_ENCRYPTION_KEY: ENCRYPTION_KEY,
      FERRY_TASK_QUEUE: taskQueue,
      FERRY_ALLOW_INSECURE_LOOPBACK: '1',
      FERRY_WORKFLOW_BUNDLE: bundlePath,
      SMTP_URL: '',
      SMTP_HOST: '',
    });

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
      const requestsBefore = target.stats().requests;
      const started = performance.now();
      await trigger();
      const row = await waitForCycle(n);
      if (row.status !== 'succeeded') throw new Error(`cycle ${n} failed: ${JSON.stringify(row.failure)}`);
      return { seconds: (performance.now() - started) / 1000, requests: target.stats().requests - requestsBefore };
    };

    const cpuBefore = cpuSeconds(worker.pid);
    const postgresBefore = postgresCpuSeconds();
    const benchBefore = ownCpuSeconds();
    const initial = await cycle(1, () =>
      client.workflow.start('provisioningJobWorkflow', {
        workflowId: jobWorkflowId(app.id),
        taskQueue,
        args: [{ appId: app.id, appName: 'Bench app', batchSize }],
      }),
    );
    const cpuAfter = cpuSeconds(worker.pid);
    const postgresInitialCpuSeconds = postgresCpuSeconds() - postgresBefore;
    const benchInitialCpuSeconds = ownCpuSeconds() - benchBefore;
    const workerInitialCpuSeconds = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
    const provisioned = target.users().length;
    if (provisioned !== users) throw new Error(`expected ${users} users at the target, found ${provisioned}`);

    const noChange = await cycle(2, () => handle.signal(runNowSignal));

    const changedUsers = Math.max(1, Math.floor(users / 100));
    const step = Math.floor(users / changedUsers);
    await store.directory.bulkUpsertUsers(
      Array.from({ length: changedUsers }, (_, k) => userRecord(1 + k * step, 'Principal Engineer')),
    );
    const change = await cycle(3, () => handle.signal(runNowSignal));
    const workerPeakRssMb = peakRssMb(worker.pid);

    // The same creates, bare: a fresh target state, one undici pool, the same concurrency.
    target.reset();
    const bareCpuBefore = ownCpuSeconds();
    const bareSeconds = await bareCreates(target.baseUrl, target.token, users, concurrency);
    const bareCpuSeconds = ownCpuSeconds() - bareCpuBefore;

    await handle.terminate('bench done').catch(() => {});
    const usersPerSecond = users / initial.seconds;
    const bareUsersPerSecond = users / bareSeconds;
    return {
      users,
      latencyMs,
      groups,
      seedSeconds,
      initialSeconds: initial.seconds,
      usersPerSecond,
      initialRequests: initial.requests,
      bareSeconds,
      bareUsersPerSecond,
      ratio: usersPerSecond / bareUsersPerSecond,
      noChangeSeconds: noChange.seconds,
      noChangeRequests: noChange.requests,
      changeSeconds: change.seconds,
      changeRequests: change.requests,
      changedUsers,
      workerPeakRssMb,
      workerInitialCpuSeconds,
      postgresInitialCpuSeconds,
      benchInitialCpuSeconds,
      bareCpuSeconds,
    };
  } finally {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker?.once('exit', resolve));
      worker.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (worker.exitCode === null) worker.kill('SIGKILL');
    }
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
    `provisioning ${r.users} users + ${r.groups} groups (seeded in ${f(r.seedSeconds)} s), target latency ${r.latencyMs} ms`,
    `  initial cycle: ${f(r.initialSeconds)} s, ${f(r.usersPerSecond, 0)} users/s, ${r.initialRequests} requests`,
    `  bare creates:  ${f(r.bareSeconds)} s, ${f(r.bareUsersPerSecond, 0)} users/s`,
    `  ratio ferry/bare: ${f(r.ratio, 2)} (goal ≥ 0.8)`,
    `  no-change cycle: ${f(r.noChangeSeconds, 2)} s, ${r.noChangeRequests} requests (goal < 2 s, 0 requests)`,
    `  1 % change cycle (${r.changedUsers} users): ${f(r.changeSeconds, 2)} s, ${r.changeRequests} requests (goal < 10 s)`,
    `  worker CPU in the initial cycle: ${r.workerInitialCpuSeconds === null ? 'n/a' : `${f(r.workerInitialCpuSeconds, 2)} s (${f((1000 * r.workerInitialCpuSeconds) / r.users, 3)} ms per user)`}`,
    `  CPU per user, initial cycle: Postgres ${f((1000 * r.postgresInitialCpuSeconds) / r.users, 3)} ms, target + test service ${f((1000 * r.benchInitialCpuSeconds) / r.users, 3)} ms; bare loop (client + target) ${f((1000 * r.bareCpuSeconds) / r.users, 3)} ms`,
    ceilingLine(r),
    `  worker peak RSS: ${r.workerPeakRssMb === null ? 'n/a' : `${r.workerPeakRssMb} MB`}`,
  ].join('\n');
}

/**
 * What this machine could do at best: every core busy, the CPU per user of the worker, Postgres and
 * the target (+ test service) added up. A ratio goal above this ceiling cannot be met by tuning the
 * overlap of work; only by spending less CPU per user somewhere.
 */
function ceilingLine(r: ProvisioningBenchResult): string {
  if (r.workerInitialCpuSeconds === null) return '  CPU ceiling: n/a';
  const cpuPerUser = (r.workerInitialCpuSeconds + r.postgresInitialCpuSeconds + r.benchInitialCpuSeconds) / r.users;
  const cores = availableParallelism();
  const ceiling = cores / cpuPerUser;
  return `  CPU ceiling: ${(1000 * cpuPerUser).toFixed(3)} ms CPU per user in all → at most ${ceiling.toFixed(0)} users/s on ${cores} cores, ratio ≤ ${(ceiling / r.bareUsersPerSecond).toFixed(2)}`;
}
