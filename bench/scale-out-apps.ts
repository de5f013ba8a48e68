// Scale-out over many apps: the initial cycles of 20 apps (one group of users each, each app on its
// own loopback dev SCIM target answering after a realistic latency) run by 1 and then by 2 worker
// processes (workers/worker.ts) on one task queue, one Postgres database, one Temporal server. No
// rate limit in the way: the figure is what the workers get through. Prints users/s and target
// requests/s of each, and the ratio of 2 workers to 1 (the goal is ≥ 1.8× where the machine has the
// cores for a second worker; on 2 cores the database, the Temporal server and the targets share them,
// so it also prints the workers' CPU per user and how busy the whole machine was: a machine near 100 %
// cannot show scale-out).
// Run: npx tsx bench/scale-out-apps.ts [usersPerApp=100] [latencyMs=20] [apps=20]
// Postgres: BENCH_DATABASE_URL or TEST_DATABASE_URL (a fresh database, dropped after). Temporal:
// FERRY_BENCH_TEMPORAL=in-repo|real (default: real when a Temporal CLI is found, else in-repo).
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../store/index.ts';
import { findTemporalCli } from '../workers/temporal-cli.ts';
import { connectTemporalClient } from '../workers/temporal-connection.ts';
import { JOB_WORKFLOW_TYPE, jobWorkflowId } from '../workflows/messages.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY } from '../test/support/postgres.ts';
import { startTargetsProcess } from '../test/support/scim-targets-process.ts';
import { startWorkerProcess, workerProcessCodec, writeWorkflowBundle } from '../test/support/worker-process.ts';
import { createBenchApp } from './bench-app.ts';
import { startBenchTemporal, stopWorkerProcess, type BenchTemporal } from './provisioning.ts';

const usersPerApp = Number(process.argv[2] ?? 100);
const latencyMs = Number(process.argv[3] ?? 20);
const apps = Number(process.argv[4] ?? 20);
/** SCIM requests in flight per app (per worker process). */
const CONCURRENCY = 4;
const BATCH_SIZE = 50;
const temporalKind = (process.env.FERRY_BENCH_TEMPORAL ?? (findTemporalCli() ? 'real' : 'in-repo')) as BenchTemporal;

if (process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;
const db = await createTestDatabase('bench_scale_out_apps');
const store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY });
await store.migrate();
const dir = await mkdtemp(path.join(tmpdir(), 'ferry-scale-out-apps-'));
const temporal = await startBenchTemporal(temporalKind, dir);
const { connection, client } = await connectTemporalClient(
  { address: temporal.address, namespace: 'default', tls: null, apiKey: null },
  workerProcessCodec(),
);
const bundlePath = await writeWorkflowBundle(dir);

/** CPU seconds a process used so far (Linux /proc; 100 ticks a second), 0 when unreadable. */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The machine's busy and total CPU ticks (Linux /proc/stat), to tell how much of it was free. */
function machineTicks(): { busy: number; total: number } {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const ticks = fields.map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: total - ticks[3] - (ticks[4] ?? 0), total };
}

const userId = (i: number) => `u${String(i).padStart(7, '0')}`;
/** Group g (0-based) holds users g × usersPerApp + 1 … (g + 1) × usersPerApp; app g is assigned it. */
async function seedDirectory(): Promise<void> {
  const total = apps * usersPerApp;
  for (let from = 1; from <= total; from += 5000) {
    const chunk = Array.from({ length: Math.min(5000, total - from + 1) }, (_, n) => {
      const i = from + n;
      return {
        id: userId(i),
        userPrincipalName: `user${i}@contoso.example`,
        mail: `user${i}@contoso.example`,
        mailNickname: `user${i}`,
        displayName: `User ${i}`,
        givenName: 'User',
        surname: String(i),
      };
    });
    await store.directory.bulkUpsertUsers(chunk);
  }
  await store.directory.bulkUpsertGroups(
    Array.from({ length: apps }, (_, g) => ({ id: `g${g}`, displayName: `Group ${g}`, mailNickname: `group${g}` })),
  );
  await store.directory.importMembers(
    Array.from({ length: apps }, (_, g) =>
      Array.from({ length: usersPerApp }, (_, n) => ({
        groupId: `g${g}`,
        memberId: userId(g * usersPerApp + n + 1),
        memberType: 'user' as const,
      })),
    ).flat(),
  );
}

