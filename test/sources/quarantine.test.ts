// Source quarantine on the in-repo Temporal test service (time skipping), through the API: an Entra
// source whose Graph cannot be reached fails every import; after 24 h of failures it is quarantined
// (shown by GET with the last error, never the secret) and imports no more on its cadence; a
// manual sync that fails keeps it there; resume, once Graph answers, brings it back. Entering and
// leaving are announced once each as webhook events (source.quarantine.entered / .left).
import { closedPort } from '../support/net.ts';
import { startSourceWorker, type SourceWorker } from './source-worker.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphFake, type GraphFake } from '../../dev/graph-fake/index.ts';
import { ensureSourceWorkflows } from '../../api/source-control.ts';
import { createTemporalSourceControl } from '../../api/source-temporal.ts';
import { asc } from 'drizzle-orm';
import { SOURCE_QUARANTINE_AFTER_MS } from '../../engine/policies/index.ts';
import { webhookEvents } from '../../store/schema.ts';
import type { Store } from '../../store/index.ts';
import { inRepoBackend, type TemporalTestEnv } from '../support/temporal.ts';
import { sourcesApp } from './helpers.ts';

const HOUR = 3_600_000;

let env: TemporalTestEnv;
let store: Store;
let sources: SourceWorker;
let graph: GraphFake;
let api: Awaited<ReturnType<typeof sourcesApp>>;
let control: ReturnType<typeof createTemporalSourceControl>;

beforeAll(async () => {
  graph = await startGraphFake({ pageSize: 50 });
  sources = await startSourceWorker({ backend: inRepoBackend, name: 'source-quarantine', allowLoopback: true });
  ({ env, store, control } = sources);
  api = await sourcesApp({ store, control });
}, 120_000);

afterAll(async () => {
  await sources?.close();
  await graph?.close();
});

/** Lets the in-repo service run everything due now (no time passes). */
const settle = () => env.skipTime(0);
const runs = async (id: string) => (await store.sources.runs(id, { limit: 500 })).length;
/** The outbox's source quarantine events about `id`, oldest first. */
const events = async (id: string) =>
  (await store.db.select().from(webhookEvents).orderBy(asc(webhookEvents.id)))
    .filter((e) => e.type.startsWith('source.quarantine.') && e.data.sourceId === id)
    .map((e) => ({ type: e.type, data: e.data }));

