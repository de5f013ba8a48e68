// The worker decides where apps connect from its environment alone: an app's own stored
// `allowInsecureLoopback` (which an API key could once set) no longer opens loopback, and a
// target name that resolves to a refused address is a configuration failure with nothing sent.
import type { LookupAddress } from 'node:dns';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseNetwork, type Resolver } from '../../scim/index.ts';
import { appConfig, groupId, upn, userId } from '../provisioning/fixtures.ts';
import { openActivityTestbed, type ActivityTestbed } from './helpers.ts';
import type { ActivityDeps } from '../../activities/index.ts';

const resolveTo =
  (address: string): Resolver =>
  (_hostname, _options, callback) =>
    setImmediate(() => callback(null, [{ address, family: 4 } satisfies LookupAddress]));

describe("the worker's outbound address policy", () => {
  let bed: ActivityTestbed | null = null;
  let listener: Server | null = null;
  afterEach(async () => {
    await bed?.close();
    bed = null;
    await new Promise<void>((resolve) => (listener ? listener.close(() => resolve()) : resolve()));
    listener = null;
  });

  async function open(deps: Omit<Partial<ActivityDeps>, 'store'>) {
    bed = await openActivityTestbed('policy', { deps });
    await bed.store.directory.createGroup({ id: groupId(1), displayName: 'Everyone' });
    await bed.store.directory.createUser({ id: userId(1), userPrincipalName: upn(1), displayName: 'User 1' });
    await bed.store.directory.addMember(groupId(1), userId(1));
    return bed;
  }

  async function storeApp(url: string, extra: Record<string, unknown> = {}) {
    const { auth: _auth, ...configuration } = appConfig(url);
    const app = await bed!.store.apps.create({
      name: 'Test app',
      template: 'generic-scim',
      configuration: { ...configuration, auth: { type: 'bearer' }, ...extra },
      secrets: { token: bed!.peer.token },
      provisioningEnabled: true,
    });
    await bed!.store.assignments.assign(app.id, groupId(1), 'User');
    return app.id;
  }

  it("ignores an app's own allowInsecureLoopback: without FERRY_ALLOW_INSECURE_LOOPBACK nothing reaches its loopback target", async () => {
    const { peer, handle } = await open({ allowInsecureLoopback: false });
    const appId = await storeApp(peer.baseUrl, { allowInsecureLoopback: true });
    expect(await handle.activities.checkTarget({ appId })).toMatchObject({ kind: 'configuration' });
    expect(peer.requestLog).toHaveLength(0);
  });

  it('refuses a target whose name resolves to a private address, as a configuration failure', async () => {
    const { handle } = await open({ allowInsecureLoopback: false, resolve: resolveTo('10.0.0.7') });
    const appId = await storeApp('https://scim.example.test/scim/v2');
    expect(await handle.activities.checkTarget({ appId })).toEqual({
      kind: 'configuration',
      code: 'AddressNotAllowed',
      message: expect.stringMatching(/^Ferry does not connect to scim\.example\.test: .*FERRY_ALLOWED_TARGET_NETWORKS/),
    });
  });

  it('connects to an address in FERRY_ALLOWED_TARGET_NETWORKS', async () => {
    let connections = 0;
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener!.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    const { handle } = await open({
      allowInsecureLoopback: false,
      allowedTargetNetworks: [parseNetwork('127.0.0.1/32')],
      resolve: resolveTo('127.0.0.1'),
    });
    const appId = await storeApp(`https://scim.example.test:${port}/scim/v2`);
    expect(await handle.activities.checkTarget({ appId })).toMatchObject({ kind: 'transient' });
    expect(connections).toBeGreaterThanOrEqual(1);
  });
});
