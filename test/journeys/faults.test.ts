// Journey: a flaky target and a crashing worker. Ferry runs as separate processes on Postgres
// (`npm run dev:temporal`, `npm run worker`, `npm run api`); a fault proxy in front of the scimmy
// peer fails one request in five the way real targets do (5xx, 429 with Retry-After, connection
// resets, slow answers, and requests applied by the target whose answer is lost), and the worker
// is SIGKILLed and started again twice during the initial cycle. No operator steps in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/net.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { startFaultProxy, startScimmyPeer, type FaultProxy, type ScimPeer } from '../support/scim-peers.ts';
import { createApp, person, SeparateProcessesFerry, tempDir, type FerryApi, type Json } from './harness.ts';
import { startHookProxy, usersByName, type HookProxy } from './targets.ts';

const USERS = 200;
const DOMAIN = 'faults.example';
const REQUESTS_PER_SECOND = 25;
const ids = Array.from({ length: USERS }, (_, i) => `f${String(i).padStart(3, '0')}`);

const data = tempDir('faults');
let db: TestDatabase;
let peer: ScimPeer;
let faults: FaultProxy;
/** In front of the fault proxy: when each request left Ferry (for the rate limit and Retry-After). */
let arrivals: HookProxy;
const arrivedAt: number[] = [];
let ferry: SeparateProcessesFerry;
let api: FerryApi;
let appId: string;

beforeAll(async () => {
  peer = await startScimmyPeer();
  faults = await startFaultProxy({
    target: peer.baseUrl,
    faultRate: 0.2,
    seed: 10,
    faults: [500, 502, 503, 504, 429, 'reset', 'delay', 'commitThenDrop'],
    retryAfterSeconds: 1,
    delayMs: 1500,
  });
  arrivals = await startHookProxy(faults.baseUrl, async () => {
    arrivedAt.push(performance.now());
  });
  db = await createTestDatabase('journey_faults');
  ferry = await SeparateProcessesFerry.create({ databaseUrl: db.url, dataDir: data.dir });
  api = ferry.api;
  await ferry.start();
});
afterAll(async () => {
  await ferry?.stop('SIGKILL');
  await arrivals?.close();
  await faults?.close();
  await peer?.close();
  await db?.drop();
  data.cleanup();
});

/** Kills the worker once `forwarded` requests reached the target, then starts it again. */
async function crashWorkerAfter(forwarded: number): Promise<void> {
  await until(() => faults.forwarded >= forwarded, `${forwarded} requests at the target`, {
    timeoutMs: 180_000,
    pollMs: 20,
  });
  await ferry.worker!.stop('SIGKILL');
  await ferry.startWorker();
}

describe('a flaky target and a crashing worker (separate processes on Postgres, fault proxy, scimmy peer)', () => {
  it('every cycle completes without an operator, the target ends exact, and each account’s log says what Ferry did', async () => {
    await api.ok('POST', '/directory/import', {
      users: ids.map((id) => person(id, DOMAIN, { jobTitle: 'Initial' })),
    });
    appId = await createApp(
      api,
      { url: arrivals.baseUrl, token: peer.token },
      { settings: { scope: 'all', rateLimit: { requestsPerSecond: REQUESTS_PER_SECOND } } },
    );
    const since = Date.now();
    await api.ok('POST', `/apps/${appId}/provisioning/start`, undefined, [202]);
    // Two crashes while the initial cycle writes.
    await crashWorkerAfter(60);
    await crashWorkerAfter(faults.forwarded + 80);
    const initial = await api.cycleFinishedAfter(appId, since, 'the initial cycle', 300_000);
    expect(initial.status).toBe('succeeded');

    // A change to a tenth of the people, still through the faults.
    for (const id of ids.slice(0, USERS / 10)) await api.ok('PATCH', `/directory/users/${id}`, { jobTitle: 'Changed' });
    const second = await api.runCycle(appId, 300_000);
    expect(second.status).toBe('succeeded');

    // No cycle failed or was left behind on the way. The change also started push cycles (push is on
    // by default), which may still be running when the cycle `run` started has finished: the facts
    // are about cycles that ended, so wait until none is running.
    let cycles: Json[] = [];
    await until(
      async () => {
        cycles = await api.cycles(appId);
        return cycles.every((c: Json) => c.status !== 'running');
      },
      'every cycle to finish',
      { timeoutMs: 300_000, pollMs: 250 },
    );
    expect(cycles.map((c: Json) => [c.number, c.status]).filter(([, s]: string[]) => s !== 'succeeded')).toEqual([]);

    // The target: one account per person, each with the right title.
    const byName = await usersByName(peer);
    expect([...byName.keys()].filter((name) => name.endsWith(`@${DOMAIN}`)).length).toBe(USERS);
    const wrong = ids.filter(
      (id, i) => byName.get(`${id}@${DOMAIN}`)?.title !== (i < USERS / 10 ? 'Changed' : 'Initial'),
    );
    expect(wrong).toEqual([]);

    // Each account's log tells that Ferry created it (not that it found it already there).
    const logs = await api.logs(appId);
    const created = new Set(
      logs.filter((e: Json) => e.action === 'Create' && e.status === 'Success').map((e: Json) => e.sourceId),
    );
    const notCreated = ids.filter((id) => !created.has(id));
    const howLogged = notCreated
      .slice(0, 3)
      .map((id) =>
        logs
          .filter((e: Json) => e.sourceId === id)
          .map((e: Json) => ({ action: e.action, status: e.status, error: e.errorCode, steps: e.steps })),
      );
    expect(notCreated, `logged instead: ${JSON.stringify(howLogged)}`).toEqual([]);
    const skippedAsExisting = logs.filter((e: Json) => e.action === 'Skip' && e.cycleId === initial.id);
    expect(skippedAsExisting.map((e: Json) => e.sourceId)).toEqual([]);
    expect(faults.counts['429'] ?? 0).toBeGreaterThan(0);
    expect(faults.counts.commitThenDrop ?? 0).toBeGreaterThan(0);
  });

  it('respects the app’s rate limit and each Retry-After, through the faults and the crashes', () => {
    // At most the rate (plus a burst of one second's worth) in any one-second window.
    let start = 0;
    let most = 0;
    for (let end = 0; end < arrivedAt.length; end++) {
      while (arrivedAt[end] - arrivedAt[start] >= 1000) start++;
      most = Math.max(most, end - start + 1);
    }
    expect(most).toBeLessThanOrEqual(2 * REQUESTS_PER_SECOND);
    // After a 429 with Retry-After: 1, nothing new leaves Ferry for that second (requests already
    // on the wire when the 429 was written may still land in its first moments).
    const early = faults.throttledAt.flatMap((t) => arrivedAt.filter((a) => a > t + 100 && a < t + 950));
    expect(early).toEqual([]);
  });
});
