// Journey: with the standard OTEL_* variables set, `npm start` traces what an operator does. One
// on-demand request is one trace, from the API's server span through the Temporal client, the job's
// update, the on-demand workflow and its activity, down to the SCIM request at the target, which
// receives the same trace in its `traceparent` header. Without the variables nothing is exported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/net.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { createApp, OneProcessFerry, person, startProvisioning, tempDir } from './harness.ts';

let receiver: OtlpReceiver;
let peer: ScimPeer;
let ferry: OneProcessFerry;
const data = tempDir('ferry-tracing-');

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  peer = await startScimmyPeer();
  ferry = await OneProcessFerry.create({
    dataDir: data.dir,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' },
  });
  await ferry.start();
});

afterAll(async () => {
  await ferry?.stop();
  await peer?.close();
  await receiver?.close();
  data.cleanup();
});

/** The chain of spans from `span` up to its trace's root, as far as the receiver has them. */
function ancestry(span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(spans.filter((s) => s.traceId === span.traceId).map((s) => [s.spanId, s]));
  const chain = [span];
  for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId)) chain.push(parent);
  return chain;
}

describe('tracing an on-demand request', () => {
  it('is one trace from the API request down to the SCIM request, which carries it to the target', async () => {
    const { api } = ferry;
    const appId = await createApp(api, { url: peer.baseUrl, token: peer.token }, { settings: { scope: 'assigned' } });
    await startProvisioning(api, appId);
    await api.ok('POST', '/directory/users', person('tracy', 'contoso.example'));
    await api.ok('POST', `/apps/${appId}/assignments`, { principalId: 'tracy' });

    const answer = await api.ok('POST', `/apps/${appId}/provision-on-demand`, { objectId: 'tracy' });
    expect(answer.status).toBe('Success');
    const create = peer.requestLog.find((r) => r.method === 'POST' && r.path.endsWith('/Users'));
    expect(create?.traceparent, 'the target got a traceparent header').toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    const traceId = create!.traceparent!.split('-')[1];

    const chainToApi = () => {
      const scim = receiver.spans.find((s) => s.traceId === traceId && s.name === 'SCIM POST');
      if (!scim) return null;
      const chain = ancestry(scim, receiver.spans);
      return chain.at(-1)?.name === 'POST /api/v1/apps/:id/provision-on-demand' ? chain : null;
    };
    await until(() => chainToApi() !== null, 'the spans from the SCIM request up to the API request', {
      timeoutMs: 30_000,
      pollMs: 200,
    });
    const chain = chainToApi()!;
    const names = chain.map((s) => s.name);
    expect(names[0]).toBe('SCIM POST');
    expect(chain[0].attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 201 });
    expect(chain[0].attributes['url.full'], 'no query or full URL in a span').toBeUndefined();
    expect(
      names.some((n) => n.startsWith('RunActivity:')),
      names.join(' ← '),
    ).toBe(true);
    expect(
      names.some((n) => n.startsWith('HandleUpdate:') || n.startsWith('RunWorkflow:')),
      names.join(' ← '),
    ).toBe(true);
    expect(new Set(chain.map((s) => s.service))).toEqual(new Set(['ferry']));
    const secrets = JSON.stringify(receiver.spans);
    expect(secrets).not.toContain(peer.token);
  });
});