describe('source quarantine', () => {
  it('a source failing for 24 h is quarantined with its last error, stops importing, and resume brings it back', async () => {
    await store.webhooks.create({
      appId: null,
      url: 'https://alerts.example.com/ferry',
      events: ['source.quarantine.entered', 'source.quarantine.left'],
    });
    graph.addUser({ userPrincipalName: 'ada@contoso.example', displayName: 'Ada' });
    const unreachable = `http://127.0.0.1:${await closedPort()}`;
    const created = await api.call('POST', '/api/v1/sources', {
      type: 'entra',
      name: 'Unreachable Graph',
      tenantId: graph.tenantId,
      clientId: graph.clientId,
      clientSecret: graph.clientSecret,
      authority: unreachable,
      graphUrl: unreachable,
      intervalMinutes: 60,
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body!.id as string;
    await settle();
    const get = async () => (await api.call('GET', `/api/v1/sources/${id}`)).body!;
    expect((await store.sources.runs(id))[0]).toMatchObject({ status: 'failed' });
    expect(await get()).toMatchObject({ status: 'active', quarantine: null });

    // Failing, but not yet for 24 hours: still on its (backed-off) cadence.
    await env.skipTime(SOURCE_QUARANTINE_AFTER_MS - HOUR);
    expect(await get()).toMatchObject({ status: 'active', quarantine: null });

    await env.skipTime(2 * HOUR);
    const quarantined = await get();
    expect(quarantined).toMatchObject({
      status: 'quarantined',
      quarantine: { failures: expect.any(Number), code: expect.any(String), message: expect.any(String) },
    });
    expect(quarantined.quarantine.failures).toBeGreaterThanOrEqual(3);
    expect(quarantined.quarantine.message).toBe((await store.sources.runs(id))[0].error);
    expect(JSON.stringify(quarantined)).not.toContain(graph.clientSecret);
    const listed = (await api.call('GET', '/api/v1/sources')).body!.items.find((s: { id: string }) => s.id === id);
    expect(listed).toMatchObject({ status: 'quarantined', quarantine: quarantined.quarantine });
    const about = { sourceId: id, name: 'Unreachable Graph', type: 'entra' };
    expect(await events(id)).toEqual([
      { type: 'source.quarantine.entered', data: { ...about, ...quarantined.quarantine, at: expect.any(String) } },
    ]);

    // No more imports on the cadence.
    const before = await runs(id);
    await env.skipTime(6 * HOUR);
    expect(await runs(id)).toBe(before);

    // A manual sync runs, fails (its 3 attempts update one run), and the source stays quarantined.
    expect((await api.call('POST', `/api/v1/sources/${id}/sync`, {})).status).toBe(202);
    await env.skipTime(60_000);
    expect(await runs(id)).toBe(before + 1);
    expect((await store.sources.runs(id))[0]).toMatchObject({ status: 'failed', attempts: 3 });
    expect((await api.call('GET', `/api/v1/sources/${id}/runs?limit=1`)).body!.items[0]).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: expect.stringMatching(/\S/),
    });
    expect((await get()).status).toBe('quarantined');

    // Graph answers again; resume ends the quarantine and imports at once.
    const patched = await api.call('PATCH', `/api/v1/sources/${id}`, {
      authority: graph.authority,
      graphUrl: graph.graphUrl,
      clientSecret: graph.clientSecret,
    });
    expect(patched.status, patched.text).toBe(200);
    const resumed = await api.call('POST', `/api/v1/sources/${id}/resume`);
    expect(resumed.status, resumed.text).toBe(202);
    expect(resumed.body).toMatchObject({ status: 'active', quarantine: null });
    await settle();
    expect((await store.sources.runs(id))[0]).toMatchObject({ status: 'succeeded', created: 1 });
    const afterResume = await runs(id);

    expect((await events(id)).map((e) => [e.type, e.data.cause ?? null])).toEqual([
      ['source.quarantine.entered', null],
      ['source.quarantine.left', 'resume'],
    ]);

    // …and the cadence again.
    await env.skipTime(HOUR + 60_000);
    expect(await runs(id)).toBe(afterResume + 1);
    expect(await get()).toMatchObject({ status: 'active', quarantine: null });
    expect((await api.call('POST', `/api/v1/sources/${id}/resume`)).status).toBe(409);
  }, 120_000);

  it('a quarantined source disabled and enabled again starts afresh, out of quarantine', async () => {
    const created = await api.call('POST', '/api/v1/sources', {
      type: 'csv',
      name: 'Gone file',
      path: '/nonexistent/ferry/people.csv',
      enabled: false,
    });
    const id = created.body!.id as string;
    const quarantine = {
      since: '2025-01-02T00:00:00.000Z',
      failingSince: '2025-01-01T00:00:00.000Z',
      failures: 30,
      code: 'Unknown',
      message: 'The CSV source file /nonexistent/ferry/people.csv cannot be read (ENOENT).',
    };
    await store.sources.setState(id, { quarantine });
    expect((await api.call('GET', `/api/v1/sources/${id}`)).body).toMatchObject({ status: 'disabled', quarantine });
    expect((await api.call('POST', `/api/v1/sources/${id}/resume`)).status).toBe(409);
    const enabled = await api.call('PATCH', `/api/v1/sources/${id}`, { enabled: true });
    expect(enabled.body).toMatchObject({ status: 'active', quarantine: null });
    await api.call('DELETE', `/api/v1/sources/${id}`);
  });

  it('a quarantined source whose workflow Temporal lost is ensured back in quarantine, not on its cadence', async () => {
    const created = await api.call('POST', '/api/v1/sources', {
      type: 'csv',
      name: 'Lost workflow',
      path: '/nonexistent/ferry/lost.csv',
      intervalMinutes: 60,
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body!.id as string;
    await settle();
    // Quarantined, then the workflow is lost (a fresh Temporal database, say).
    await store.sources.setState(id, {
      quarantine: {
        since: new Date().toISOString(),
        failingSince: new Date().toISOString(),
        failures: 3,
        code: 'Unknown',
        message: 'The CSV source file cannot be read (ENOENT).',
      },
    });
    await control.stop(id);
    const before = await runs(id);

    await ensureSourceWorkflows(store, control);
    await env.skipTime(6 * HOUR);
    expect(await runs(id)).toBe(before);
    expect((await api.call('GET', `/api/v1/sources/${id}`)).body).toMatchObject({ status: 'quarantined' });

    // Resume reaches the new workflow: it imports at once.
    expect((await api.call('POST', `/api/v1/sources/${id}/resume`)).status).toBe(202);
    await settle();
    expect(await runs(id)).toBeGreaterThan(before);
    await api.call('DELETE', `/api/v1/sources/${id}`);
  }, 120_000);
});
