// Several worker processes sending to one app keep the app's rate limit together, and a Retry-After
// one of them receives holds the others back too: two SCIM clients (two workers' rate gates) on one
// loopback target, with and without the app's shared schedule in the database (store/rate-slots.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { AppRuntimes } from '../../activities/app-runtime.ts';
import { createScimClient, SharedRateSchedule, type ScimClient } from '../../scim/index.ts';
import { openStore, type Store } from '../../store/index.ts';
import { closedPort, until } from '../support/net.ts';
import { storeBackends, TEST_ENCRYPTION_KEY, useStore } from '../support/postgres.ts';
import { EMPTY_LIST_RESPONSE, sendJson, startScimStub, type ScimStub } from '../support/scim-stub.ts';
import { busiestSecond } from '../support/arrivals.ts';

const RATE = 10;
/** Each worker has this much work for the app, sent as fast as its own gate lets it. */
const REQUESTS_PER_WORKER = 30;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function track<T extends { close(): Promise<void> }>(thing: T): T {
  cleanups.push(() => thing.close());
  return thing;
}

function scheduleOn(store: Store, appId: string): SharedRateSchedule {
  return new SharedRateSchedule({
    source: {
      reserve: (slots, intervalMs) => store.rateSlots.reserve(appId, slots, intervalMs),
      pause: (forMs) => store.rateSlots.pause(appId, forMs),
    },
  });
}

function clientOf(stub: ScimStub, sharedRate?: SharedRateSchedule): ScimClient {
  return track(
    createScimClient({
      baseUrl: `${stub.origin}/scim`,
      auth: { type: 'bearer', token: 't' },
      allowInsecureLoopback: true,
      requestsPerSecond: RATE,
      concurrency: 4,
      sharedRate,
    }),
  );
}

const lookups = (client: ScimClient, worker: string) =>
  Promise.all(
    Array.from({ length: REQUESTS_PER_WORKER }, (_, n) =>
      client.list('Users', { filter: `userName eq "${worker}.${n}"` }),
    ),
  );

describe.each(storeBackends)('one app, two workers, on $name', (backend) => {
  const ctx = useStore(backend);

  const newApp = async () =>
    (
      await ctx.store.apps.create({
        name: 'Rate-limited app',
        template: 'generic-scim',
        configuration: { target: { url: 'https://scim.example/v2' } },
      })
    ).id;

  /** Each worker's own connection to the database (PGlite: the one process's store). */
  async function secondWorkerStore(): Promise<Store> {
    return (await ctx.opened.reopen({ migrate: false })) ?? ctx.store;
  }

  it(`two workers each keeping ${RATE} req/s alone send about twice that; sharing the app's schedule, they send ${RATE} together`, async () => {
    const stub = track(await startScimStub((_request, res) => sendJson(res, 200, EMPTY_LIST_RESPONSE)));

    // Alone: each gate keeps the limit for itself only.
    await Promise.all([lookups(clientOf(stub), 'a'), lookups(clientOf(stub), 'b')]);
    const alone = busiestSecond(stub.requests.map((r) => r.time));
    expect(alone).toBeGreaterThan(RATE * 1.5);

    // Shared: both gates take their starts from the app's row.
    stub.requests.length = 0;
    const appId = await newApp();
    const other = await secondWorkerStore();
    await Promise.all([
      lookups(clientOf(stub, scheduleOn(ctx.store, appId)), 'a'),
      lookups(clientOf(stub, scheduleOn(other, appId)), 'b'),
    ]);
    expect(stub.requests).toHaveLength(2 * REQUESTS_PER_WORKER);
    // The limit, one more for a request that arrives late, one more for arrival jitter on a busy machine.
    expect(busiestSecond(stub.requests.map((r) => r.time))).toBeLessThanOrEqual(RATE + 2);
    // Both workers sent in the same seconds (the shared schedule interleaves them; it does not take turns by the second).
    const firstOf = (worker: string) =>
      Math.min(...stub.requests.filter((r) => r.url.includes(`%22${worker}.`)).map((r) => r.time));
    const lastOf = (worker: string) =>
      Math.max(...stub.requests.filter((r) => r.url.includes(`%22${worker}.`)).map((r) => r.time));
    expect(firstOf('a')).toBeLessThan(lastOf('b'));
    expect(firstOf('b')).toBeLessThan(lastOf('a'));
  });

  it('a Retry-After one worker receives holds the other worker back until it has passed', async () => {
    let throttledAt = 0;
    const stub = track(
      await startScimStub((request, res) => {
        if (throttledAt === 0 && request.url.includes('first')) {
          throttledAt = request.time;
          sendJson(res, 429, { status: '429' }, { 'retry-after': '1' });
          return;
        }
        sendJson(res, 200, EMPTY_LIST_RESPONSE);
      }),
    );
    const appId = await newApp();
    const a = clientOf(stub, scheduleOn(ctx.store, appId));
    const b = clientOf(stub, scheduleOn(await secondWorkerStore(), appId));
    const throttled = a.list('Users', { filter: 'userName eq "first"' });
    await until(async () => {
      const run = await ctx.store.rateSlots.reserve(appId, 1, 1);
      return run !== null && run.pausedUntilMs > run.databaseNowMs;
    }, 'the pause to be written');
    await Promise.all([throttled, lookups(b, 'b')]);

    const fromB = stub.requests.filter((r) => r.url.includes('%22b.'));
    expect(fromB).toHaveLength(REQUESTS_PER_WORKER);
    for (const request of fromB) expect(request.time - throttledAt).toBeGreaterThanOrEqual(1000 - 20);
  });
});

describe('when the database does not answer', () => {
  it('each worker keeps the limit alone, and says so once', async () => {
    const stub = track(await startScimStub((_request, res) => sendJson(res, 200, EMPTY_LIST_RESPONSE)));
    const store = track(
      await openStore({
        databaseUrl: `postgres://postgres@127.0.0.1:${await closedPort()}/gone`,
        encryptionKey: TEST_ENCRYPTION_KEY,
      }),
    );
    const warnings: string[] = [];
    const runtimes = new AppRuntimes({
      store,
      logger: { info: () => {}, warn: (message) => warnings.push(message), error: () => {} },
    });
    const client = clientOf(stub, runtimes.sharedRateOf('app-1'));
    await lookups(client, 'a');

    expect(stub.requests).toHaveLength(REQUESTS_PER_WORKER);
    expect(busiestSecond(stub.requests.map((r) => r.time))).toBeLessThanOrEqual(RATE + 1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/did not answer/);
  });
});
