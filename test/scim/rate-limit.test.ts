// The per-app rate limit holds at the target, and a 429's Retry-After holds back the whole app.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TransientError } from '../../engine/errors.ts';
import { createScimClient, type ScimClient } from '../../scim/index.ts';
import { RateGate } from '../../scim/rate-gate.ts';
import { type ScimPeer, startScimmyPeer } from '../support/scim-peers.ts';
import { EMPTY_LIST_RESPONSE, type ScimStub, sendJson, startScimStub } from '../support/scim-stub.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function track<T extends { close(): Promise<void> }>(thing: T): T {
  cleanups.push(() => thing.close());
  return thing;
}

/** Most requests that arrived in any window of `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

describe('rate limit', () => {
  it('sends no more requests per second than configured, measured at the target', async () => {
    const peer: ScimPeer = track(await startScimmyPeer());
    const client: ScimClient = track(
      createScimClient({
        baseUrl: peer.baseUrl,
        auth: { type: 'bearer', token: peer.token },
        allowInsecureLoopback: true,
        requestsPerSecond: 20,
        concurrency: 16,
      }),
    );
    await client.discover();
    peer.requestLog.length = 0;
    await Promise.all(Array.from({ length: 50 }, (_, n) => client.findBy('Users', 'userName', `nobody.${n}`)));

    const times = peer.requestLog.map((entry) => entry.time);
    expect(times).toHaveLength(50);
    const spanMs = Math.max(...times) - Math.min(...times);
    // 50 requests at 20/s need 49 intervals of 50 ms; one may be shortened by a late timer, and
    // arrival jitter on a busy machine takes a few per cent more.
    expect(spanMs).toBeGreaterThanOrEqual(48 * 50 * 0.95);
    // Evenly spaced: any one-second window of starts holds 20, one more when a timer fired late (the
    // schedule keeps its beat). The target reads requests on this test's own event loop, so a request
    // sent just before a stall of the loop is read after it, next to the one sent after: one more.
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(22);
  });
});

describe('Retry-After', () => {
  async function throttlingTarget(retryAfter: () => string): Promise<{ stub: ScimStub; throttledAt: number[] }> {
    const throttledAt: number[] = [];
    const stub = await startScimStub((request, res) => {
      if (throttledAt.length === 0) {
        sendJson(
          res,
          429,
          { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' },
          { 'retry-after': retryAfter() },
        );
        throttledAt.push(performance.now());
        return;
      }
      sendJson(res, 200, EMPTY_LIST_RESPONSE);
    });
    return { stub: track(stub), throttledAt };
  }

  it.each([
    { form: 'delta-seconds', retryAfter: () => '1', minimumMs: 1000 },
    // An HTTP date has one-second resolution: "2 s from now" can mean anything above 1 s.
    { form: 'HTTP date', retryAfter: () => new Date(Date.now() + 2000).toUTCString(), minimumMs: 1000 },
  ])(
    'after a 429 with Retry-After as $form, nothing at all reaches the target until it has passed',
    async ({ retryAfter, minimumMs }) => {
      const { stub, throttledAt } = await throttlingTarget(retryAfter);
      const client = track(
        createScimClient({
          baseUrl: `${stub.origin}/scim`,
          auth: { type: 'bearer', token: 't' },
          allowInsecureLoopback: true,
          requestsPerSecond: 1000,
          concurrency: 4,
        }),
      );
      const first = client.list('Users', { filter: 'userName eq "a"' });
      while (throttledAt.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Other work of the same app, started while it is paused.
      const others = Promise.all([1, 2, 3].map((n) => client.list('Users', { filter: `userName eq "${n}"` })));
      await Promise.all([first, others]);

      const after = stub.requests.slice(1).map((request) => request.time - throttledAt[0]);
      expect(after).toHaveLength(4);
      for (const elapsed of after) expect(elapsed).toBeGreaterThanOrEqual(minimumMs - 5);
      expect(client.stats().throttled).toBe(1);
      expect(client.stats().retries).toBe(1);
    },
  );
});

describe("Retry-After above the app's cap", () => {
  /** A target that answers every request 429 with this Retry-After. */
  async function refusingTarget(retryAfter: string): Promise<ScimStub> {
    return track(
      await startScimStub((_request, res) =>
        sendJson(
          res,
          429,
          { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' },
          { 'retry-after': retryAfter },
        ),
      ),
    );
  }

  function clientFor(stub: ScimStub, maxRetryAfterMs?: number): ScimClient {
    return track(
      createScimClient({
        baseUrl: `${stub.origin}/scim`,
        auth: { type: 'bearer', token: 't' },
        allowInsecureLoopback: true,
        requestsPerSecond: 1000,
        ...(maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs }),
      }),
    );
  }

  it('a 429 asking for a day fails the request at once as transient with the full wait, and the app is held back no longer than the cap (15 min by default)', async () => {
    const stub = await refusingTarget('86400');
    const client = clientFor(stub);
    const failure = await client.list('Users', { filter: 'userName eq "a"' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TransientError);
    expect(failure).toMatchObject({ code: 'TooManyRequests', status: 429, retryAfterMs: 86_400_000 });
    expect(stub.requests).toHaveLength(1);
    expect(client.stats().retries).toBe(0);
    expect(client.stats().pausedMs).toBeLessThanOrEqual(900_000);
  });

  it('a Retry-After beyond what a timer can hold (3,000,000,000 s) sends once and sets no overflowing timer', async () => {
    const timeout = vi.spyOn(globalThis, 'setTimeout');
    try {
      const stub = await refusingTarget('3000000000');
      const client = clientFor(stub);
      const failure = await client.get('Users', 'u1').catch((error: unknown) => error);
      expect(failure).toMatchObject({ kind: 'transient', code: 'TooManyRequests', retryAfterMs: 3_000_000_000_000 });
      expect(stub.requests).toHaveLength(1);
      const delays = timeout.mock.calls.map((call) => call[1] ?? 0);
      expect(Math.max(0, ...delays)).toBeLessThanOrEqual(2 ** 31 - 1);
    } finally {
      timeout.mockRestore();
    }
  });

  it('a Retry-After under the cap still pauses the app and retries', async () => {
    let answered = 0;
    const stub = track(
      await startScimStub((_request, res) => {
        if (answered++ === 0) sendJson(res, 429, { status: '429' }, { 'retry-after': '1' });
        else sendJson(res, 200, EMPTY_LIST_RESPONSE);
      }),
    );
    const client = clientFor(stub, 2_000);
    await client.list('Users', { filter: 'userName eq "a"' });
    expect(stub.requests).toHaveLength(2);
    expect(client.stats()).toMatchObject({ throttled: 1, retries: 1 });
    expect(client.stats().pausedMs).toBeGreaterThanOrEqual(1_000);
  });

  it('a pause longer than a timer can hold never arms an overflowing timer in the rate gate', async () => {
    // Node fires a setTimeout above 2^31-1 ms after 1 ms: the gate's wait loop would spin.
    const delays: number[] = [];
    const timeout = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((_callback: () => void, ms?: number) => {
      delays.push(ms ?? 0);
      return 0 as unknown as NodeJS.Timeout;
    }) as typeof setTimeout);
    try {
      const gate = new RateGate({ requestsPerSecond: 10, concurrency: 1 });
      gate.pauseFor(3_000_000_000_000);
      void gate.acquire();
      await new Promise((resolve) => setImmediate(resolve));
      expect(delays).toHaveLength(1);
      expect(delays[0]).toBeLessThanOrEqual(2 ** 31 - 1);
    } finally {
      timeout.mockRestore();
    }
  });
});
