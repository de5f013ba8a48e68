// An app's connector limitations, set over the API, applied by a cycle: iPass SmartConnect accepts
// only user names in its registered domains, so the others are skipped before any request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The API first: it extends zod with .openapi() before the engine's schemas are built.
import { read, send, storeApp } from '../api/routes/helpers.ts';
import { createFerryActivities, type FerryActivityHandle } from '../../activities/index.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { runCycleDirect } from './helpers.ts';

describe('connector limitations', () => {
  let ctx: Awaited<ReturnType<typeof storeApp>>;
  let peer: ScimPeer;
  let handle: FerryActivityHandle;

  beforeAll(async () => {
    ctx = await storeApp({ allowInsecureLoopback: true }); // the peer listens on loopback
    peer = await startScimmyPeer();
    handle = createFerryActivities({ store: ctx.store, allowInsecureLoopback: true });
  });
  afterAll(async () => {
    await handle?.close();
    await peer?.close();
    await ctx?.close();
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await ctx.app.request(`/api/v1${path}`, send(method, body));
    return { status: res.status, body: res.status === 204 ? null : await read(res) };
  };

  it('a user outside the registered domains is skipped with the reason, and no request for it reaches the target', async () => {
    const created = await api('POST', '/apps', {
      name: 'iPass for Contoso',
      template: 'ipass-smartconnect',
      target: { url: peer.baseUrl, token: peer.token },
      settings: { allowInsecureLoopback: true, scope: 'all' },
      connectorLimitations: { allowedUsernameDomains: ['contoso.com'] },
    });
    expect(created.status).toBe(201);
    expect(created.body.connectorLimitations).toEqual({ allowedUsernameDomains: ['contoso.com'] });
    const appId: string = created.body.id;
    await api('POST', '/directory/users', {
      id: 'cl-in',
      userPrincipalName: 'inside@contoso.com',
      mail: 'inside@contoso.com',
    });
    await api('POST', '/directory/users', {
      id: 'cl-out',
      userPrincipalName: 'outside@fabrikam.com',
      mail: 'outside@fabrikam.com',
    });

    const summary = await runCycleDirect(handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
    });
    expect(summary.status).toBe('succeeded');
    expect((await peer.users()).map((u) => u.userName)).toEqual(['inside@contoso.com']);
    expect(peer.requestLog.filter((r) => r.path.includes('fabrikam'))).toEqual([]);
    const [entry] = (await ctx.store.logs.query({ appId, objectId: 'cl-out', limit: 10 })).items;
    expect(entry).toMatchObject({ action: 'Skip', errorCode: 'InvalidDomain' });
    expect(entry.errorMessage).toContain('registered domain (contoso.com)');
  });
});
