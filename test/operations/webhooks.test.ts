// What an operator subscribing to Ferry's events relies on: a subscription made through the API
// gets its secret once (never again), a real cycle run by the worker is POSTed to a real receiver
// on 127.0.0.1 with a signature the receiver can verify from the timestamp and body, a receiver
// that fails first is retried by Temporal, the delivery log says what happened, and an address the
// outbound policy refuses is refused by the API and by the worker. A source's quarantine, entered
// (the source workflow's activity) and left (resume through the API), reaches a subscription of
// every app, signed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceActivities } from '../../activities/source-import.ts';
import { recordingProvisioning } from '../api/helpers.ts';
import type { ProvisioningHarness } from '../provisioning/harness.ts';
import { startWebhookWorld, waitUntil, type WebhookWorld } from './webhook-world.ts';

const API_KEY = 'fk_webhooks_test_key_0123456789abcdef';
const SHAPE = { users: 4, groups: 1 };

/** The receiver's check, as docs/operations.md describes it. */
function verify(secret: string, headers: IncomingHttpHeaders, body: string, toleranceSeconds = 300): boolean {
  const timestamp = Number(headers['ferry-timestamp']);
  const signature = String(headers['ferry-signature'] ?? '');
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
  return expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
}

describe('webhooks: subscribed through the API, delivered by the worker', () => {
  let world: WebhookWorld;
  let h: ProvisioningHarness;
  let appId: string;
  let receiverUrl: string;
  const call = (method: string, path: string, body?: unknown) => world.call(method, path, body);
  const received = () => world.received;

  beforeAll(async () => {
    world = await startWebhookWorld({
      apiKey: API_KEY,
      shape: SHAPE,
      provisioning: () => recordingProvisioning().control,
      // The first request fails: the delivery must be retried.
      answer: (n) => (n === 0 ? 503 : 204),
      pollMs: 500,
      sources: { ensure: async () => {}, stop: async () => {}, resume: async () => {}, syncNow: async () => {} },
    });
    ({ h, appId, receiverUrl } = world);
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  it('refuses a URL the outbound address policy refuses, and plain http off loopback', async () => {
    const metadata = await call('POST', '/webhooks', {
      url: 'https://169.254.169.254/hook',
      events: ['cycle.finished'],
    });
    expect(metadata.status).toBe(400);
    expect(JSON.stringify(metadata.body)).toMatch(/169\.254\.169\.254/);
    const plain = await call('POST', '/webhooks', {
      url: 'http://alerts.example.com/hook',
      events: ['cycle.finished'],
    });
    expect(plain.status).toBe(400);
    expect(JSON.stringify(plain.body)).toMatch(/https/);
    const unknown = await call('POST', '/webhooks', { url: receiverUrl, events: ['cycle.exploded'] });
    expect(unknown.status).toBe(400);
  });

  it('delivers the cycle.finished event of a real cycle, signed, retrying a receiver that failed first', async () => {
    const created = await call('POST', '/webhooks', { url: receiverUrl, events: ['cycle.finished'], appId });
    expect(created.status).toBe(201);
    const secret = String(created.body!.secret);
    const id = String(created.body!.id);
    expect(secret).toMatch(/^whsec_/);
    // The secret is never answered again.
    const shown = await call('GET', `/webhooks/${id}`);
    expect(shown.status).toBe(200);
    expect(JSON.stringify(shown.body)).not.toContain(secret);
    expect(JSON.stringify((await call('GET', '/webhooks')).body)).not.toContain(secret);

    await h.startJob(appId);
    const status = await h.waitForCycle(appId, 1);
    const delivered = await waitUntil('a delivered webhook', async () => {
      const log = await call('GET', `/webhooks/${id}/deliveries`);
      const items = log.body!.items as { status: string; error?: string }[];
      return items.find((d) => d.status === 'delivered') ?? null;
    });
    expect(delivered).toMatchObject({ eventType: 'cycle.finished', attempts: 2, responseStatus: 204 });

    expect(received().length).toBe(2);
    for (const request of received()) expect(verify(secret, request.headers, request.body)).toBe(true);
    // A body changed in transit, or a wrong secret, does not verify.
    expect(verify(secret, received()[1].headers, received()[1].body.replace('cycle.finished', 'cycle.finishes'))).toBe(
      false,
    );
    expect(verify(`${secret}x`, received()[1].headers, received()[1].body)).toBe(false);
    const event = JSON.parse(received()[1].body) as { type: string; appId: string; data: Record<string, unknown> };
    expect(received()[1].headers['ferry-event']).toBe('cycle.finished');
    expect(event).toMatchObject({
      type: 'cycle.finished',
      appId,
      data: { appId, cycleNumber: 1, status: 'succeeded', counts: status.lastCycle!.counts },
    });
  });

  it('the worker refuses a refused address too, at once and without retrying', async () => {
    // Written past the API's check (e.g. a host name that resolves to a private address later).
    const { webhook } = await h.store.webhooks.create({
      appId,
      url: 'https://10.11.12.13/hook',
      events: ['cycle.finished'],
    });
    await h.store.webhooks.emit({ appId, type: 'cycle.finished', data: { appId, probe: true } });
    const failed = await waitUntil('the refused delivery', async () => {
      const log = await call('GET', `/webhooks/${webhook.id}/deliveries`);
      const items = log.body!.items as { status: string; error?: string }[];
      return items.find((d) => d.status === 'failed') ?? null;
    });
    expect(failed).toMatchObject({ attempts: 1, responseStatus: null });
    expect(String(failed.error)).toMatch(/not allowed|10\.11\.12\.13/i);
  });

  it("delivers a source's quarantine entered and left, signed, to a subscription of every app", async () => {
    const created = await call('POST', '/webhooks', {
      url: receiverUrl,
      events: ['source.quarantine.entered', 'source.quarantine.left'],
    });
    expect(created.status).toBe(201);
    const secret = String(created.body!.secret);
    const source = await call('POST', '/sources', { type: 'csv', name: 'HR share', origin: 'upload' });
    expect(source.status).toBe(201);
    const sourceId = String(source.body!.id);
    const ofSource = (type: string) => received().filter((r) => r.headers['ferry-event'] === type);

    // The source workflow's decision after a day of failed imports, recorded by its activity.
    const activities = createSourceActivities({ store: h.store, policy: { allowLoopback: true, allowedNetworks: [] } });
    const decision = { since: '2026-03-02T08:00:00.000Z', failingSince: '2026-03-01T08:00:00.000Z', failures: 30 };
    await activities.quarantineSource({ sourceId, code: 'Unavailable', ...decision });
    const [entered] = await waitUntil('source.quarantine.entered', () =>
      ofSource('source.quarantine.entered').length > 0 ? ofSource('source.quarantine.entered') : null,
    );
    expect(verify(secret, entered.headers, entered.body)).toBe(true);
    expect(JSON.parse(entered.body)).toMatchObject({
      type: 'source.quarantine.entered',
      appId: null,
      data: { sourceId, name: 'HR share', type: 'csv', code: 'Unavailable', ...decision },
    });

    expect((await call('POST', `/sources/${sourceId}/resume`)).status).toBe(202);
    const [left] = await waitUntil('source.quarantine.left', () =>
      ofSource('source.quarantine.left').length > 0 ? ofSource('source.quarantine.left') : null,
    );
    expect(verify(secret, left.headers, left.body)).toBe(true);
    expect(JSON.parse(left.body)).toMatchObject({
      type: 'source.quarantine.left',
      appId: null,
      data: { sourceId, cause: 'resume', code: 'Unavailable', ...decision },
    });
    expect(ofSource('source.quarantine.entered')).toHaveLength(1);
  });
});
