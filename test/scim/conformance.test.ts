// The operations of Microsoft's SCIM validator, run by the client against two SCIM servers written
// by others, in each compatibility profile the server supports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../engine/errors.ts';
import {
  type CompatibilityProfile,
  SCIM_ENTERPRISE_USER_SCHEMA,
  SCIM_GROUP_SCHEMA,
  SCIM_USER_SCHEMA,
  type ScimResource,
} from '../../engine/types.ts';
import { createScimClient, type ScimClient } from '../../scim/index.ts';
import { GROUPTALK_USER_SCHEMA, type ScimPeer, startBetterAuthPeer, startScimmyPeer } from '../support/scim-peers.ts';

interface Setup {
  peer: string;
  profile: CompatibilityProfile;
  start: () => Promise<ScimPeer>;
  /** The peer serves custom extension schemas (GroupTalk); better-auth has none. */
  extensions: boolean;
}

const setups: Setup[] = [
  { peer: 'scimmy', profile: 'strict', start: () => startScimmyPeer(), extensions: true },
  // Apps built against Entra's 2017 behaviour accept "True"/"False"; plain scimmy rejects them.
  {
    peer: 'scimmy',
    profile: 'entra-2017',
    start: () => startScimmyPeer({ entra2017Booleans: true }),
    extensions: true,
  },
  { peer: 'scimmy', profile: 'put-only', start: () => startScimmyPeer(), extensions: true },
  { peer: 'better-auth', profile: 'strict', start: () => startBetterAuthPeer(), extensions: false },
  { peer: 'better-auth', profile: 'entra-2017', start: () => startBetterAuthPeer(), extensions: false },
  { peer: 'better-auth', profile: 'put-only', start: () => startBetterAuthPeer(), extensions: false },
];

function user(userName: string, extra: Record<string, unknown> = {}): ScimResource {
  return {
    schemas: [SCIM_USER_SCHEMA],
    userName,
    active: true,
    displayName: `Display ${userName}`,
    name: { givenName: 'Given', familyName: 'Family' },
    emails: [{ value: `${userName.replace(/[^a-z0-9]/gi, '')}@example.com`, type: 'work', primary: true }],
    ...extra,
  };
}

const group = (displayName: string): ScimResource => ({ schemas: [SCIM_GROUP_SCHEMA], displayName });

const memberIds = (resource: ScimResource) =>
  ((resource.members as Array<{ value: string }> | undefined) ?? []).map((m) => m.value).sort();

