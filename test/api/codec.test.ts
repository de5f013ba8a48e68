// POST /codec/encode and /codec/decode: Temporal's remote codec protocol over Ferry's payload codec,
// behind the API key, callable from the Temporal Web UI's origin (CORS) and from no other.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { EncryptionCodec } from '../../workers/payload-codec.ts';
import { auth, read, testApp } from './helpers.ts';

const UI_ORIGIN = 'https://temporal.contoso.example';
const codec = new EncryptionCodec([{ id: 'k1', key: randomBytes(32) }]);
const app = () => testApp({ codec: { codec, namespace: 'ferry-prod', uiOrigin: UI_ORIGIN } }).app;

const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64');
const asJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
  data: b64(p.data ?? new Uint8Array()),
});
const plainPayload = (value: unknown) => asJson(defaultPayloadConverter.toPayload(value));
const decodedValue = (p: { metadata: Record<string, string>; data: string }) =>
  defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data, 'base64'),
  });

const post = (path: string, body: unknown, headers: Record<string, string> = auth()) =>
  app().request(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('the codec endpoint', () => {
  it('encrypts with the current key and decrypts back, in order, as the Web UI and CLI expect', async () => {
    const encoded = await post('/codec/encode', { payloads: [plainPayload({ a: 1 }), plainPayload('two')] });
    expect(encoded.status).toBe(200);
    const { payloads } = await read(encoded);
    expect(payloads).toHaveLength(2);
    for (const p of payloads) {
      expect(Buffer.from(p.metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
      expect(Buffer.from(p.metadata['encryption-key-id'], 'base64').toString()).toBe('k1');
    }
    const decoded = await post('/codec/decode', { payloads }, { ...auth(), 'X-Namespace': 'ferry-prod' });
    expect(decoded.status).toBe(200);
    expect((await read(decoded)).payloads.map(decodedValue)).toEqual([{ a: 1 }, 'two']);
  });

  it('decrypts what the worker encrypted and passes plaintext payloads through', async () => {
    const [fromWorker] = await codec.encode([defaultPayloadConverter.toPayload({ displayName: 'Zebulon' })]);
    const res = await post('/codec/decode', { payloads: [asJson(fromWorker), plainPayload('plain')] });
    expect((await read(res)).payloads.map(decodedValue)).toEqual([{ displayName: 'Zebulon' }, 'plain']);
  });

  it('needs an API key, like every data route', async () => {
    const res = await post('/codec/decode', { payloads: [] }, {});
    expect(res.status).toBe(401);
    expect((await read(res)).error.code).toBe('unauthorized');
  });

  it('names the payload that does not decrypt (unknown key id), the field that is not base64, and a foreign namespace', async () => {
    const [foreign] = await new EncryptionCodec([{ id: 'other', key: randomBytes(32) }]).encode([
      defaultPayloadConverter.toPayload('x'),
    ]);
    const unknown = await post('/codec/decode', { payloads: [plainPayload('ok'), asJson(foreign)] });
    expect(unknown.status).toBe(400);
    expect((await read(unknown)).error.details).toEqual([
      { path: 'payloads[1]', message: expect.stringMatching(/No payload key with id "other"/), in: 'body' },
    ]);

    const notBase64 = await post('/codec/decode', { payloads: [{ metadata: { encoding: 'json/plain!' }, data: '' }] });
    expect(notBase64.status).toBe(400);
    expect((await read(notBase64)).error.details[0].path).toBe('payloads[0].metadata.encoding');

    const namespace = await post('/codec/decode', { payloads: [] }, { ...auth(), 'X-Namespace': 'someone-else' });
    expect(namespace.status).toBe(400);
    expect((await read(namespace)).error.details).toEqual([
      { path: 'X-Namespace', message: 'must be ferry-prod', in: 'header' },
    ]);
    // The Temporal CLI sends an empty X-Namespace.
    expect((await post('/codec/decode', { payloads: [] }, { ...auth(), 'X-Namespace': '' })).status).toBe(200);
  });

  it("answers the Web UI's preflight without a key, allowing Authorization, for the UI's origin only", async () => {
    const preflight = (origin: string) =>
      app().request('/codec/decode', {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type,x-namespace',
        },
      });
    const ui = await preflight(UI_ORIGIN);
    expect(ui.status).toBe(204);
    expect(ui.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(ui.headers.get('access-control-allow-headers')?.toLowerCase().split(',')).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'x-namespace']),
    );
    expect(ui.headers.get('access-control-allow-methods')).toContain('POST');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');

    const answer = await post('/codec/encode', { payloads: [] }, { ...auth(), Origin: UI_ORIGIN });
    expect(answer.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  });

  it('opens no CORS when no Web UI is known, and is not served without a codec', async () => {
    const noUi = testApp({ codec: { codec, namespace: 'default', uiOrigin: null } }).app;
    const preflight = await noUi.request('/codec/decode', {
      method: 'OPTIONS',
      headers: { Origin: UI_ORIGIN, 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(401);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const none = await testApp().app.request('/codec/decode', {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'application/json' },
      body: '{"payloads":[]}',
    });
    expect(none.status).toBe(404);
  });
});
