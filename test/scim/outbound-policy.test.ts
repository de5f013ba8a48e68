// The outbound address policy on real sockets: a listener on 127.0.0.x that the policy refuses
// must never see a connection — not for an address in the URL, not for a name a resolver maps
// to it (also when the name first answered with an allowed address: DNS rebinding), not through
// a redirect, not for the OAuth token URL. And test connection answers refused, silent and
// closing targets with one indistinguishable message.
import type { LookupAddress } from 'node:dns';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../engine/errors.ts';
import { parseNetwork, type Resolver } from '../../scim/address-policy.ts';
import { createScimClient, type ScimClientOptions } from '../../scim/index.ts';
import { closedPort } from '../support/net.ts';
import { EMPTY_LIST_RESPONSE, sendJson, startScimStub } from '../support/scim-stub.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

interface Sentinel {
  host: string;
  port: number;
  /** TCP connections accepted so far. */
  connections: number;
}

/** A TCP listener that counts the connections it accepts and drops each one at once. */
async function sentinel(host = '127.0.0.1', port = 0): Promise<Sentinel> {
  const sockets = new Set<Socket>();
  const state = { host, port, connections: 0 };
  const server: Server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  state.port = (server.address() as AddressInfo).port;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return state;
}

/** Two sentinels on the same port, on 127.0.0.1 and 127.0.0.2 (one URL, two addresses). */
async function sentinelPair(): Promise<[Sentinel, Sentinel]> {
  for (let tries = 0; ; tries++) {
    const first = await sentinel('127.0.0.1');
    try {
      return [first, await sentinel('127.0.0.2', first.port)];
    } catch (error) {
      if (tries >= 5) throw error;
    }
  }
}

/** A resolver answering each lookup with the next of `answers` (the last one repeats), counting lookups. */
function scriptedResolver(...answers: string[]): Resolver & { lookups: string[] } {
  const lookups: string[] = [];
  const resolver: Resolver = (hostname, _options, callback) => {
    lookups.push(hostname);
    const address = answers[Math.min(lookups.length - 1, answers.length - 1)];
    const entry: LookupAddress = { address, family: address.includes(':') ? 6 : 4 };
    setImmediate(() => callback(null, [entry]));
  };
  return Object.assign(resolver, { lookups });
}

function client(baseUrl: string, extra: Partial<ScimClientOptions> = {}) {
  const created = createScimClient({
    baseUrl,
    auth: { type: 'bearer', token: 'token' },
    retry: { attempts: 1 },
    ...extra,
  });
  cleanups.push(() => created.close());
  return created;
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );

