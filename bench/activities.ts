// The cycle activities in one process, without Temporal: beginCycle, deletionGuard and processBatch
// per phase for N users (+ groups), against the fast loopback target, on Postgres (a fresh database)
// or PGlite (FERRY_BENCH_PGLITE=1). For profiling the per-object cost:
//   node --cpu-prof --import tsx bench/activities.ts 10000
// Knobs: argv[2] users (default 5000), FERRY_BENCH_BATCH (default 1000), FERRY_BENCH_GROUP_SIZE
// (default 50), FERRY_BENCH_RPS the app's rate limit (default: none in the way; the shared rate
// schedule's reservations only group requests under a real limit), FERRY_BENCH_LATENCY the target's
// wait before each answer in ms (default 0), FERRY_BENCH_TRACE=1 prints the SQL statements run (count, total ms) by their start.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createFerryActivities } from '../activities/index.ts';
import { startScimTarget } from '../dev/scim-target/index.ts';
import { openStore } from '../store/index.ts';
import { createBenchApp } from './bench-app.ts';
import { databaseBackendsCpu } from './provisioning.ts';

const users = Number(process.argv[2] ?? 5000);
const batchSize = Number(process.env.FERRY_BENCH_BATCH ?? 1000);
const groupSize = Number(process.env.FERRY_BENCH_GROUP_SIZE ?? 50);
const requestsPerSecond = process.env.FERRY_BENCH_RPS ? Number(process.env.FERRY_BENCH_RPS) : undefined;
const pglite = process.env.FERRY_BENCH_PGLITE === '1';
const base =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dbUrl = (name: string) => Object.assign(new URL(base), { pathname: `/${name}` }).toString();
const admin = async (statement: string) => {
  const client = new pg.Client({ connectionString: dbUrl('postgres') });
  await client.connect();
  await client.query(statement).finally(() => client.end());
};

const trace = new Map<string, { n: number; ms: number }>();
// Times every statement answered as a promise (pool queries and transaction clients; the pool's own
// callback-style call to a client is not a promise, so nothing is counted twice).
function traced(original: (...args: unknown[]) => unknown) {
  return function (this: unknown, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    const text = (typeof first === 'string' ? first : (first?.text ?? '')).replace(/\s+/g, ' ').slice(0, 70);
    const started = performance.now();
    const result = original.apply(this, args);
    if (result instanceof Promise) {
      result
        .finally(() => {
          const t = trace.get(text) ?? { n: 0, ms: 0 };
          t.n++;
          t.ms += performance.now() - started;
          trace.set(text, t);
        })
        .catch(() => {});
    }
    return result;
  };
}
if (process.env.FERRY_BENCH_TRACE === '1') {
  pg.Client.prototype.query = traced(
    pg.Client.prototype.query as (...args: unknown[]) => unknown,
  ) as typeof pg.Client.prototype.query;
  pg.Pool.prototype.query = traced(
    pg.Pool.prototype.query as (...args: unknown[]) => unknown,
  ) as typeof pg.Pool.prototype.query;
}

const dbName = `ferry_bench_${randomBytes(4).toString('hex')}`;
const dataDir = pglite ? await mkdtemp(path.join(tmpdir(), 'ferry-bench-')) : null;
if (!pglite) await admin(`create database "${dbName}"`);
const store = await openStore(
  dataDir
    ? { dataDir: path.join(dataDir, 'db'), encryptionKey: randomBytes(32).toString('hex') }
    : { databaseUrl: dbUrl(dbName), encryptionKey: randomBytes(32).toString('hex') },
);
await store.migrate();
const target = await startScimTarget({ latencyMs: Number(process.env.FERRY_BENCH_LATENCY ?? 0) });
const app = await createBenchApp(store, target, { name: 'bench', concurrency: 16, requestsPerSecond });
const pad = (n: number) => String(n).padStart(7, '0');
await store.directory.bulkUpsertUsers(
  Array.from({ length: users }, (_, k) => ({
    id: `u${pad(k + 1)}`,
    userPrincipalName: `user${pad(k + 1)}@contoso.example`,
    mail: `user${pad(k + 1)}@contoso.example`,
    displayName: `User ${k + 1}`,
    department: k % 2 === 0 ? 'Sales' : 'Engineering',
    managerId: k + 1 > 10 ? `u${pad(Math.floor((k + 1) / 10))}` : null,
  })),
);
const groups = Math.max(1, Math.ceil(users / groupSize));
await store.directory.bulkUpsertGroups(
  Array.from({ length: groups }, (_, k) => ({ id: `g${pad(k + 1)}`, displayName: `Group ${k + 1}` })),
);
await store.directory.bulkAddMembers(
  Array.from({ length: users }, (_, k) => ({
    groupId: `g${pad(Math.ceil((k + 1) / groupSize))}`,
    memberId: `u${pad(k + 1)}`,
    memberType: 'user' as const,
  })),
);
for (let k = 1; k <= groups; k++) await store.assignments.assign(app.id, `g${pad(k)}`, 'User');
trace.clear();

