// Test connection tells the admin what is wrong with the target (without telling a refused port
// from a silent one: outbound-policy.test.ts), and bad answers become
// typed errors instead of crashes.
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort } from '../support/net.ts';
import { ConfigurationError } from '../../engine/errors.ts';
import { SCIM_USER_SCHEMA } from '../../engine/types.ts';
import { createScimClient, type ScimClientOptions } from '../../scim/index.ts';
import { startScimmyPeer } from '../support/scim-peers.ts';
import { EMPTY_LIST_RESPONSE, sendJson, startScimStub } from '../support/scim-stub.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function client(baseUrl: string, token = 'token', extra: Partial<ScimClientOptions> = {}) {
  const created = createScimClient({ baseUrl, auth: { type: 'bearer', token }, allowInsecureLoopback: true, ...extra });
  cleanups.push(() => created.close());
  return created;
}

async function stub(handler: Parameters<typeof startScimStub>[0]) {
  const started = await startScimStub(handler);
  cleanups.push(() => started.close());
  return started;
}

describe('test connection', () => {
  it('succeeds against a SCIM server with the right token, filtering on a random userName', async () => {
    const peer = await startScimmyPeer();
    cleanups.push(() => peer.close());
    await expect(client(peer.baseUrl, peer.token).testConnection()).resolves.toEqual({ ok: true });
    const probe = peer.requestLog.at(-1);
    expect(probe?.method).toBe('GET');
    expect(decodeURIComponent(probe?.path ?? '')).toMatch(/\/Users\?filter=userName eq "[0-9a-f-]{36}"$/);
  });

  it('reports "unreachable" when nothing listens on the port', async () => {
    const result = await client(`http://127.0.0.1:${await closedPort()}/scim`).testConnection();
    expect(result).toMatchObject({ ok: false, reason: 'unreachable', detail: 'ECONNREFUSED' });
  });

  it('reports "unauthorized" for a wrong token', async () => {
    const peer = await startScimmyPeer();
    cleanups.push(() => peer.close());
    expect(await client(peer.baseUrl, 'wrong-token').testConnection()).toMatchObject({
      ok: false,
      reason: 'unauthorized',
    });
  });

  it('reports "forbidden" for a 403', async () => {
    const target = await stub((_request, res) => sendJson(res, 403, { detail: 'no' }));
    expect(await client(`${target.origin}/scim`).testConnection()).toMatchObject({ ok: false, reason: 'forbidden' });
  });

  it('reports "notFound" when the base URL has no Users endpoint', async () => {
    const peer = await startScimmyPeer();
    cleanups.push(() => peer.close());
    const wrongPath = peer.baseUrl.replace('/scim/v2', '/wrong');
    expect(await client(wrongPath, peer.token).testConnection()).toMatchObject({ ok: false, reason: 'notFound' });
  });

  it('reports "notScim" for an HTML page answered with 200', async () => {
    const target = await stub((_request, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Welcome to our login page</body></html>');
    });
    expect(await client(`${target.origin}/scim`).testConnection()).toMatchObject({ ok: false, reason: 'notScim' });
  });

  it('reports "notScim" when the target ignores the filter and returns users', async () => {
    const target = await stub((_request, res) =>
      sendJson(res, 200, {
        ...EMPTY_LIST_RESPONSE,
        totalResults: 1,
        Resources: [{ schemas: [SCIM_USER_SCHEMA], id: '1', userName: 'x' }],
      }),
    );
    expect(await client(`${target.origin}/scim`).testConnection()).toMatchObject({ ok: false, reason: 'notScim' });
  });

  it('reports "unreachable" too when the target accepts the connection but never answers', async () => {
    const target = await stub(() => {
      /* never answers */
    });
    const result = await client(`${target.origin}/scim`, 'token', { timeouts: { headersMs: 200 } }).testConnection();
    expect(result).toMatchObject({ ok: false, reason: 'unreachable', detail: 'UND_ERR_HEADERS_TIMEOUT' });
  });

  it('refuses plain http to anything but loopback, before sending anything', () => {
    expect(() =>
      createScimClient({
        baseUrl: 'http://scim.example.com/scim',
        auth: { type: 'bearer', token: 't' },
        allowInsecureLoopback: true,
      }),
    ).toThrow(ConfigurationError);
    expect(() =>
      createScimClient({ baseUrl: 'http://127.0.0.1:1/scim', auth: { type: 'bearer', token: 't' } }),
    ).toThrow(/https/);
  });
});

describe('response validation', () => {
  it('rejects a created resource without id as a non-SCIM answer', async () => {
    const target = await stub((_request, res) => sendJson(res, 201, { schemas: [SCIM_USER_SCHEMA], userName: 'a' }));
    const error = await client(`${target.origin}/scim`)
      .create('Users', { schemas: [SCIM_USER_SCHEMA], userName: 'a' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('NonScimResponse');
  });

  it('turns a 200 with broken JSON into a typed error', async () => {
    const target = await stub((_request, res) => {
      res.writeHead(200, { 'content-type': 'application/scim+json' });
      res.end('{"schemas": [');
    });
    const error = await client(`${target.origin}/scim`)
      .get('Users', '1')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('NonScimResponse');
  });

  it('stops reading a response larger than the cap', async () => {
    const target = await stub((_request, res) =>
      sendJson(res, 200, { ...EMPTY_LIST_RESPONSE, padding: 'x'.repeat(200_000) }),
    );
    const error = await client(`${target.origin}/scim`, 'token', { maxResponseBytes: 10_000 })
      .list('Users')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(String(error)).toMatch(/exceeds 10000 bytes/);
  });

  it('stops reading a chunked response (no content-length) larger than the cap', async () => {
    const target = await stub((_request, res) => {
      res.writeHead(200, { 'content-type': 'application/scim+json' });
      for (let i = 0; i < 20; i++) res.write(`${'x'.repeat(10_000)}`);
      res.end();
    });
    const error = await client(`${target.origin}/scim`, 'token', { maxResponseBytes: 10_000 })
      .list('Users')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(String(error)).toMatch(/exceeds 10000 bytes/);
  });

  it('tolerates list answers without schemas or itemsPerPage and with a lower-case resources key', async () => {
    const target = await stub((_request, res) =>
      sendJson(res, 200, {
        totalResults: '2',
        resources: [{ id: 1, userName: 'a' }, { id: '2', userName: 'b' }, { userName: 'no-id' }],
      }),
    );
    const page = await client(`${target.origin}/scim`).list('Users');
    expect(page.resources.map((resource) => resource.id)).toEqual(['1', '2']);
    expect(page.totalResults).toBe(2);
  });

  it('pages by what the target actually returned when it ignores count', async () => {
    const all = Array.from({ length: 12 }, (_, n) => ({
      schemas: [SCIM_USER_SCHEMA],
      id: String(n + 1),
      userName: `u${n}`,
    }));
    const target = await stub((request, res) => {
      const startIndex = Number(new URL(request.url, 'http://x').searchParams.get('startIndex') ?? 1);
      // Always 7 per page whatever `count` says, and itemsPerPage misreported as 100.
      sendJson(res, 200, {
        ...EMPTY_LIST_RESPONSE,
        totalResults: 12,
        startIndex,
        itemsPerPage: 100,
        Resources: all.slice(startIndex - 1, startIndex + 6),
      });
    });
    const resources = await client(`${target.origin}/scim`).listAll('Users', { count: 5 });
    expect(resources.map((resource) => resource.id)).toEqual(all.map((resource) => resource.id));
  });
});