describe('outbound address policy on real sockets', () => {
  it('never connects to a loopback address written in the URL when loopback is not allowed', async () => {
    const listener = await sentinel();
    const scim = client(`https://127.0.0.1:${listener.port}/scim`);
    const result = await scim.testConnection();
    expect(result).toMatchObject({ ok: false, reason: 'addressNotAllowed' });
    const error = await failure(scim.list('Users'));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('AddressNotAllowed');
    expect(listener.connections).toBe(0);
  });

  it('gives the same answer whether or not anything listens at a refused address', async () => {
    const listener = await sentinel();
    const listening = await client(`https://127.0.0.1:${listener.port}/scim`).testConnection();
    const silent = await client(`https://127.0.0.1:${await closedPort()}/scim`).testConnection();
    expect(listening).toEqual(silent);
    expect(listening).toMatchObject({ ok: false, reason: 'addressNotAllowed' });
    expect(listener.connections).toBe(0);
  });

  it('connects to the same listener when the environment allows loopback (the sentinel is real)', async () => {
    const listener = await sentinel();
    const result = await client(`https://127.0.0.1:${listener.port}/scim`, {
      allowInsecureLoopback: true,
    }).testConnection();
    expect(result).toMatchObject({ ok: false, reason: 'unreachable' });
    expect(listener.connections).toBeGreaterThanOrEqual(1);
  });

  it.each([['127.0.0.1'], ['::ffff:127.0.0.1']])(
    'never connects when the resolver answers %s for a public-looking name',
    async (answer) => {
      const listener = await sentinel();
      const resolve = scriptedResolver(answer);
      const result = await client(`https://scim.example.test:${listener.port}/scim`, {
        outbound: { resolve },
      }).testConnection();
      expect(result).toMatchObject({ ok: false, reason: 'addressNotAllowed' });
      expect((result as { message: string }).message).toContain('scim.example.test');
      expect((result as { message: string }).message).not.toContain(answer);
      expect(resolve.lookups).toEqual(['scim.example.test']);
      expect(listener.connections).toBe(0);
    },
  );

  it.each([['10.0.0.7'], ['169.254.169.254'], ['100.64.0.1'], ['192.168.1.1'], ['::1'], ['fd00::1'], ['fe80::1']])(
    'refuses a name the resolver maps to %s before opening a socket',
    async (answer) => {
      const resolve = scriptedResolver(answer);
      const scim = client('https://scim.example.test/scim', { outbound: { resolve } });
      const error = await failure(scim.get('Users', '1'));
      expect((error as ConfigurationError).code).toBe('AddressNotAllowed');
      expect(String(error)).not.toContain(answer);
      expect(resolve.lookups.length).toBeGreaterThanOrEqual(1);
    },
  );

  it('allows a resolved private address inside FERRY_ALLOWED_TARGET_NETWORKS, and only there', async () => {
    const [inside, outside] = await sentinelPair();
    const allowedNetworks = [parseNetwork('127.0.0.1/32')];
    const toInside = await client(`https://scim.example.test:${inside.port}/scim`, {
      outbound: { allowedNetworks, resolve: scriptedResolver('127.0.0.1') },
    }).testConnection();
    expect(toInside).toMatchObject({ ok: false, reason: 'unreachable' });
    expect(inside.connections).toBeGreaterThanOrEqual(1);
    const toOutside = await client(`https://scim.example.test:${outside.port}/scim`, {
      outbound: { allowedNetworks, resolve: scriptedResolver('127.0.0.2') },
    }).testConnection();
    expect(toOutside).toMatchObject({ ok: false, reason: 'addressNotAllowed' });
    expect(outside.connections).toBe(0);
  });

  it('checks every new connection on the address it resolves to then (DNS rebinding)', async () => {
    const [allowed, rebound] = await sentinelPair();
    const allowedNetworks = [parseNetwork('127.0.0.1/32')];
    // First lookup: an allowed address; every later one: a refused address on the same port.
    const resolve = scriptedResolver('127.0.0.1', '127.0.0.2');
    const scim = client(`https://scim.example.test:${allowed.port}/scim`, { outbound: { allowedNetworks, resolve } });
    expect(await scim.testConnection()).toMatchObject({ reason: 'unreachable' });
    expect(allowed.connections).toBe(1);
    expect(await scim.testConnection()).toMatchObject({ reason: 'addressNotAllowed' });
    expect(resolve.lookups).toHaveLength(2);
    expect(rebound.connections).toBe(0);

    // The same rebinding with 127.0.0.2 allowed does reach the second listener: the check is what stops it.
    const open = scriptedResolver('127.0.0.1', '127.0.0.2');
    const unchecked = client(`https://scim.example.test:${allowed.port}/scim`, {
      outbound: { allowedNetworks: [parseNetwork('127.0.0.0/8')], resolve: open },
    });
    await unchecked.testConnection();
    await unchecked.testConnection();
    expect(rebound.connections).toBe(1);
  });

  it('never connects to the OAuth token URL at a refused address, and sends nothing to the target', async () => {
    const tokenListener = await sentinel();
    const target = await startScimStub((_request, res) => sendJson(res, 200, EMPTY_LIST_RESPONSE));
    cleanups.push(() => target.close());
    const resolve = scriptedResolver('127.0.0.1');
    const scim = client('https://scim.example.test/scim', {
      auth: {
        type: 'oauth',
        tokenUrl: `https://login.example.test:${tokenListener.port}/token`,
        clientId: 'ferry',
        clientSecret: 'secret-0123456789',
      },
      outbound: { resolve },
    });
    const result = await scim.testConnection();
    expect(result).toMatchObject({ ok: false, reason: 'addressNotAllowed' });
    expect((result as { message: string }).message).toContain('login.example.test');
    expect(resolve.lookups).toEqual(['login.example.test']);
    expect(tokenListener.connections).toBe(0);
    expect(target.requests).toHaveLength(0);
  });

  it('never connects to IPv6 loopback or unique-local literals', async () => {
    for (const host of ['[::1]', '[fd00::1]', '[::ffff:7f00:1]', '[fe80::1]']) {
      const result = await client(`https://${host}:9/scim`).testConnection();
      expect(result, host).toMatchObject({ ok: false, reason: 'addressNotAllowed' });
    }
  });

  it('does not follow a redirect, so a 3xx cannot lead it to a refused address', async () => {
    const internal = await sentinel('127.0.0.2');
    const target = await startScimStub((_request, res) => {
      res.writeHead(302, { location: `http://127.0.0.2:${internal.port}/scim/Users` });
      res.end();
    });
    cleanups.push(() => target.close());
    const scim = client(`${target.origin}/scim`, { allowInsecureLoopback: true });
    const error = await failure(scim.list('Users'));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('NonScimResponse');
    expect(await scim.testConnection()).toMatchObject({ ok: false, reason: 'unexpected' });
    expect(target.requests.length).toBeGreaterThanOrEqual(2);
    expect(internal.connections).toBe(0);
  });
});

describe('test connection is no port scanner', () => {
  it('answers refused, silent and closing targets with one reason and one message', async () => {
    const silentServer = createServer(() => {
      /* accepts, never answers */
    });
    const held = new Set<Socket>();
    silentServer.on('connection', (socket) => held.add(socket));
    await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of held) socket.destroy();
          silentServer.close(() => resolve());
        }),
    );
    const closing = await sentinel();
    const ports = {
      refused: await closedPort(),
      silent: (silentServer.address() as AddressInfo).port,
      closing: closing.port,
    };
    const answers = await Promise.all(
      Object.values(ports).map((port) =>
        client(`http://127.0.0.1:${port}/scim`, {
          allowInsecureLoopback: true,
          timeouts: { connectMs: 2000, headersMs: 300 },
        }).testConnection(),
      ),
    );
    const shown = answers.map((answer, index) =>
      answer.ok
        ? answer
        : { reason: answer.reason, message: answer.message.replace(String(Object.values(ports)[index]), 'PORT') },
    );
    expect(shown[0]).toEqual({
      reason: 'unreachable',
      message: 'No answer from 127.0.0.1:PORT: the connection was refused, timed out or closed before an answer',
    });
    expect(shown[1]).toEqual(shown[0]);
    expect(shown[2]).toEqual(shown[0]);
    // The code stays for the operator's log, apart from the answer.
    expect(answers.map((answer) => (answer.ok ? undefined : answer.detail))).toEqual([
      'ECONNREFUSED',
      'UND_ERR_HEADERS_TIMEOUT',
      expect.stringMatching(/^(UND_ERR_SOCKET|ECONNRESET)$/),
    ]);
  });
});