const handle = createFerryActivities({ store, allowInsecureLoopback: true });
const a = handle.activities;
const cycleOf = async (number: number, kind: 'initial' | 'incremental', watermark: number | null) => {
  const started = performance.now();
  const begun = await a.beginCycle({
    appId: app.id,
    cycleNumber: number,
    kind,
    watermark,
    deletionsApproved: false,
    deletionsRejected: false,
  });
  await a.deletionGuard({ appId: app.id, cycleId: begun.cycleId, deletionsApproved: false });
  const phases: string[] = [];
  for (const phase of ['users', 'groups', 'references'] as const) {
    const phaseStarted = performance.now();
    for (let cursor = 0; ;) {
      const r = await a.processBatch({ appId: app.id, cycleId: begun.cycleId, phase, cursor, batchSize });
      if (r.failure) throw new Error(r.failure.message);
      cursor = r.nextCursor;
      if (r.done) break;
    }
    phases.push(`${phase} ${(performance.now() - phaseStarted).toFixed(0)} ms`);
  }
  const summary = await a.finishCycle({ appId: app.id, cycleId: begun.cycleId, failure: null });
  return { seconds: (performance.now() - started) / 1000, phases, summary };
};
const requests0 = target.stats().requests;
const cpu0 = process.cpuUsage();
const backends = pglite ? null : await databaseBackendsCpu(dbName);
const initial = await cycleOf(1, 'initial', null);
const cpu1 = process.cpuUsage(cpu0);
const backendSeconds = backends ? await backends.stop() : null;
console.log(
  `${pglite ? 'PGlite' : 'Postgres'}: initial cycle of ${users} users + ${groups} groups: ${initial.seconds.toFixed(2)} s, ` +
    `${(users / initial.seconds).toFixed(0)} users/s, ${target.stats().requests - requests0} requests (${initial.phases.join(', ')})`,
);
// This process runs the target too: its CPU is the activities' and the target's together.
console.log(
  `CPU per user, initial cycle: this process (activities + target) ${((cpu1.user + cpu1.system) / 1000 / users).toFixed(3)} ms` +
    (backendSeconds === null
      ? ''
      : `, the database's Postgres backends ${((1000 * backendSeconds) / users).toFixed(3)} ms`),
);
const requests1 = target.stats().requests;
const again = await cycleOf(2, 'incremental', initial.summary.watermarkTo);
console.log(`no-change cycle: ${again.seconds.toFixed(2)} s, ${target.stats().requests - requests1} requests`);
if (trace.size > 0) {
  // Counted over both cycles (the no-change cycle sends nothing, so adds no fence or rate-slot query).
  const count = (prefix: string) =>
    [...trace].filter(([text]) => text.startsWith(prefix)).reduce((n, [, t]) => n + t.n, 0);
  const perUser = (n: number) => (n / users).toFixed(3);
  // The CPU sampler's own reads of pg_stat_activity are not the activities' statements.
  const statements = [...trace]
    .filter(([text]) => !text.startsWith('select pid from pg_stat_activity'))
    .reduce((n, [, t]) => n + t.n, 0);
  console.log(
    `statements per user: ${perUser(statements)} in all; fence ${perUser(count('select "object_id" from "object_locks"') + count('select "fence" from "object_locks"') + count('with held as'))}, ` +
      `rate slots ${perUser(count('insert into app_rate_slots'))}`,
  );
  const rows = [...trace].sort((x, y) => y[1].ms - x[1].ms).slice(0, 25);
  for (const [text, t] of rows) console.log(`${String(t.n).padStart(7)} ${t.ms.toFixed(0).padStart(7)} ms  ${text}`);
}
await handle.close();
await target.close();
await store.close();
if (dataDir) await rm(dataDir, { recursive: true, force: true });
else await admin(`drop database if exists "${dbName}" with (force)`);
