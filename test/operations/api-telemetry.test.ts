// What an operator of the API relies on: GET /metrics needs a key with `read` (or FERRY_METRICS_TOKEN)
// and labels requests by route pattern, never by the ids in their paths; request log lines carry no
// query string; a 500 is logged without the SQL parameters the database driver puts in its errors;
// /healthz and /readyz answer without a key.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type FerryApi } from '../../api/app.ts';
import { createLogger } from '../../api/logger.ts';
import { openStore, type Store } from '../../store/index.ts';
import { createFerryMetrics } from '../../telemetry/metrics.ts';
import { API_KEY, auth, recordingProvisioning } from '../api/helpers.ts';
import { TEST_ENCRYPTION_KEY } from '../support/postgres.ts';

const METRICS_TOKEN = 'metrics-token-for-prometheus-0123';

describe('the API’s metrics, probes and request log', () => {
  let store: Store;
  let app: FerryApi;
  let viewerKey: string;
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];

  beforeAll(async () => {
    store = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
    await store.migrate();
    viewerKey = (await store.apiKeys.create({ name: 'Prometheus', role: 'viewer' })).key;
    app = createApp({
      apiKeys: [API_KEY],
      provisioning: recordingProvisioning().control,
      resources: { store },
      metrics: createFerryMetrics(),
      metricsToken: METRICS_TOKEN,
      healthChecks: { database: async () => void (await store.apps.list({ limit: 1 })) },
      logger: createLogger({
        level: 'info',
        write: (line) => {
          raw.push(line);
          lines.push(JSON.parse(line) as Record<string, unknown>);
        },
      }),
    });
  });

  afterAll(async () => {
    await store?.close();
  });

  it('answers GET /metrics to a viewer key and to FERRY_METRICS_TOKEN, and 401 without either', async () => {
    expect((await app.request('/metrics')).status).toBe(401);
    expect((await app.request('/metrics', { headers: auth('not-the-token-0123456789') })).status).toBe(401);
    const byViewer = await app.request('/metrics', { headers: auth(viewerKey) });
    expect(byViewer.status).toBe(200);
    expect(byViewer.headers.get('content-type')).toContain('text/plain');
    const byToken = await app.request('/metrics', { headers: auth(METRICS_TOKEN) });
    expect(byToken.status).toBe(200);
    // The metrics token opens /metrics only.
    expect((await app.request('/api/v1/me', { headers: auth(METRICS_TOKEN) })).status).toBe(401);
  });

  it('counts requests by route pattern, never by the id in the path', async () => {
    const res = await app.request('/api/v1/directory/users/u-4711-private', { headers: auth() });
    expect(res.status).toBe(404);
    const text = await (await app.request('/metrics', { headers: auth(METRICS_TOKEN) })).text();
    expect(text).toContain('ferry_api_requests_total{method="GET",route="/api/v1/directory/users/:id",status="404"} 1');
    expect(text).not.toContain('u-4711-private');
  });

  it('logs a request by its path alone: the query string (names, e-mail addresses) is left out', async () => {
    const query = `?filter=${encodeURIComponent('userName eq "alice.private@contoso.com"')}&limit=5`;
    await app.request(`/api/v1/directory/users${query}`, { headers: auth() });
    const line = lines.filter((l) => l.msg === 'request' && l.path === '/api/v1/directory/users').at(-1);
    expect(line).toMatchObject({ module: 'api', method: 'GET' });
    for (const l of raw) expect(l).not.toContain('alice.private');
  });

  it('answers /healthz and /readyz without a key, /readyz naming the failed check', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { database: 'ok' } });

    const down = createApp({
      apiKeys: [API_KEY],
      provisioning: recordingProvisioning().control,
      healthChecks: { database: async () => Promise.reject(new Error('connection refused')) },
    });
    expect((await down.request('/healthz')).status).toBe(200);
    const res = await down.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', checks: { database: 'failed' } });
  });

  it('logs a 500 caused by a failed query without the query’s parameters', async () => {
    // A real error of the database driver: its message lists the parameters of the query.
    const failure = await store.db.execute(sql`select ${'hunter2-alice@contoso.com'}::int as n`).then(
      () => null,
      (error: unknown) => error,
    );
    expect(String((failure as Error).message)).toContain('hunter2-alice@contoso.com');

    const broken = { ...recordingProvisioning().control, status: () => Promise.reject(failure) };
    const errorLines: string[] = [];
    const failing = createApp({
      apiKeys: [API_KEY],
      provisioning: broken,
      logger: createLogger({ write: (line) => errorLines.push(line) }),
    });
    const res = await failing.request('/api/v1/apps/app-1/provisioning', { headers: auth() });
    expect(res.status).toBe(500);
    const logged = errorLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const line = logged.find((l) => l.msg === 'request failed');
    expect(line).toMatchObject({ level: 'error', path: '/api/v1/apps/app-1/provisioning' });
    expect(JSON.stringify(line)).toContain('[params hidden]');
    for (const l of errorLines) expect(l).not.toContain('hunter2');
  });

  it('never writes a secret-looking field, however deep', () => {
    const out: string[] = [];
    const log = createLogger({ write: (l) => out.push(l) }).child('scim');
    log.error('token exchange failed', {
      request: { headers: { authorization: 'Bearer tok-SECRET-1' } },
      oauth: { clientSecret: 'cs-SECRET-2', tokens: [{ accessToken: 'at-SECRET-3' }] },
      error: Object.assign(new Error('denied'), { cause: { password: 'pw-SECRET-4' } }),
    });
    expect(out).toHaveLength(1);
    expect(out[0]).not.toMatch(/SECRET/);
    expect(JSON.parse(out[0])).toMatchObject({ module: 'scim', msg: 'token exchange failed' });
  });
});
