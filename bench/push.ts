// Change-driven push, measured: the latency from a directory write (its transaction committed) to the
// target holding the new value, at a steady rate of changes on one app, for a bounded time. The same
// pieces as the provisioning bench (Temporal, the worker in its own process, Postgres, the loopback
// SCIM target) plus the change push of the API process (api/change-push.ts), here in the bench process.
// The app has a rate limit (FERRY_BENCH_PUSH_RPS, default 200 requests/s), as a real one would. Prints
// p50, p99 and the cycles it took; asserts nothing. Run alone: npx tsx bench/push.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { signalDirectoryChanged, startChangePush } from '../api/change-push.ts';
import { startScimTarget } from '../dev/scim-target/index.ts';
import { openStore } from '../store/index.ts';
import { connectTemporalClient, payloadCodecFromEnv } from '../workers/temporal-connection.ts';
import { JOB_WORKFLOW_TYPE, jobWorkflowId, TASK_QUEUE } from '../workflows/messages.ts';
import { createBenchApp } from './bench-app.ts';
import {
  admin,
  databaseUrl,
  ENCRYPTION_KEY,
  seed,
  startBenchTemporal,
  startBenchWorker,
  stopWorkerProcess,
  type BenchTemporal,
} from './provisioning.ts';

export interface PushBenchOptions {
  /** Directory users (all assigned); each change updates the next one in turn. */
  users: number;
  changesPerSecond: number;
  seconds: number;
  /** The app's rate limit at the target. */
  requestsPerSecond: number;
  temporal?: BenchTemporal;
}

export interface PushBenchResult extends PushBenchOptions {
  changes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Push cycles run for the changes (after the initial cycle). */
  cycles: number;
  /** Changes whose value never reached the target within the drain time. */
  lost: number;
  /** Seconds from the first write to the last commit (above `seconds` when the database fell behind). */
  writeSeconds: number;
}

