// What an operator of the worker relies on: after a real cycle against a third-party SCIM peer the
// worker's /metrics shows that app's cycle, objects and SCIM requests (never an object id), its
// /healthz and /readyz answer (503 when the database is gone), and the log has one line at the
// start and one at the end of the cycle, the job's state changes, and no secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../api/logger.ts';
import { openStore } from '../../store/index.ts';
import { createFerryMetrics, type FerryMetrics } from '../../telemetry/metrics.ts';
import { serveProbes, type ProbeServer } from '../../telemetry/probe-server.ts';
import { installRuntimeLogger } from '../../workers/runtime-logger.ts';
import { workerReadinessChecks } from '../../workers/worker.ts';
import { createApp, seedDirectory, userId } from '../provisioning/fixtures.ts';
import { startProvisioningHarness, type ProvisioningHarness } from '../provisioning/harness.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY } from '../support/postgres.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';

const SHAPE = { users: 12, groups: 3 };

describe('the worker’s metrics, probes and log lines after a real cycle', () => {
  let h: ProvisioningHarness;
  let peer: ScimPeer;
  let metrics: FerryMetrics;
  let probes: ProbeServer;
  let appId: string;
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];

  beforeAll(async () => {
    const logger = createLogger({
      level: 'info',
      moduleLevels: { scim: 'debug' },
      write: (line) => {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    });
    installRuntimeLogger(logger, 'info', { scim: 'debug' });
    metrics = createFerryMetrics();
    h = await startProvisioningHarness({ deps: { metrics, logger } });
    peer = await startScimmyPeer();
    await seedDirectory(h.store, SHAPE);
    appId = await createApp(h.store, peer, { shape: SHAPE });
    await h.startJob(appId);
    await h.waitForCycle(appId, 1);
    probes = await serveProbes({
      port: 0,
      metrics,
      checks: workerReadinessChecks(h.store, h.env.nativeConnection, h.ferry.worker),
    });
  }, 120_000);

  afterAll(async () => {
    await probes?.close();
    await h?.close();
    await peer?.close();
  });

  /** The value of one sample line of the exposition, or null when absent. */
  function sample(text: string, name: string, labels: Record<string, string>): number | null {
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      const labelText = line.slice(name.length + 1, line.lastIndexOf('}'));
      const found = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      if (Object.entries(labels).every(([k, v]) => found[k] === v))
        return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return null;
  }

  it('GET /metrics shows the app’s cycle, created objects and SCIM requests, and no object id', async () => {
    const res = await fetch(`${probes.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const status = await h.status(appId);
    const created = status.lastCycle?.counts.created ?? 0;
    expect(created).toBeGreaterThan(0);

    expect(sample(text, 'ferry_cycles_started_total', { app_id: appId, kind: 'initial' })).toBe(1);
    expect(sample(text, 'ferry_cycles_total', { app_id: appId, kind: 'initial', result: 'succeeded' })).toBe(1);
    expect(sample(text, 'ferry_objects_total', { app_id: appId, action: 'Create', status: 'done' })).toBe(created);
    expect(sample(text, 'ferry_scim_requests_total', { app_id: appId, method: 'POST', status: '201' })).toBe(created);
    expect(sample(text, 'ferry_scim_request_duration_seconds_count', { app_id: appId, method: 'POST' })).toBe(created);
    expect(sample(text, 'ferry_escrow_objects', { app_id: appId })).toBe(0);
    const lastSuccess = sample(text, 'ferry_last_successful_cycle_timestamp_seconds', { app_id: appId });
    expect(lastSuccess).toBeGreaterThan(0);

    // Object ids (source and target) never become label values.
    const targetIds = (await peer.users()).map((u) => String(u.id));
    for (const id of [userId(1), userId(SHAPE.users), ...targetIds]) expect(text).not.toContain(`"${id}"`);
    expect(text).not.toContain('@contoso.com');
  });

  it('GET /healthz and /readyz answer 200 while the database, Temporal and the polling worker are fine', async () => {
    expect((await fetch(`${probes.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${probes.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ok',
      checks: { database: 'ok', temporal: 'ok', polling: 'ok' },
    });
  });

  it('GET /readyz answers 503 naming the database when it cannot be reached', async () => {
    const db = await createTestDatabase('readyz');
    const gone = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY });
    await gone.close();
    await db.drop();
    const server = await serveProbes({
      port: 0,
      metrics,
      checks: workerReadinessChecks(gone, h.env.nativeConnection, h.ferry.worker),
    });
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const res = await fetch(`${server.url}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        status: 'unavailable',
        checks: { database: 'failed', temporal: 'ok', polling: 'ok' },
      });
    } finally {
      await server.close();
    }
  });

  it('logs one line when the cycle starts and one when it ends, with its counts and duration', async () => {
    const started = lines.filter((l) => l.msg === 'cycle started' && l.appId === appId);
    const ended = lines.filter((l) => l.msg === 'cycle ended' && l.appId === appId);
    expect(started).toHaveLength(1);
    expect(ended).toHaveLength(1);
    expect(started[0]).toMatchObject({ module: 'cycle', kind: 'initial', cycleNumber: 1, level: 'info' });
    expect(started[0].staged).toBeGreaterThan(0);
    const counts = (await h.status(appId)).lastCycle?.counts;
    expect(ended[0]).toMatchObject({ module: 'cycle', kind: 'initial', status: 'succeeded', counts });
    expect(typeof ended[0].durationMs).toBe('number');
  });

  it('logs the job’s state changes from the workflow, once each', () => {
    const changes = lines.filter((l) => l.msg === 'job state changed' && l.appId === appId);
    expect(changes.length).toBeGreaterThan(0);
    expect(changes[0]).toMatchObject({ module: 'workflow' });
    const keys = changes.map((l) => `${String(l.from)}→${String(l.to)}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('writes SCIM request lines at the scim module’s own level, without query strings or the bearer token', () => {
    const requests = lines.filter((l) => l.msg === 'scim request' && l.appId === appId);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((l) => l.module === 'scim' && l.level === 'debug')).toBe(true);
    expect(requests.some((l) => String(l.path).includes('?'))).toBe(false);
    for (const line of raw) expect(line).not.toContain(peer.token);
  });
});
