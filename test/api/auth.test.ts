import { describe, expect, it } from 'vitest';
import { ApiKeyVerifier, bearerToken } from '../../api/auth.ts';
import { API_KEY, OTHER_KEY, auth, fromAddress, testApp, read } from './helpers.ts';

const protectedPath = '/api/v1/apps/app1/provisioning';

describe('API key authentication', () => {
  it('lets GET /healthz through without a key', async () => {
    const { app } = testApp();
    const res = await app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await read(res)).toEqual({ status: 'ok', checks: {} });
  });

  it('refuses a request without a key with 401, the error shape and a Bearer challenge', async () => {
    const { app } = testApp();
    const res = await app.request(protectedPath);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const body = await read(res);
    expect(body.error.code).toBe('unauthorized');
    expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('refuses wrong keys: another value, a prefix, a longer value, a huge value, another scheme', async () => {
    const { app } = testApp();
    const attempts = [
      { Authorization: 'Bearer wrong' },
      { Authorization: `Bearer ${API_KEY.slice(0, -1)}` },
      { Authorization: `Bearer ${API_KEY}x` },
      { Authorization: `Bearer ${'a'.repeat(10_000)}` },
      { Authorization: `Basic ${Buffer.from(`user:${API_KEY}`).toString('base64')}` },
      { Authorization: API_KEY },
    ];
    for (const headers of attempts) {
      const res = await app.request(protectedPath, { headers });
      expect(res.status, headers.Authorization.slice(0, 20)).toBe(401);
      expect((await read(res)).error.code).toBe('unauthorized');
    }
  });

  it('accepts every configured key, with the scheme in any case', async () => {
    const { app } = testApp();
    for (const headers of [auth(API_KEY), auth(OTHER_KEY), { Authorization: `bearer ${API_KEY}` }]) {
      const res = await app.request(protectedPath, { headers });
      expect(res.status).toBe(200);
    }
  });

  it('sends a browser opening the root to the console sign-in page, not a 401; /docs needs no key either', async () => {
    const { app } = testApp();
    const res = await app.request('/');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/sign-in');
    expect((await app.request('/console/sign-in')).status).toBe(200);
    expect((await app.request('/docs')).status).toBe(200);
  });

  it('answers a browser asking for /favicon.ico without a key and without an error', async () => {
    const { app } = testApp();
    const res = await app.request('/favicon.ico');
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('requires the key on /openapi.json', async () => {
    const { app } = testApp();
    expect((await app.request('/openapi.json')).status).toBe(401);
    expect((await app.request('/openapi.json', { headers: auth() })).status).toBe(200);
  });

  it('refuses to start without any API key', () => {
    expect(() => testApp({ apiKeys: [] })).toThrow(/FERRY_API_KEYS/);
    expect(() => testApp({ apiKeys: [' ', ''] })).toThrow(/FERRY_API_KEYS/);
  });

  it('compares keys of any length without throwing (digests of equal length)', () => {
    const verifier = new ApiKeyVerifier(['short', 'a-much-longer-api-key-value']);
    expect(verifier.verify('short')).toBe(true);
    expect(verifier.verify('a-much-longer-api-key-value')).toBe(true);
    expect(verifier.verify('')).toBe(false);
    expect(verifier.verify('shor')).toBe(false);
    expect(verifier.verify('x'.repeat(100_000))).toBe(false);
  });

  it('reads only well-formed bearer headers', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('BEARER abc  ')).toBe('abc');
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});

describe('rate limit of failed authentication', () => {
  it('answers 429 with Retry-After after 20 failures per minute from one address, and only for that address', async () => {
    let now = 1_000_000;
    const { app } = testApp({ now: () => now });
    const attacker = fromAddress('10.0.0.7');
    for (let i = 0; i < 20; i++) {
      const res = await app.request(protectedPath, { headers: auth('guess-' + i) }, attacker);
      expect(res.status).toBe(401);
      now += 1000;
    }
    const blocked = await app.request(protectedPath, { headers: auth('guess-20') }, attacker);
    expect(blocked.status).toBe(429);
    expect((await read(blocked)).error.code).toBe('too_many_requests');
    // The first failure was at 1_000_000 and leaves the window at 1_060_000; now is 1_020_000.
    expect(blocked.headers.get('retry-after')).toBe('40');

    // Another client is not affected.
    expect((await app.request(protectedPath, { headers: auth('guess-x') }, fromAddress('10.0.0.8'))).status).toBe(401);
    // Once the oldest failures leave the window, the address may try again.
    now += 41_000;
    expect((await app.request(protectedPath, { headers: auth('guess-21') }, attacker)).status).toBe(401);
  });

  it('never refuses a request with a valid key, even from an address that is throttled', async () => {
    const { app } = testApp();
    const office = fromAddress('10.0.0.7');
    for (let i = 0; i < 25; i++) await app.request(protectedPath, { headers: auth('typo-' + i) }, office);
    expect((await app.request(protectedPath, { headers: auth('typo-again') }, office)).status).toBe(429);
    expect((await app.request(protectedPath, { headers: auth() }, office)).status).toBe(200);
    expect((await app.request(protectedPath, { headers: auth(OTHER_KEY) }, office)).status).toBe(200);
    // Still throttled for failures: the valid request did not reset the count.
    expect((await app.request(protectedPath, {}, office)).status).toBe(429);
  });

  it('does not count successful requests', async () => {
    const { app } = testApp({ limits: { authFailuresPerMinute: 2 } });
    const client = fromAddress('10.0.0.9');
    for (let i = 0; i < 5; i++) {
      expect((await app.request(protectedPath, { headers: auth() }, client)).status).toBe(200);
    }
    expect((await app.request(protectedPath, {}, client)).status).toBe(401);
    expect((await app.request(protectedPath, { headers: auth() }, client)).status).toBe(200);
  });
});

describe('logs', () => {
  it('never contain an API key, right or wrong', async () => {
    const { app, lines } = testApp();
    const wrong = 'k_wrong_aa61f0c3';
    await app.request(protectedPath, { headers: auth() });
    await app.request(protectedPath, { headers: auth(wrong) });
    await app.request(`${protectedPath}?token=${wrong}`, { headers: auth(wrong) });
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      expect(line).not.toContain(API_KEY);
      expect(line).not.toContain(wrong);
    }
    const request = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request' && l.status === 200);
    expect(request).toMatchObject({ method: 'GET', path: protectedPath, level: 'info' });
  });
});
