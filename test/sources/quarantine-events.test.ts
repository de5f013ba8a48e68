// A source's quarantine as webhook events, through the API over a real store: a subscription of
// every app gets `source.quarantine.entered` when the workflow's decision is recorded (once, even if
// the activity writes it again; never again once that quarantine ended) and `source.quarantine.left` when the quarantine ends — by resume,
// by an import that works, or by enabling a disabled source — once, naming what ended it. An app's
// subscription cannot ask for them (a source belongs to no app). Delivery, signed, is in
// test/operations/webhooks.test.ts; the workflow's own call in test/sources/quarantine.test.ts.
import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceActivities } from '../../activities/source-import.ts';
import { webhookEvents } from '../../store/schema.ts';
import { sourcesApp } from './helpers.ts';

let api: Awaited<ReturnType<typeof sourcesApp>>;
let activities: ReturnType<typeof createSourceActivities>;

const EXPORT = 'id,userPrincipalName,displayName\ne1,ada@contoso.example,Ada Lovelace\n';
const DECISION = { code: 'Unavailable', failures: 31, failingSince: '2026-01-01T09:00:00.000Z' };

/** The outbox's source events about `sourceId`, oldest first. */
async function eventsOf(sourceId: string) {
  const rows = await api.store.db.select().from(webhookEvents).orderBy(asc(webhookEvents.id));
  return rows
    .filter((r) => r.type.startsWith('source.') && r.data.sourceId === sourceId)
    .map((r) => ({ type: r.type, appId: r.appId, data: r.data }));
}

async function uploadSource(name: string): Promise<string> {
  const created = await api.call('POST', '/api/v1/sources', { type: 'csv', name, origin: 'upload' });
  expect(created.status, created.text).toBe(201);
  return created.body!.id as string;
}

/** The workflow's decision, written by its activity after a failed import. */
const quarantine = (sourceId: string, since: string) => activities.quarantineSource({ sourceId, since, ...DECISION });

beforeAll(async () => {
  api = await sourcesApp();
  activities = createSourceActivities({ store: api.store, policy: { allowLoopback: true, allowedNetworks: [] } });
  const hook = await api.call('POST', '/api/v1/webhooks', {
    url: 'https://alerts.example.com/ferry',
    events: ['source.quarantine.entered', 'source.quarantine.left'],
  });
  expect(hook.status, hook.text).toBe(201);
});
afterAll(async () => {
  await api.close();
});

describe('source quarantine: webhook events', () => {
  it('announces entering once, with the last error, and leaving once on resume, naming the quarantine left', async () => {
    const id = await uploadSource('HR events');
    // No snapshot yet: the import fails with an error written for people.
    await api.call('POST', `/api/v1/sources/${id}/sync`, {});
    const error = (await api.call('GET', `/api/v1/sources/${id}/runs`)).body!.items[0].error as string;
    expect(error).toMatch(/No snapshot/);

    await quarantine(id, '2026-01-02T09:00:00.000Z');
    // A retried attempt writes the same decision again: no second event.
    await quarantine(id, '2026-01-02T09:00:00.000Z');
    const q = { since: '2026-01-02T09:00:00.000Z', ...DECISION, message: error };
    expect((await api.call('GET', `/api/v1/sources/${id}`)).body).toMatchObject({
      status: 'quarantined',
      quarantine: q,
    });
    const about = { sourceId: id, name: 'HR events', type: 'csv' };
    expect(await eventsOf(id)).toEqual([
      { type: 'source.quarantine.entered', appId: null, data: { ...about, ...q, at: expect.any(String) } },
    ]);

    expect((await api.call('POST', `/api/v1/sources/${id}/resume`)).status).toBe(202);
    // The import after the resume succeeds and clears nothing more: still one `left`.
    expect((await api.upload(id, EXPORT)).status).toBe(202);
    expect((await api.call('GET', `/api/v1/sources/${id}/runs`)).body!.items[0].status).toBe('succeeded');
    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(['source.quarantine.entered', 'source.quarantine.left']);
    expect(events[1]).toEqual({
      type: 'source.quarantine.left',
      appId: null,
      data: { ...about, cause: 'resume', ...q, at: expect.any(String) },
    });
  });

  it('announces leaving when an import works, and when a disabled source is enabled again', async () => {
    const imported = await uploadSource('HR import ends it');
    await quarantine(imported, '2026-02-01T00:00:00.000Z');
    expect((await api.upload(imported, EXPORT)).status).toBe(202);
    expect((await api.call('GET', `/api/v1/sources/${imported}`)).body).toMatchObject({ status: 'active' });
    const left = (await eventsOf(imported)).filter((e) => e.type === 'source.quarantine.left');
    expect(left.map((e) => e.data.cause)).toEqual(['import']);

    const enabled = await uploadSource('HR enabled again');
    await quarantine(enabled, '2026-02-02T00:00:00.000Z');
    expect((await api.call('PATCH', `/api/v1/sources/${enabled}`, { enabled: false })).status).toBe(200);
    // Disabled, it is still quarantined: nothing left yet.
    expect((await eventsOf(enabled)).map((e) => e.type)).toEqual(['source.quarantine.entered']);
    expect((await api.call('PATCH', `/api/v1/sources/${enabled}`, { enabled: true })).body).toMatchObject({
      status: 'active',
    });
    const events = await eventsOf(enabled);
    expect(events.map((e) => [e.type, e.data.cause])).toEqual([
      ['source.quarantine.entered', undefined],
      ['source.quarantine.left', 'enabled'],
    ]);
  });

  it('does not quarantine again, on a retried attempt, a source released after the decision', async () => {
    const id = await uploadSource('HR released');
    await quarantine(id, '2026-03-01T00:00:00.000Z');
    expect((await api.call('POST', `/api/v1/sources/${id}/resume`)).status).toBe(202);
    // The first attempt's completion was lost: Temporal runs the activity again with the same decision.
    await quarantine(id, '2026-03-01T00:00:00.000Z');
    expect((await api.call('GET', `/api/v1/sources/${id}`)).body).toMatchObject({ status: 'active', quarantine: null });
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['source.quarantine.entered', 'source.quarantine.left']);

    // A later decision (a new streak of failures) quarantines it again.
    await quarantine(id, '2026-03-02T00:00:00.000Z');
    expect((await api.call('GET', `/api/v1/sources/${id}`)).body).toMatchObject({
      status: 'quarantined',
      quarantine: { since: '2026-03-02T00:00:00.000Z' },
    });
  });

  it("refuses source events on an app's subscription", async () => {
    const app = await api.call('POST', '/api/v1/apps', {
      name: 'Some app',
      template: 'generic-scim',
      target: { url: 'https://crm.example/scim/v2', token: 'tok_some_app_0123456789' },
    });
    expect(app.status, app.text).toBe(201);
    const refused = await api.call('POST', '/api/v1/webhooks', {
      url: 'https://alerts.example.com/app',
      appId: app.body!.id,
      events: ['cycle.finished', 'source.quarantine.entered'],
    });
    expect(refused.status).toBe(400);
    expect(refused.body!.error.message).toMatch(/source\.quarantine\.entered.*without appId/);
    const ok = await api.call('POST', '/api/v1/webhooks', {
      url: 'https://alerts.example.com/app',
      appId: app.body!.id,
      events: ['cycle.finished'],
    });
    expect(ok.status).toBe(201);
    const patched = await api.call('PATCH', `/api/v1/webhooks/${ok.body!.id}`, { events: ['source.quarantine.left'] });
    expect(patched.status).toBe(400);
  });
});
