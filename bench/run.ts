// `npm run bench`: the full provisioning path for each directory size, figures printed.
// Sizes: FERRY_BENCH_USERS (comma-separated, default "10000,100000"); SCIM concurrency:
// FERRY_BENCH_CONCURRENCY (default 16); batch size: FERRY_BENCH_BATCH (default 1000).
// Postgres: BENCH_DATABASE_URL or TEST_DATABASE_URL (a fresh database per size, dropped after).
// The engine, store and SCIM-client benches run on their own: npx tsx bench/<name>.ts.
import { formatResult, runProvisioningBench } from './provisioning.ts';

const sizes = (process.env.FERRY_BENCH_USERS ?? '10000,100000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const concurrency = Number(process.env.FERRY_BENCH_CONCURRENCY ?? 16);
const batchSize = Number(process.env.FERRY_BENCH_BATCH ?? 1000);

for (const users of sizes) {
  const result = await runProvisioningBench({ users, concurrency, batchSize });
  console.log(formatResult(result));
}
