// `npm run bench`: the full provisioning path for each run, figures printed.
// Runs: FERRY_BENCH_RUNS, comma-separated `users[@latencyMs]` (default "10000,100000,10000@20"): the
// directory size and the milliseconds the loopback target waits before each answer (0 = Ferry's own
// CPU is the limit; 20 = a fast real SaaS endpoint, where Ferry must keep the target busy).
// FERRY_BENCH_USERS (comma-separated sizes, latency 0) is still read when FERRY_BENCH_RUNS is unset.
// FERRY_BENCH_WORKER_STDERR=1 passes the worker's stderr through (for ad-hoc tracing).
// SCIM concurrency: FERRY_BENCH_CONCURRENCY (default 16); batch size: FERRY_BENCH_BATCH (default 1000).
// Postgres: BENCH_DATABASE_URL or TEST_DATABASE_URL (a fresh database per run, dropped after).
// The engine, store and SCIM-client benches run on their own: npx tsx bench/<name>.ts.
import { formatResult, runProvisioningBench } from './provisioning.ts';

const spec = process.env.FERRY_BENCH_RUNS ?? process.env.FERRY_BENCH_USERS ?? '10000,100000,10000@20';
const runs = spec.split(',').map((entry) => {
  const match = /^\s*(\d+)\s*(?:@\s*(\d+)\s*)?$/.exec(entry);
  if (!match || Number(match[1]) <= 0) throw new Error(`FERRY_BENCH_RUNS: "${entry}" is not users[@latencyMs]`);
  return { users: Number(match[1]), latencyMs: Number(match[2] ?? 0) };
});
const concurrency = Number(process.env.FERRY_BENCH_CONCURRENCY ?? 16);
const batchSize = Number(process.env.FERRY_BENCH_BATCH ?? 1000);

for (const { users, latencyMs } of runs) {
  const result = await runProvisioningBench({ users, concurrency, batchSize, latencyMs });
  console.log(formatResult(result));
}