/** The initial cycles of `apps` fresh apps run by `workers` worker processes: users/s and requests/s. */
async function measure(workers: number) {
  const targets = await startTargetsProcess({ count: apps, latencyMs });
  const children = new Set<ChildProcess>();
  const taskQueue = `ferry-scale-out-${randomUUID()}`;
  try {
    const appIds: string[] = [];
    for (let g = 0; g < apps; g++) {
      const app = await createBenchApp(store, targets.targets[g], {
        name: `Scale-out ${workers}w app ${g}`,
        concurrency: CONCURRENCY,
      });
      await store.assignments.assign(app.id, `g${g}`, 'User');
      appIds.push(app.id);
    }
    const running: ChildProcess[] = [];
    for (let w = 0; w < workers; w++) {
      running.push(
        await startWorkerProcess({
          temporalAddress: temporal.address,
          databaseUrl: db.url,
          taskQueue,
          bundlePath,
          children,
        }),
      );
    }
    const began = performance.now();
    const ticksBefore = machineTicks();
    for (const appId of appIds) {
      await client.workflow.start(JOB_WORKFLOW_TYPE, {
        workflowId: jobWorkflowId(appId),
        taskQueue,
        args: [{ appId, appName: 'Scale-out app', batchSize: BATCH_SIZE }],
      });
    }
    // The cycle rows, not the jobs' status queries: queries would cost the workers CPU.
    const pending = new Set(appIds);
    while (pending.size > 0) {
      for (const appId of [...pending]) {
        const row = await store.cycles.getByNumber(appId, 1);
        if (!row || row.status === 'running') continue;
        if (row.status !== 'succeeded') throw new Error(`app ${appId}: cycle 1 ${row.status}`);
        pending.delete(appId);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - began) / 1000;
    const ticksAfter = machineTicks();
    const machineBusy = (ticksAfter.busy - ticksBefore.busy) / (ticksAfter.total - ticksBefore.total);
    const workerCpuSeconds = running.reduce((sum, worker) => sum + cpuSecondsOf(worker.pid), 0);
    const reports = await targets.report();
    const requests = reports.reduce((sum, r) => sum + r.arrivals.length, 0);
    const users = reports.reduce((sum, r) => sum + r.users.length, 0);
    if (users !== apps * usersPerApp) throw new Error(`the targets hold ${users} users, not ${apps * usersPerApp}`);
    for (const worker of running) await stopWorkerProcess(worker);
    return {
      seconds,
      usersPerSecond: users / seconds,
      requestsPerSecond: requests / seconds,
      workerCpuMsPerUser: (workerCpuSeconds * 1000) / users,
      machineBusy,
    };
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await targets.close();
  }
}

await seedDirectory();
console.log(
  `scale-out over ${apps} apps: ${usersPerApp} users each (${apps * usersPerApp} in all), target latency ${latencyMs} ms, ` +
    `concurrency ${CONCURRENCY} per app and worker, batches of ${BATCH_SIZE}, ${temporalKind} Temporal, ` +
    `${availableParallelism()} CPUs`,
);
const results: Array<Awaited<ReturnType<typeof measure>>> = [];
for (const workers of [1, 2]) {
  const r = await measure(workers);
  results.push(r);
  console.log(
    `  ${workers} worker${workers === 1 ? ' ' : 's'}: ${r.seconds.toFixed(1).padStart(6)} s, ` +
      `${r.usersPerSecond.toFixed(0).padStart(5)} users/s, ${r.requestsPerSecond.toFixed(0).padStart(5)} requests/s, ` +
      `worker CPU ${r.workerCpuMsPerUser.toFixed(1)} ms/user, machine CPU busy ${(r.machineBusy * 100).toFixed(0)} %`,
  );
}
console.log(`  2 workers / 1 worker: ${(results[1].usersPerSecond / results[0].usersPerSecond).toFixed(2)}×`);

await connection.close();
await temporal.close();
await store.close();
await db.drop();
await rm(dir, { recursive: true, force: true });
