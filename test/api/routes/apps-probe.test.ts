// Capability probing through the API against third-party SCIM peers (scimmy, @better-auth/scim):
// what the probe reports is what each peer really does, a writes probe leaves no user behind, the
// result is kept and read back, a failed connection stops it, and only an operator may run it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { read, send, storeApp } from './helpers.ts';
import { API_KEY } from '../helpers.ts';
import { startBetterAuthPeer, startScimmyPeer, type ScimPeer } from '../../support/scim-peers.ts';

let ctx: Awaited<ReturnType<typeof storeApp>>;
const peers: ScimPeer[] = [];

beforeAll(async () => {
  ctx = await storeApp({ allowInsecureLoopback: true });
});
afterAll(async () => {
  for (const peer of peers) await peer.close();
  await ctx.close();
});

const req = (path: string, init?: RequestInit) => ctx.app.request(`/api/v1${path}`, init);
const as = (key: string) => ({ Authorization: `Bearer ${key}` });

/** A peer holding two users (so paging can be told apart), and an app on it. */
async function appOn(peer: ScimPeer, token = peer.token): Promise<string> {
  peers.push(peer);
  for (const name of ['ada', 'grace']) {
    const res = await fetch(`${peer.baseUrl}/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${peer.token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: `${name}@contoso.com`,
        active: true,
        name: { givenName: name, familyName: 'Test' },
      }),
    });
    expect(res.status).toBe(201);
  }
  const res = await req(
    '/apps',
    send('POST', {
      name: `Probed ${peers.length}`,
      template: 'generic-scim',
      target: { url: peer.baseUrl, token },
      settings: { allowInsecureLoopback: true },
    }),
  );
  expect(res.status).toBe(201);
  return (await read(res)).id as string;
}

const probe = (appId: string, body?: unknown, key = API_KEY) =>
  req(`/apps/${appId}/probe`, send('POST', body, as(key)));

/** The peer's own /ServiceProviderConfig, read directly. */
async function spcOf(peer: ScimPeer) {
  const res = await fetch(`${peer.baseUrl}/ServiceProviderConfig`, {
    headers: { Authorization: `Bearer ${peer.token}` },
  });
  return (await res.json()) as {
    patch: { supported: boolean };
    bulk: { supported: boolean; maxOperations: number; maxPayloadSize: number };
    filter: { supported: boolean; maxResults: number };
    sort: { supported: boolean };
    etag: { supported: boolean };
  };
}

const outcomes = (result: { checks: { id: string; outcome: string }[] }) =>
  Object.fromEntries(result.checks.map((c) => [c.id, c.outcome]));

const WRITES = ['POST', 'PUT', 'PATCH', 'DELETE'];

describe('capability probe: scimmy', () => {
  let peer: ScimPeer;
  let appId: string;
  beforeAll(async () => {
    peer = await startScimmyPeer();
    appId = await appOn(peer);
  });

  it('answers 404 with a clear message before the first probe', async () => {
    const res = await req(`/apps/${appId}/probe`, send('GET'));
    expect(res.status).toBe(404);
    expect((await read(res)).error.message).toBe(
      `App ${appId} has not been probed yet: POST /api/v1/apps/${appId}/probe`,
    );
    expect((await req('/apps/no-such-app/probe', send('GET'))).status).toBe(404);
  });

  it('reads what the target advertises and does, writes nothing, and suggests strict from what it says', async () => {
    const writesBefore = peer.requestLog.filter((r) => WRITES.includes(r.method)).length;
    const res = await probe(appId);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(peer.token);
    const body = JSON.parse(text);
    expect(peer.requestLog.filter((r) => WRITES.includes(r.method)).length).toBe(writesBefore);
    const spc = await spcOf(peer);
    expect(body).toMatchObject({ appId, writes: false, probedBy: 'FERRY_API_KEYS #1' });
    expect(body.result.connection).toEqual({ ok: true });
    expect(body.result.advertised).toEqual({
      patch: spc.patch.supported,
      bulk: {
        supported: spc.bulk.supported,
        maxOperations: spc.bulk.maxOperations,
        maxPayloadSize: spc.bulk.maxPayloadSize,
      },
      filter: { supported: spc.filter.supported, maxResults: spc.filter.maxResults },
      etag: spc.etag.supported,
      sort: spc.sort.supported,
    });
    expect(outcomes(body.result)).toEqual({
      'filter:userName': 'supported',
      paging: 'supported',
      activeBoolean: 'supported',
    });
    expect(body.result.cleanup).toBeNull();
    expect(body.result.suggestion).toMatchObject({ profile: 'strict', basis: 'advertised' });
    // Kept: GET answers the same probe.
    expect(await read(await req(`/apps/${appId}/probe`, send('GET')))).toEqual(body);
  });

  it('with writes: standard and value-path PATCH and PUT work, the string "False" is refused, and no user is left', async () => {
    const res = await probe(appId, { writes: true });
    expect(res.status).toBe(200);
    const body = await read(res);
    expect(outcomes(body.result)).toEqual({
      create: 'supported',
      'filter:userName': 'supported',
      paging: 'supported',
      activeBoolean: 'supported',
      patch: 'supported',
      patchValuePath: 'supported',
      patchCapitalisedOp: 'supported',
      // scimmy validates types: "False" is not a boolean (400 invalidValue).
      patchStringBoolean: 'unsupported',
      put: 'supported',
      delete: 'supported',
    });
    expect(body.result.suggestion).toMatchObject({ profile: 'strict', basis: 'tested' });
    expect(body.result.cleanup).toMatchObject({ deleted: true });
    expect(body.result.cleanup.userName).toMatch(/^ferry-probe-[0-9a-f]+@example\.invalid$/);
    expect((await peer.users()).map((u) => u.userName).sort()).toEqual(['ada@contoso.com', 'grace@contoso.com']);
    // The newest probe replaces the one before.
    expect((await read(await req(`/apps/${appId}/probe`, send('GET')))).writes).toBe(true);
  });
});

describe('capability probe: other targets', () => {
  it('@better-auth/scim: no Bulk and no sort as it says, PATCH works, strict, no user left', async () => {
    const peer = await startBetterAuthPeer();
    const appId = await appOn(peer);
    const body = await read(await probe(appId, { writes: true }));
    const spc = await spcOf(peer);
    expect(body.result.advertised).toMatchObject({
      patch: spc.patch.supported,
      bulk: { supported: false },
      sort: false,
      filter: { supported: true, maxResults: spc.filter.maxResults },
    });
    expect(outcomes(body.result)).toMatchObject({
      create: 'supported',
      'filter:userName': 'supported',
      patch: 'supported',
      patchValuePath: 'supported',
      // Unlike scimmy, @better-auth/scim takes the string "False" for active.
      patchStringBoolean: 'supported',
      put: 'supported',
      delete: 'supported',
    });
    expect(body.result.suggestion).toMatchObject({ profile: 'strict', basis: 'tested' });
    expect((await peer.users()).map((u) => u.userName).sort()).toEqual(['ada@contoso.com', 'grace@contoso.com']);
  });

  it('a target answering PATCH with 405 gets the put-only suggestion, and the probe user is still deleted', async () => {
    const peer = await startScimmyPeer({ putOnly: true });
    const appId = await appOn(peer);
    const body = await read(await probe(appId, { writes: true }));
    expect(outcomes(body.result)).toMatchObject({
      patch: 'unsupported',
      patchValuePath: 'unsupported',
      put: 'supported',
      delete: 'supported',
    });
    expect(body.result.suggestion).toMatchObject({ profile: 'put-only', basis: 'tested' });
    expect((await peer.users()).map((u) => u.userName).sort()).toEqual(['ada@contoso.com', 'grace@contoso.com']);
    // Only suggested: the app keeps its profile.
    expect((await read(await req(`/apps/${appId}`, send('GET')))).settings.profile).toBe('strict');
  });

  it('stops at a failed test connection, with the reason and without the token', async () => {
    const peer = await startScimmyPeer();
    const wrong = 'tok_wrong_probe_0000000000';
    const appId = await appOn(peer, wrong);
    const res = await probe(appId, { writes: true });
    const text = await res.text();
    expect(text).not.toContain(wrong);
    const body = JSON.parse(text);
    expect(body.result).toMatchObject({
      connection: { ok: false, reason: 'unauthorized' },
      checks: [],
      suggestion: null,
      cleanup: null,
    });
    expect(peer.requestLog.filter((r) => WRITES.includes(r.method)).length).toBe(2); // the two seeded users
  });
});

describe('capability probe: permissions', () => {
  it('a viewer reads the probe but cannot run one; an operator can', async () => {
    const peer = await startScimmyPeer();
    const appId = await appOn(peer);
    const keyOf = async (role: string) => {
      const res = await req('/keys', send('POST', { name: `${role} probe`, role }));
      expect(res.status).toBe(201);
      return (await read(res)).key as string;
    };
    const viewer = await keyOf('viewer');
    const operator = await keyOf('operator');
    const refused = await probe(appId, undefined, viewer);
    expect(refused.status).toBe(403);
    expect((await req(`/apps/${appId}/probe`, send('GET', undefined, as(viewer)))).status).toBe(404);
    const ran = await probe(appId, undefined, operator);
    expect(ran.status).toBe(200);
    expect((await read(ran)).probedBy).toBe('operator probe');
    const seen = await req(`/apps/${appId}/probe`, send('GET', undefined, as(viewer)));
    expect(seen.status).toBe(200);
    expect((await read(seen)).result.suggestion.profile).toBe('strict');
  });
});