const titleOf = (k: number) => `Push ${k}`;
/** Directory writes in flight at most (as an API with a bounded pool would have); a slower database lowers the rate reached. */
const MAX_WRITES_IN_FLIGHT = 6;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function runPushBench(options: PushBenchOptions): Promise<PushBenchResult> {
  const dbName = `ferry_bench_push_${randomBytes(6).toString('hex')}`;
  await admin(`create database "${dbName}"`);
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-bench-push-'));
  const service = await startBenchTemporal(options.temporal ?? 'in-repo', dir);
  const target = await startScimTarget({ latencyMs: 0 });
  const store = await openStore({ databaseUrl: databaseUrl(dbName), encryptionKey: ENCRYPTION_KEY });
  const { connection, client } = await connectTemporalClient(
    { address: service.address, namespace: 'default', tls: null, apiKey: null },
    payloadCodecFromEnv({ payloadKeys: [] }, ENCRYPTION_KEY),
  );
  let worker: ChildProcess | undefined;
  let push: { stop(): Promise<void> } | undefined;
  let jobId: string | undefined;
  try {
    await store.migrate();
    const app = await createBenchApp(store, target, {
      name: 'Push bench app',
      concurrency: 8,
      requestsPerSecond: options.requestsPerSecond,
    });
    await seed(store, app.id, options.users, 50);
    worker = await startBenchWorker(dir, service.address, dbName);
    jobId = jobWorkflowId(app.id);
    await client.workflow.start(JOB_WORKFLOW_TYPE, {
      workflowId: jobId,
      taskQueue: TASK_QUEUE,
      args: [{ appId: app.id, appName: 'Push bench app' }],
    });
    for (;;) {
      const row = await store.cycles.getByNumber(app.id, 1);
      if (row && row.status === 'succeeded') break;
      if (row && row.status !== 'running') throw new Error(`initial cycle ${row.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    push = startChangePush(store, signalDirectoryChanged(client.workflow), {
      onError: (error) => console.error('change push:', error),
    });

    const { latencies, writeSeconds } = await writeAndWatch(options, {
      write: (k) => store.directory.patchUser(userId(options.users, k), { jobTitle: titleOf(k) }),
      titles: () => {
        const byUser = new Map<string, number>();
        for (const u of target.users()) {
          const title = typeof u.title === 'string' ? /^Push (\d+)$/.exec(u.title) : null;
          if (title) byUser.set(String(u.userName), Number(title[1]));
        }
        return byUser;
      },
      userNameOf: (k) => `user${pad(userIndex(options.users, k))}@contoso.example`,
    });
    const cycles = (await store.cycles.nextNumber(app.id)) - 2;
    const sorted = latencies.filter((l) => l !== null).sort((a, b) => a - b);
    return {
      ...options,
      changes: latencies.length,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1) ?? NaN,
      cycles,
      lost: latencies.length - sorted.length,
      writeSeconds,
    };
  } finally {
    await push?.stop();
    await stopWorkerProcess(worker);
    if (jobId)
      await client.workflow
        .getHandle(jobId)
        .terminate('bench done')
        .catch(() => undefined);
    await connection.close();
    await store.close();
    await target.close();
    await service.close();
    await rm(dir, { recursive: true, force: true });
    await admin(`drop database if exists "${dbName}" with (force)`);
  }
}

const pad = (i: number) => String(i).padStart(7, '0');
const userIndex = (users: number, k: number) => 1 + (k % users);
const userId = (users: number, k: number) => `u${pad(userIndex(users, k))}`;

/**
 * Writes change k at k / rate seconds (each write awaited on its own, as independent writers do) and
 * watches the target every 20 ms: change k is done when its user's title carries k or a later change.
 * Returns each change's latency in ms (null: never seen within the drain time after the last write).
 */
async function writeAndWatch(
  options: PushBenchOptions,
  io: {
    write(k: number): Promise<unknown>;
    titles(): Map<string, number>;
    userNameOf(k: number): string;
  },
): Promise<{ latencies: (number | null)[]; writeSeconds: number }> {
  const total = Math.round(options.changesPerSecond * options.seconds);
  const committedAt: (number | null)[] = Array.from({ length: total }, () => null);
  const doneAt: (number | null)[] = Array.from({ length: total }, () => null);
  const start = performance.now();
  const writes: Promise<unknown>[] = [];
  let next = 0;
  let open = total;
  let inFlight = 0;
  let lastCommit = start;
  // Drains for a minute after the last commit; the writers leave the pool room for the change push.
  const drainUntil = () => (next < total ? Infinity : lastCommit + 60_000);
  while (open > 0 && performance.now() < drainUntil()) {
    const now = performance.now();
    while (next < total && inFlight < MAX_WRITES_IN_FLIGHT && now - start >= (next * 1000) / options.changesPerSecond) {
      const k = next++;
      inFlight++;
      writes.push(
        io.write(k).then(() => {
          inFlight--;
          committedAt[k] = lastCommit = performance.now();
        }),
      );
    }
    const titles = io.titles();
    const seenAt = performance.now();
    for (let k = 0; k < next; k++) {
      if (doneAt[k] !== null || committedAt[k] === null) continue;
      const value = titles.get(io.userNameOf(k));
      if (value !== undefined && value >= k) {
        doneAt[k] = seenAt;
        open--;
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all(writes);
  return {
    latencies: doneAt.map((d, k) => (d === null || committedAt[k] === null ? null : Math.max(0, d - committedAt[k]!))),
    writeSeconds: (lastCommit - start) / 1000,
  };
}

export function formatPushResult(r: PushBenchResult): string {
  return [
    `push: ${r.changes} directory changes at ${r.changesPerSecond}/s for ${r.seconds} s on one app (${r.users} users, rate limit ${r.requestsPerSecond} requests/s)`,
    `  writes committed in ${r.writeSeconds.toFixed(1)} s (${(r.changes / Math.max(r.writeSeconds, 1e-3)).toFixed(0)} changes/s reached)`,
    `  latency write → target: p50 ${(r.p50Ms / 1000).toFixed(2)} s, p99 ${(r.p99Ms / 1000).toFixed(2)} s, max ${(r.maxMs / 1000).toFixed(2)} s (goal p50 < 2 s, p99 < 10 s)`,
    `  push cycles: ${r.cycles} (${(r.changes / Math.max(1, r.cycles)).toFixed(0)} changes per cycle)${r.lost > 0 ? `, ${r.lost} changes not seen at the target` : ''}`,
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await runPushBench({
    users: Number(process.env.FERRY_BENCH_PUSH_USERS ?? 2000),
    changesPerSecond: Number(process.env.FERRY_BENCH_PUSH_RATE ?? 100),
    seconds: Number(process.env.FERRY_BENCH_PUSH_SECONDS ?? 30),
    requestsPerSecond: Number(process.env.FERRY_BENCH_PUSH_RPS ?? 200),
  });
  console.log(formatPushResult(result));
}
