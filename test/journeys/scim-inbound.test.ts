// Journey: an identity provider pushes people into Ferry over SCIM inbound, and an app provisions
// them to its target. One `npm start` on a fresh Postgres database; the identity provider is
// Ferry's own SCIM client pointed at the scim source's scimUrl with its token; the target is the
// scimmy peer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScimClient, type ScimClient } from '../../scim/client.ts';
import type { ScimResource } from '../../engine/types.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { createApp, startProvisioning, startFerryOnPostgres, type FerryApi } from './harness.ts';
import { usersByName } from './targets.ts';

let closeFerry: (() => Promise<void>) | undefined;
let peer: ScimPeer;
let api: FerryApi;
let idp: ScimClient | undefined;

beforeAll(async () => {
  peer = await startScimmyPeer();
  ({ api, close: closeFerry } = await startFerryOnPostgres('scim-inbound'));
});
afterAll(async () => {
  await idp?.close();
  await closeFerry?.();
  await peer?.close();
});

describe('an identity provider pushes people to Ferry over SCIM (npm start on Postgres)', () => {
  it('a user created, renamed and disabled over SCIM inbound is provisioned, renamed and disabled in an app', async () => {
    const source = await api.ok('POST', '/sources', { type: 'scim', name: 'Entra ID' });
    expect(source.scimUrl).toBe(`${api.url}/scim/v2`);
    idp = createScimClient({
      baseUrl: source.scimUrl,
      auth: { type: 'bearer', token: source.token },
      allowInsecureLoopback: true,
    });
    const pushed = await idp.create('Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'ada@inbound.example',
      externalId: 'entra-ada',
      active: true,
      displayName: 'Ada Lovelace',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: 'ada@inbound.example', type: 'work', primary: true }],
    } as ScimResource);

    const appId = await createApp(api, { url: peer.baseUrl, token: peer.token }, { settings: { scope: 'assigned' } });
    await api.ok('POST', `/apps/${appId}/assignments`, { principalId: pushed.id });
    expect((await startProvisioning(api, appId)).status).toBe('succeeded');
    const account = async () => (await usersByName(peer)).get('ada@inbound.example');
    expect(await account()).toMatchObject({ active: true, displayName: 'Ada Lovelace' });

    // Entra ID's way: capitalised ops, a boolean as a string.
    const patch = async (operations: unknown[]) => {
      const answer = await fetch(`${source.scimUrl}/Users/${pushed.id}`, {
        method: 'PATCH',
        headers: { Authorization: `Bearer ${source.token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations }),
      });
      expect(answer.status).toBe(200);
    };
    await patch([{ op: 'Replace', path: 'displayName', value: 'Ada King' }]);
    expect((await api.runCycle(appId)).status).toBe('succeeded');
    expect(await account()).toMatchObject({ active: true, displayName: 'Ada King' });

    await patch([{ op: 'Replace', path: 'active', value: 'False' }]);
    expect((await api.runCycle(appId)).status).toBe('succeeded');
    expect((await account())?.active).toBe(false);
  });
});
