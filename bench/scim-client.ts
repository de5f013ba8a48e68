// SCIM client overhead: creates/s through createScimClient (rate gate, auth, JSON validation,
// retry bookkeeping) vs the same POSTs in a bare undici Pool loop, same concurrency, against the
// fast in-memory dev/scim-target on loopback.
// Run: npx tsx bench/scim-client.ts [creates] [concurrency]
import { Pool } from 'undici';
import { startScimTarget } from '../dev/scim-target/index.ts';
import { SCIM_USER_SCHEMA } from '../engine/types.ts';
import { createScimClient } from '../scim/index.ts';

const creates = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 16);
const target = await startScimTarget();
const url = new URL(target.baseUrl);

const user = (prefix: string, n: number) => ({
  schemas: [SCIM_USER_SCHEMA],
  userName: `${prefix}.${n}@contoso.example`,
  active: true,
  displayName: `User ${n}`,
  name: { givenName: 'User', familyName: String(n) },
  emails: [{ value: `${prefix}.${n}@contoso.example`, type: 'work', primary: true }],
});

async function run(workers: number, total: number, task: (n: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < total) await task(next++);
    }),
  );
  return (total / (performance.now() - started)) * 1000;
}

async function bare(prefix: string, total: number): Promise<number> {
  const pool = new Pool(url.origin, { connections: concurrency });
  const rate = await run(concurrency, total, async (n) => {
    const response = await pool.request({
      method: 'POST',
      path: `${url.pathname}/Users`,
      headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify(user(prefix, n)),
    });
    const body = (await response.body.json()) as { id?: string };
    if (response.statusCode !== 201 || !body.id) throw new Error(`bare create failed: ${response.statusCode}`);
  });
  await pool.close();
  return rate;
}

async function client(prefix: string, total: number): Promise<number> {
  const scim = createScimClient({
    baseUrl: target.baseUrl,
    auth: { type: 'bearer', token: target.token },
    allowInsecureLoopback: true,
    requestsPerSecond: 1_000_000,
    concurrency,
  });
  const rate = await run(concurrency, total, async (n) => {
    await scim.create('Users', user(prefix, n));
  });
  await scim.close();
  return rate;
}

// Warm up both paths (JIT, connections), then alternate measured rounds.
await bare('warm-bare', 300);
await client('warm-client', 300);
const bareRates: number[] = [];
const clientRates: number[] = [];
for (let round = 0; round < 2; round++) {
  target.reset();
  bareRates.push(await bare(`bare${round}`, creates));
  target.reset();
  clientRates.push(await client(`client${round}`, creates));
}
await target.close();

const best = (rates: number[]) => Math.max(...rates);
const bareBest = best(bareRates);
const clientBest = best(clientRates);
console.log(
  `SCIM creates against dev/scim-target, ${creates} per round, concurrency ${concurrency} (best of 2 rounds)`,
);
console.log(
  `  bare undici Pool loop : ${bareBest.toFixed(0)} creates/s  (rounds: ${bareRates.map((r) => r.toFixed(0)).join(', ')})`,
);
console.log(
  `  createScimClient      : ${clientBest.toFixed(0)} creates/s  (rounds: ${clientRates.map((r) => r.toFixed(0)).join(', ')})`,
);
console.log(`  client / bare         : ${(clientBest / bareBest).toFixed(2)}`);
