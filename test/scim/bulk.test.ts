// /Bulk is used only when the app enables it and the target advertises it.
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../engine/errors.ts';
import { SCIM_USER_SCHEMA } from '../../engine/types.ts';
import { createScimClient } from '../../scim/index.ts';
import { type ScimPeer, startBetterAuthPeer, startScimmyPeer } from '../support/scim-peers.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup(start: () => Promise<ScimPeer>, bulk: boolean) {
  const peer = await start();
  const client = createScimClient({
    baseUrl: peer.baseUrl,
    auth: { type: 'bearer', token: peer.token },
    allowInsecureLoopback: true,
    bulk,
  });
  cleanups.push(
    () => peer.close(),
    () => client.close(),
  );
  return { peer, client };
}

describe('bulk', () => {
  it('creates and updates users in one /Bulk request on a target that supports it', async () => {
    const { peer, client } = await setup(() => startScimmyPeer(), true);
    const existing = await client.create('Users', {
      schemas: [SCIM_USER_SCHEMA],
      userName: 'bulk.existing',
      active: true,
    });
    const results = await client.bulk([
      { method: 'POST', path: '/Users', bulkId: 'b1', data: { schemas: [SCIM_USER_SCHEMA], userName: 'bulk.one' } },
      { method: 'POST', path: '/Users', bulkId: 'b2', data: { schemas: [SCIM_USER_SCHEMA], userName: 'bulk.two' } },
      { method: 'PATCH', path: `/Users/${existing.id}`, data: [{ op: 'replace', path: 'active', value: false }] },
    ]);
    expect(results.map((result) => result.status)).toEqual([201, 201, 200]);
    expect(peer.requestLog.filter((entry) => entry.path.endsWith('/Bulk'))).toHaveLength(1);
    const users = await peer.users();
    expect(users.map((u) => u.userName).sort()).toEqual(['bulk.existing', 'bulk.one', 'bulk.two']);
    expect(users.find((u) => u.userName === 'bulk.existing')?.active).toBe(false);
  });

  it('refuses bulk when the app has not enabled it', async () => {
    const { client } = await setup(() => startScimmyPeer(), false);
    await expect(client.bulk([{ method: 'DELETE', path: '/Users/x' }])).rejects.toBeInstanceOf(ConfigurationError);
  });

  it('refuses bulk when the target does not advertise it (better-auth)', async () => {
    const { peer, client } = await setup(() => startBetterAuthPeer(), true);
    await expect(client.bulk([{ method: 'DELETE', path: '/Users/x' }])).rejects.toBeInstanceOf(ConfigurationError);
    expect(peer.requestLog.filter((entry) => entry.path.endsWith('/Bulk'))).toHaveLength(0);
  });
});
