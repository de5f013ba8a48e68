// Journey: scaling out. Two `npm run worker` processes on one task queue (Temporal's way to add
// capacity) and `npm run api`, on Postgres. An app's initial cycle runs on one worker while
// on-demand requests for the same app are served by the other; then the worker running the batch is
// SIGKILLed mid-cycle. The other worker finishes the cycle: the target ends exact, and the app's
// rate limit held for both workers together (measured at the target, per one-second window).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/net.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import {
  createApp,
  person,
  SeparateProcessesFerry,
  tempDir,
  type FerryApi,
  type Json,
  type NpmProcess,
} from './harness.ts';
import { startHookProxy, usersByName, type HookProxy } from './targets.ts';
import { busiestSecond } from '../support/arrivals.ts';

const RATE = 10;
const DOMAIN = 'scale.example';
/**
 * In the initial cycle: about 25 s of requests at the app's rate, so the cycle is still writing after
 * the on-demand requests below (which share the rate) when the batch's worker is killed.
 */
const CYCLE_USERS = Array.from({ length: 250 }, (_, i) => `s${String(i).padStart(3, '0')}`);
/** Added during the cycle and provisioned on demand, 4 at a time. */
const ON_DEMAND_USERS = Array.from({ length: 12 }, (_, i) => `d${String(i).padStart(2, '0')}`);

const data = tempDir('scale-out');
let db: TestDatabase;
let peer: ScimPeer;
/** In front of the peer: when each request left Ferry, whichever worker sent it. */
let arrivals: HookProxy;
const arrivedAt: number[] = [];
let ferry: SeparateProcessesFerry;
let api: FerryApi;

beforeAll(async () => {
  peer = await startScimmyPeer();
  arrivals = await startHookProxy(peer.baseUrl, async () => {
    arrivedAt.push(performance.now());
  });
  db = await createTestDatabase('journey_scale_out');
  // Each worker says which app it sends a request to (module `scim` at debug), so the journey can
  // tell which worker runs the batch.
  ferry = await SeparateProcessesFerry.create({
    databaseUrl: db.url,
    dataDir: data.dir,
    env: { FERRY_LOG_LEVELS: 'scim=debug' },
  });
  api = ferry.api;
  await ferry.startTemporal();
  await Promise.all([ferry.startWorker(), ferry.startWorker(), ferry.startApi()]);
});
afterAll(async () => {
  await ferry?.stop('SIGKILL');
  await arrivals?.close();
  await peer?.close();
  await db?.drop();
  data.cleanup();
});

/** How many requests to the app this worker has logged. */
const sentBy = (worker: NpmProcess, appId: string) =>
  worker
    .text()
    .split('\n')
    .filter((line) => line.includes('scim request') && line.includes(appId)).length;

describe('two workers on one task queue (separate processes on Postgres, scimmy peer)', () => {
  it('a worker killed mid-cycle leaves the cycle to the other: the target ends exact, and the app’s rate limit held for both workers together', async () => {
    await api.ok('POST', '/directory/import', { users: CYCLE_USERS.map((id) => person(id, DOMAIN)) });
    const appId = await createApp(
      api,
      { url: arrivals.baseUrl, token: peer.token },
      { settings: { scope: 'all', rateLimit: { requestsPerSecond: RATE } } },
    );
    const since = Date.now();
    await api.ok('POST', `/apps/${appId}/provisioning/start`, undefined, [202]);
    await until(() => arrivals.requests >= 20, 'the initial cycle to write', { timeoutMs: 120_000, pollMs: 20 });

    // The worker running the batch is the one whose count of requests to the app grows now.
    const [first, second] = ferry.workers;
    const before = [sentBy(first, appId), sentBy(second, appId)];
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const grew = [sentBy(first, appId) - before[0], sentBy(second, appId) - before[1]];
    expect(
      grew.filter((n) => n > 0),
      `requests logged per worker: ${grew.join(', ')}`,
    ).toHaveLength(1);
    const [batchWorker, otherWorker] = grew[0] > 0 ? [first, second] : [second, first];

    // On-demand requests for the same app, while the cycle writes: they go to either worker, and the
    // other worker sends to the app at the same time as the batch.
    await api.ok('POST', '/directory/import', { users: ON_DEMAND_USERS.map((id) => person(id, DOMAIN)) });
    for (let i = 0; i < ON_DEMAND_USERS.length; i += 4) {
      const answers = await Promise.all(
        ON_DEMAND_USERS.slice(i, i + 4).map((id) =>
          api.call('POST', `/apps/${appId}/provision-on-demand`, { objectId: id }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    }
    const otherSentBeforeKill = sentBy(otherWorker, appId);
    const cycleStillRunning = (await api.cycles(appId)).some((c: Json) => c.status === 'running');
    expect(cycleStillRunning).toBe(true);
    await batchWorker.stop('SIGKILL');

    // The killed batch is retried on the other worker once Temporal misses its heartbeat (a minute).
    const initial = await api.cycleFinishedAfter(appId, since, 'the initial cycle', 240_000);
    expect(initial.status).toBe('succeeded');
    expect(initial.counts?.failed ?? 0).toBe(0);

    const byName = await usersByName(peer);
    const everyone = [...CYCLE_USERS, ...ON_DEMAND_USERS];
    expect([...byName.keys()].sort()).toEqual(everyone.map((id) => `${id}@${DOMAIN}`).sort());
    const wrong = everyone.filter((id) => {
      const user = byName.get(`${id}@${DOMAIN}`);
      return user?.active !== true || user.displayName !== person(id, DOMAIN).displayName;
    });
    expect(wrong).toEqual([]);

    // The second worker did send to the app while the batch ran on the first (the on-demand requests).
    expect(otherSentBeforeKill).toBeGreaterThan(0);
    // At most the rate per second, one more for a late request and one for arrival jitter.
    expect(busiestSecond(arrivedAt)).toBeLessThanOrEqual(RATE + 2);
  });
});
