// OAuth 2.0 client credentials: one token for many requests, a new one before expiry, exactly one
// refresh on a 401, and the secret and tokens never reach the logger.
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../engine/errors.ts';
import { createScimClient, type ScimClientEvent } from '../../scim/index.ts';
import { EMPTY_LIST_RESPONSE, sendJson, startScimStub, type ScimStub } from '../support/scim-stub.ts';

const CLIENT_ID = 'ferry-app';
const CLIENT_SECRET = 's3cr3t-value-never-logged';

interface Setup {
  stub: ScimStub;
  issued: string[];
  /** Tokens the SCIM side accepts; tests revoke some. */
  valid: Set<string>;
  /** When true the SCIM side refuses every token. */
  target: { refuseAll: boolean };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** One server: `/token` issues tokens for the right client credentials, `/scim/*` checks them. */
async function oauthTarget(expiresIn: number): Promise<Setup> {
  const issued: string[] = [];
  const valid = new Set<string>();
  const target = { refuseAll: false };
  const stub = await startScimStub((request, res) => {
    if (request.url === '/token') {
      const form = new URLSearchParams(request.body);
      if (
        form.get('grant_type') !== 'client_credentials' ||
        form.get('client_id') !== CLIENT_ID ||
        form.get('client_secret') !== CLIENT_SECRET
      ) {
        sendJson(res, 401, { error: 'invalid_client' });
        return;
      }
      const token = `token-${issued.length + 1}`;
      issued.push(token);
      valid.add(token);
      sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn });
      return;
    }
    const token = request.headers.authorization?.replace(/^Bearer /, '') ?? '';
    if (target.refuseAll || !valid.has(token)) {
      sendJson(res, 401, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '401',
        detail: 'bad token',
      });
      return;
    }
    sendJson(res, 200, EMPTY_LIST_RESPONSE);
  });
  cleanups.push(() => stub.close());
  return { stub, issued, valid, target };
}

function oauthClient(setup: Setup, extra: { clock?: () => number; events?: ScimClientEvent[]; secret?: string } = {}) {
  const client = createScimClient({
    baseUrl: `${setup.stub.origin}/scim`,
    auth: {
      type: 'oauth',
      tokenUrl: `${setup.stub.origin}/token`,
      clientId: CLIENT_ID,
      clientSecret: extra.secret ?? CLIENT_SECRET,
      scope: 'scim',
    },
    allowInsecureLoopback: true,
    requestsPerSecond: 1000,
    clock: extra.clock,
    logger: (event) => extra.events?.push(event),
  });
  cleanups.push(() => client.close());
  return client;
}

const scimRequests = (setup: Setup) => setup.stub.requests.filter((request) => request.url.startsWith('/scim'));

describe('OAuth client credentials', () => {
  it('fetches one token and reuses it for every request while it is valid', async () => {
    const setup = await oauthTarget(3600);
    const client = oauthClient(setup);
    await Promise.all(Array.from({ length: 6 }, (_, n) => client.findBy('Users', 'userName', `u${n}`)));
    expect(setup.issued).toEqual(['token-1']);
    expect(scimRequests(setup).every((request) => request.headers.authorization === 'Bearer token-1')).toBe(true);
    expect(client.stats().tokenRequests).toBe(1);
  });

  it('fetches a new token before the old one expires', async () => {
    const setup = await oauthTarget(600);
    let now = Date.now();
    const client = oauthClient(setup, { clock: () => now });
    await client.list('Users', { filter: 'userName eq "a"' });
    now += 540_001; // 60 s before expiry: still valid at the target, but too close to use
    await client.list('Users', { filter: 'userName eq "b"' });
    expect(setup.issued).toEqual(['token-1', 'token-2']);
    expect(scimRequests(setup).map((request) => request.headers.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-2',
    ]);
  });

  it('refreshes the token once when the target answers 401, then carries on', async () => {
    const setup = await oauthTarget(3600);
    const client = oauthClient(setup);
    await client.list('Users');
    setup.valid.delete('token-1'); // revoked at the target
    await client.list('Users');
    expect(setup.issued).toEqual(['token-1', 'token-2']);
  });

  it('gives up with an Unauthorized configuration error when a fresh token is refused as well', async () => {
    const setup = await oauthTarget(3600);
    const client = oauthClient(setup);
    await client.list('Users');
    setup.target.refuseAll = true;
    const error = await client.list('Users').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('Unauthorized');
    expect(setup.issued).toHaveLength(2);
  });

  it('reports wrong client credentials as Unauthorized without retrying', async () => {
    const setup = await oauthTarget(3600);
    const client = oauthClient(setup, { secret: 'wrong' });
    const error = await client.list('Users').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('Unauthorized');
    expect(scimRequests(setup)).toHaveLength(0);
  });

  it('never hands the client secret or a token to the logger or into error messages', async () => {
    const setup = await oauthTarget(3600);
    const events: ScimClientEvent[] = [];
    const client = oauthClient(setup, { events });
    await client.list('Users');
    setup.valid.clear();
    const error = await client.get('Users', 'x').catch((caught: unknown) => caught);
    const text = JSON.stringify(events) + String(error) + JSON.stringify(error);
    expect(events.length).toBeGreaterThan(0);
    for (const secret of [CLIENT_SECRET, ...setup.issued]) expect(text).not.toContain(secret);
  });
});
