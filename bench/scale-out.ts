// Scale-out of one app: requests/s that 1 and 2 workers send to one app, each worker with its own
// database connection and SCIM client (its own concurrency limit), the rate limit shared through the
// app's row in app_rate_slots, against the dev SCIM target answering after a realistic latency. Also
// what 2 workers sent before the limit was shared (each keeping it alone), and the busiest second
// (requests started in any one-second window) of each run.
// Run: npx tsx bench/scale-out.ts [latencyMs=80] [requests=300]
// Postgres: BENCH_DATABASE_URL or TEST_DATABASE_URL (a fresh database, dropped after).
import { startScimTarget } from '../dev/scim-target/index.ts';
import { SCIM_USER_SCHEMA } from '../engine/types.ts';
import { createScimClient, SharedRateSchedule, type ScimClient } from '../scim/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY } from '../test/support/postgres.ts';
import { busiestSecond } from '../test/support/arrivals.ts';

const latencyMs = Number(process.argv[2] ?? 80);
const requests = Number(process.argv[3] ?? 300);
const CONCURRENCY = 4;

if (process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;
const db = await createTestDatabase('bench_scale_out');
const target = await startScimTarget({ latencyMs });
const stores: Store[] = [];
for (let i = 0; i < 2; i++) stores.push(await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY }));
await stores[0].migrate();

let run = 0;
async function measure(rate: number, workers: number, shared: boolean) {
  run++;
  const app = await stores[0].apps.create({ name: `bench ${run}`, template: 'generic-scim', configuration: {} });
  const starts: number[] = [];
  const clients: ScimClient[] = stores.slice(0, workers).map((store) =>
    createScimClient({
      baseUrl: target.baseUrl,
      auth: { type: 'bearer', token: target.token },
      allowInsecureLoopback: true,
      requestsPerSecond: rate,
      concurrency: CONCURRENCY,
      sharedRate: shared
        ? new SharedRateSchedule({
            source: {
              reserve: (slots, intervalMs) => store.rateSlots.reserve(app.id, slots, intervalMs),
              pause: (forMs) => store.rateSlots.pause(app.id, forMs),
            },
          })
        : undefined,
      logger: (event) => {
        if (event.type === 'request') starts.push(performance.now() - event.durationMs);
      },
    }),
  );
  // Like Temporal handing a batch's objects to whichever worker asks: one queue of work.
  let next = 0;
  const began = performance.now();
  await Promise.all(
    clients.flatMap((client) =>
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests) {
          const n = next++;
          await client.create('Users', {
            schemas: [SCIM_USER_SCHEMA],
            userName: `r${run}.u${n}@contoso.example`,
            active: true,
          });
        }
      }),
    ),
  );
  const seconds = (performance.now() - began) / 1000;
  await Promise.all(clients.map((c) => c.close()));
  return { rps: requests / seconds, busiest: busiestSecond(starts) };
}

console.log(
  `scale-out of one app: ${requests} creates, target latency ${latencyMs} ms, concurrency ${CONCURRENCY} per worker`,
);
for (const rate of [25, 100]) {
  const one = await measure(rate, 1, true);
  const two = await measure(rate, 2, true);
  const alone = await measure(rate, 2, false);
  const line = (label: string, r: { rps: number; busiest: number }) =>
    `  ${label.padEnd(34)}: ${r.rps.toFixed(1).padStart(6)} req/s, busiest second ${r.busiest}`;
  console.log(`rate limit ${rate} req/s`);
  console.log(line('1 worker (shared schedule)', one));
  console.log(line('2 workers (shared schedule)', two) + `  (${(two.rps / one.rps).toFixed(2)}× of 1 worker)`);
  console.log(line('2 workers each keeping it alone', alone));
}

await target.close();
for (const store of stores) await store.close();
await db.drop();
