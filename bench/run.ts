// `npm run bench`: the full provisioning path for each run, figures printed.
// Runs: FERRY_BENCH_RUNS, comma-separated `users[@latencyMs][+bulk]` (default
// "10000,100000,10000@20,10000+bulk"): the directory size and the milliseconds the loopback target
// waits before each answer (0 = Ferry's own CPU is the limit; 20 = a fast real SaaS endpoint, where
// Ferry must keep the target busy); `+bulk`: the target serves SCIM Bulk and the app uses it.
// FERRY_BENCH_USERS (comma-separated sizes, latency 0) is still read when FERRY_BENCH_RUNS is unset.
// FERRY_BENCH_ROW_WRITES=1 prints the rows and WAL bytes the initial cycle wrote per created user, by table (how
// many were updates, and HOT ones); it waits 11 s before and after the cycle for Postgres's counts.
// FERRY_BENCH_WORKER_STDERR=1 passes the worker's stderr through (for ad-hoc tracing).
// FERRY_BENCH_EXISTING: accounts the target holds before the initial cycle (default 0), e.g. 100000
// with FERRY_BENCH_RUNS=10000,100000 for the memory goal (worker RSS < 1 GB, 100k/10k within 1.3×).
// FERRY_BENCH_MEMBERSHIPS: user memberships in the directory (default: one group a user, 50 users a
// group), e.g. 1000000 with 100000 users: each user in 10 of the 2,000 groups, 500 members a group
// (nesting unchanged: every other group in the next one). Read as memberships per user, so the runs
// of one invocation keep the same shape: with FERRY_BENCH_RUNS=10000,100000 the 10k run has 100,000.
// SCIM concurrency: FERRY_BENCH_CONCURRENCY (default 16); batch size: FERRY_BENCH_BATCH (default 1000).
// Postgres: BENCH_DATABASE_URL or TEST_DATABASE_URL (a fresh database per run, dropped after).
// Temporal: FERRY_BENCH_TEMPORAL, comma-separated `in-repo` (default, the in-repo test service) and/or
// `real` (`temporal server start-dev` on a SQLite file, as npm start runs it; needs the Temporal CLI):
// each run is measured on each.
// Then change push (bench/push.ts): write → target latency at FERRY_BENCH_PUSH_RATE changes/s (default 100)
// for FERRY_BENCH_PUSH_SECONDS (default 30; 0 leaves it out) on one app.
// The engine, store and SCIM-client benches run on their own: npx tsx bench/<name>.ts.
import { formatResult, runProvisioningBench, type BenchTemporal } from './provisioning.ts';
import { formatPushResult, runPushBench } from './push.ts';

const spec = process.env.FERRY_BENCH_RUNS ?? process.env.FERRY_BENCH_USERS ?? '10000,100000,10000@20,10000+bulk';
const runs = spec.split(',').map((entry) => {
  const match = /^\s*(\d+)\s*(?:@\s*(\d+)\s*)?(\+\s*bulk\s*)?$/.exec(entry);
  if (!match || Number(match[1]) <= 0) throw new Error(`FERRY_BENCH_RUNS: "${entry}" is not users[@latencyMs][+bulk]`);
  return { users: Number(match[1]), latencyMs: Number(match[2] ?? 0), bulk: match[3] !== undefined };
});
const concurrency = Number(process.env.FERRY_BENCH_CONCURRENCY ?? 16);
const existingAccounts = Number(process.env.FERRY_BENCH_EXISTING ?? 0);
const batchSize = Number(process.env.FERRY_BENCH_BATCH ?? 1000);
// Memberships per user, from the total asked for the largest run.
const largestRun = Math.max(...runs.map((r) => r.users));
const membershipsPerUser = Number(process.env.FERRY_BENCH_MEMBERSHIPS ?? largestRun) / largestRun;

const temporals = (process.env.FERRY_BENCH_TEMPORAL ?? 'in-repo').split(',').map((name) => {
  const trimmed = name.trim();
  if (trimmed !== 'in-repo' && trimmed !== 'real')
    throw new Error(`FERRY_BENCH_TEMPORAL: "${name}" is not in-repo or real`);
  return trimmed as BenchTemporal;
});

const peakRss = new Map<number, number>();
for (const { users, latencyMs, bulk } of runs) {
  for (const temporal of temporals) {
    const result = await runProvisioningBench({
      users,
      concurrency,
      batchSize,
      latencyMs,
      temporal,
      existingAccounts,
      bulk,
      memberships: Math.round(users * membershipsPerUser),
    });
    console.log(formatResult(result));
    if (result.workerPeakRssMb !== null && latencyMs === 0 && !bulk) {
      peakRss.set(users, Math.max(peakRss.get(users) ?? 0, result.workerPeakRssMb));
    }
  }
}
// Worker memory must not grow with the directory: the largest run against the smallest.
const sizes = [...peakRss.keys()].sort((a, b) => a - b);
if (sizes.length > 1) {
  const [small, large] = [sizes[0], sizes[sizes.length - 1]];
  const ratio = (peakRss.get(large) as number) / (peakRss.get(small) as number);
  console.log(
    `worker peak RSS ${large}/${small} users: ${ratio.toFixed(2)}× (goal within 1.3×, < 1024 MB; ${peakRss.get(large)} MB at ${large})`,
  );
}

const pushSeconds = Number(process.env.FERRY_BENCH_PUSH_SECONDS ?? 30);
if (pushSeconds > 0) {
  const push = await runPushBench({
    users: Number(process.env.FERRY_BENCH_PUSH_USERS ?? 2000),
    changesPerSecond: Number(process.env.FERRY_BENCH_PUSH_RATE ?? 100),
    seconds: pushSeconds,
    requestsPerSecond: Number(process.env.FERRY_BENCH_PUSH_RPS ?? 200),
  });
  console.log(formatPushResult(push));
}