describe.each(setups)('SCIM validator operations: $peer, $profile profile', ({ profile, start }) => {
  let peer: ScimPeer;
  let client: ScimClient;

  beforeAll(async () => {
    peer = await start();
    client = createScimClient({
      baseUrl: peer.baseUrl,
      auth: { type: 'bearer', token: peer.token },
      profile,
      allowInsecureLoopback: true,
      requestsPerSecond: 1000,
      concurrency: 4,
    });
  });

  afterAll(async () => {
    await client?.close();
    await peer?.close();
  });

  it('creates a user and reads it back by id and by userName', async () => {
    const created = await client.create('Users', user('create.me'));
    expect(created.id).toBeTruthy();
    expect((await client.get('Users', created.id as string)).userName).toBe('create.me');
    const found = await client.findBy('Users', 'userName', 'create.me');
    expect(found.map((r) => r.id)).toEqual([created.id]);
  });

  it('updates a user: display name, given name and work e-mail', async () => {
    const created = await client.create('Users', user('update.me'));
    await client.patch('Users', created.id as string, [
      { op: 'replace', path: 'displayName', value: 'Updated Name' },
      { op: 'replace', path: 'name.givenName', value: 'Updated' },
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'updated@example.com' },
    ]);
    const read = await client.get('Users', created.id as string);
    expect(read.displayName).toBe('Updated Name');
    expect((read.name as { givenName: string }).givenName).toBe('Updated');
    expect((read.emails as Array<{ value: string; type: string }>).find((e) => e.type === 'work')?.value).toBe(
      'updated@example.com',
    );
  });

  it('disables a user with active=false and restores it with active=true', async () => {
    const created = await client.create('Users', user('disable.me'));
    await client.patch('Users', created.id as string, [{ op: 'replace', path: 'active', value: false }]);
    expect((await client.get('Users', created.id as string)).active).toBe(false);
    await client.patch('Users', created.id as string, [{ op: 'replace', path: 'active', value: true }]);
    expect((await client.get('Users', created.id as string)).active).toBe(true);
  });

  it('deletes a user; a second delete of the same user also succeeds', async () => {
    const created = await client.create('Users', user('delete.me'));
    await client.delete('Users', created.id as string);
    await expect(client.get('Users', created.id as string)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.delete('Users', created.id as string)).resolves.toBeUndefined();
  });

  it('sets and changes the enterprise manager', async () => {
    const bossA = await client.create('Users', user('boss.a'));
    const bossB = await client.create('Users', user('boss.b'));
    const employee = await client.create('Users', user('employee'));
    for (const boss of [bossA, bossB]) {
      await client.patch('Users', employee.id as string, [
        { op: 'replace', path: `${SCIM_ENTERPRISE_USER_SCHEMA}:manager`, value: { value: boss.id } },
      ]);
      const read = await client.get('Users', employee.id as string);
      const enterprise = read[SCIM_ENTERPRISE_USER_SCHEMA] as { manager?: { value?: string } } | undefined;
      expect(enterprise?.manager?.value).toBe(boss.id);
    }
  });

  it('creates, renames and deletes a group', async () => {
    const created = await client.create('Groups', group('Group One'));
    await client.patch('Groups', created.id as string, [
      { op: 'replace', path: 'displayName', value: 'Group Renamed' },
    ]);
    expect((await client.get('Groups', created.id as string)).displayName).toBe('Group Renamed');
    const found = await client.findBy('Groups', 'displayName', 'Group Renamed', { excludedAttributes: ['members'] });
    expect(found.map((r) => r.id)).toEqual([created.id]);
    await client.delete('Groups', created.id as string);
    await expect(client.get('Groups', created.id as string)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('adds and removes group members in chunks', async () => {
    const members = await Promise.all([1, 2, 3, 4, 5].map((n) => client.create('Users', user(`member.${n}`))));
    const ids = members.map((m) => m.id as string);
    const created = await client.create('Groups', group('Members Group'));
    await client.addMembers(created.id as string, ids, 2);
    expect(memberIds(await client.get('Groups', created.id as string))).toEqual([...ids].sort());
    await client.removeMembers(created.id as string, ids.slice(0, 3), 2);
    expect(memberIds(await client.get('Groups', created.id as string))).toEqual(ids.slice(3).sort());
  });

  it('pages through users and groups with count=5 over more than one page', async () => {
    const users = await Promise.all(
      Array.from({ length: 7 }, (_, n) => client.create('Users', user(`page.user.${n}`))),
    );
    const groups = await Promise.all(
      Array.from({ length: 7 }, (_, n) => client.create('Groups', group(`Page Group ${n}`))),
    );
    for (const [type, created] of [
      ['Users', users],
      ['Groups', groups],
    ] as const) {
      const first = await client.list(type, { startIndex: 1, count: 5 });
      expect(first.resources).toHaveLength(5);
      expect(first.totalResults).toBeGreaterThan(5);
      const pages: ScimResource[][] = [];
      for await (const page of client.pages(type, { count: 5 })) pages.push(page);
      expect(pages.length).toBeGreaterThanOrEqual(2);
      const ids = pages.flat().map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(expect.arrayContaining(created.map((r) => r.id)));
      expect(ids).toHaveLength(first.totalResults);
    }
  });

  it('adopts the existing user when a create clashes on userName (409), without a second account', async () => {
    const first = await client.create('Users', user('clash.me'));
    const result = await client.createOrAdopt('Users', user('CLASH.me'), [
      { attribute: 'userName', value: 'CLASH.me' },
    ]);
    expect(result).toMatchObject({ adopted: true, resource: { id: first.id } });
    expect(await client.findBy('Users', 'userName', 'clash.me')).toHaveLength(1);
  });

  it('escapes quotes, backslashes and unicode in userName filters', async () => {
    const names = ['quo"te', 'back\\slash', 'both\\"mixed', 'ünïcødé.名前'];
    const created = await Promise.all(names.map((name) => client.create('Users', user(name))));
    for (const [index, name] of names.entries()) {
      const found = await client.findBy('Users', 'userName', name);
      expect(found.map((r) => r.id)).toEqual([created[index].id]);
      expect(found[0].userName).toBe(name);
    }
  });
});

describe.each(setups)('Wire shape: $peer, $profile profile', ({ profile, start }) => {
  it(
    profile === 'put-only' ? 'changes resources with GET + PUT and never sends PATCH' : 'changes resources with PATCH',
    async () => {
      const peer = await start();
      const client = createScimClient({
        baseUrl: peer.baseUrl,
        auth: { type: 'bearer', token: peer.token },
        profile,
        allowInsecureLoopback: true,
      });
      try {
        const created = await client.create('Users', user('wire.shape'));
        await client.patch('Users', created.id as string, [{ op: 'replace', path: 'active', value: false }]);
        expect((await client.get('Users', created.id as string)).active).toBe(false);
        const methods = peer.requestLog.map((entry) => entry.method);
        if (profile === 'put-only') {
          expect(methods).not.toContain('PATCH');
          expect(methods).toContain('PUT');
        } else {
          expect(methods).toContain('PATCH');
          expect(methods).not.toContain('PUT');
        }
      } finally {
        await client.close();
        await peer.close();
      }
    },
  );
});

describe.each(setups.filter((setup) => setup.extensions))(
  'Custom extension schemas: $peer, $profile profile',
  ({ profile, start }) => {
    let peer: ScimPeer;
    let client: ScimClient;

    beforeAll(async () => {
      peer = await start();
      client = createScimClient({
        baseUrl: peer.baseUrl,
        auth: { type: 'bearer', token: peer.token },
        profile,
        allowInsecureLoopback: true,
      });
    });

    afterAll(async () => {
      await client?.close();
      await peer?.close();
    });

    it('writes and filters on custom extension attributes (GroupTalk label1)', async () => {
      const created = await client.create('Users', {
        ...user('labelled'),
        schemas: [SCIM_USER_SCHEMA, GROUPTALK_USER_SCHEMA],
        [GROUPTALK_USER_SCHEMA]: { label1: 'Blue', costCenter: 'CC-1' },
      });
      await client.patch('Users', created.id as string, [
        { op: 'replace', path: `${GROUPTALK_USER_SCHEMA}:label1`, value: 'Green' },
      ]);
      const read = await client.get('Users', created.id as string);
      expect((read[GROUPTALK_USER_SCHEMA] as { label1: string }).label1).toBe('Green');
      const found = await client.findBy('Users', `${GROUPTALK_USER_SCHEMA}:label1`, 'green');
      expect(found.map((r) => r.id)).toEqual([created.id]);
    });
  },
);
