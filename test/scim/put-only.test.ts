// Under the `put-only` profile (targets without PATCH) every change is the PUT of the whole
// resource: attribute updates, group member chunks and the PATCH operations of a /Bulk request.
import { afterEach, describe, expect, it } from 'vitest';
import { SCIM_GROUP_SCHEMA, SCIM_USER_SCHEMA, type ScimResource } from '../../engine/types.ts';
import { createScimClient } from '../../scim/index.ts';
import { startScimmyPeer } from '../support/scim-peers.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup() {
  // The peer refuses PATCH, as a PUT-only target does: any PatchOp sent would fail the test.
  const peer = await startScimmyPeer({ putOnly: true });
  const client = createScimClient({
    baseUrl: peer.baseUrl,
    auth: { type: 'bearer', token: peer.token },
    profile: 'put-only',
    allowInsecureLoopback: true,
    bulk: true,
  });
  cleanups.push(
    () => peer.close(),
    () => client.close(),
  );
  const users: string[] = [];
  for (let i = 0; i < 5; i++) {
    users.push((await client.create('Users', { schemas: [SCIM_USER_SCHEMA], userName: `put.${i}` })).id as string);
  }
  return { peer, client, users };
}

const memberValues = (group: ScimResource) =>
  ((group.members as { value: string }[] | undefined) ?? []).map((m) => m.value).sort();

describe('put-only profile', () => {
  it('adds and removes group members in chunks with one GET + PUT of the group each, never a PATCH', async () => {
    const { peer, client, users } = await setup();
    const group = await client.create('Groups', { schemas: [SCIM_GROUP_SCHEMA], displayName: 'Put only' });
    const groupPath = `/Groups/${group.id as string}`;
    const before = peer.requestLog.length;

    await client.addMembers(group.id as string, users, 2);
    await client.removeMembers(group.id as string, users.slice(0, 3), 2);

    expect(memberValues(await client.get('Groups', group.id as string))).toEqual(users.slice(3).sort());
    const writes = peer.requestLog.slice(before).filter((r) => r.path.endsWith(groupPath));
    // Chunks exist to bound a PatchOp; a PUT carries the whole list anyway, so one read and one write per call.
    expect(writes.map((r) => r.method)).toEqual(['GET', 'PUT', 'GET', 'PUT', 'GET']);
    expect(peer.requestLog.some((r) => r.method === 'PATCH' || r.status === 405)).toBe(false);
  });

  it('sends the PATCH operations of a bulk request as PUTs of the whole resource', async () => {
    const { peer, client, users } = await setup();
    const results = await client.bulk([
      { method: 'PATCH', path: `/Users/${users[0]}`, data: [{ op: 'replace', path: 'active', value: false }] },
      { method: 'PATCH', path: `/Users/${users[1]}`, data: [{ op: 'add', path: 'displayName', value: 'Put One' }] },
      { method: 'POST', path: '/Users', bulkId: 'n', data: { schemas: [SCIM_USER_SCHEMA], userName: 'put.new' } },
    ]);

    expect(results.map((r) => [r.method, r.status])).toEqual([
      ['PUT', 200],
      ['PUT', 200],
      ['POST', 201],
    ]);
    const stored = new Map((await peer.users()).map((u) => [u.id, u]));
    expect(stored.get(users[0])?.active).toBe(false);
    expect(stored.get(users[0])?.userName).toBe('put.0');
    expect(stored.get(users[1])?.displayName).toBe('Put One');
    expect([...stored.values()].some((u) => u.userName === 'put.new')).toBe(true);
    expect(peer.requestLog.some((r) => r.status === 405)).toBe(false);
  });
});
