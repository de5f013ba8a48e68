// SCIM inbound end to end: a real HTTP server runs Ferry's API; a `scim` source is created through
// the control API; then Ferry's own SCIM client (the one it uses for targets) and raw Entra-style
// requests push users and groups to /scim/v2. Every answer is also checked against SCIMMY's
// schema definitions (a SCIM library written by others), and every write must reach the
// directory and its change log, owned by the source.
import { sql } from 'drizzle-orm';
import SCIMMY from 'scimmy';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serveApi, type RunningApi } from '../../api/server.ts';
import type { ScimResource } from '../../engine/types.ts';
import { createScimClient, type ScimClient } from '../../scim/client.ts';
import { auth } from '../api/helpers.ts';
import { sourcesApp } from './helpers.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

// SCIMMY checks every attribute's type, mutability and shape when it coerces a resource.
const userSchema = SCIMMY.Schemas.User.definition.extend(SCIMMY.Schemas.EnterpriseUser.definition);
const groupSchema = SCIMMY.Schemas.Group.definition;
const validUser = (r: unknown) => userSchema.coerce(r, 'out');
const validGroup = (r: unknown) => groupSchema.coerce(r, 'out');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads of JSON answers

let ctx: Awaited<ReturnType<typeof sourcesApp>>;
let server: RunningApi;
let token: string;
let scimUrl: string;
let sourceId: string;
let client: ScimClient;

async function scim(method: string, path: string, body?: unknown, bearer = token) {
  const response = await fetch(`${scimUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/scim+json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (text ? JSON.parse(text) : null) as Json,
  };
}

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...auth(), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as Json };
}

const newUser = (userName: string, extra: Json = {}): ScimResource =>
  ({ schemas: [USER], userName, active: true, ...extra }) as ScimResource;

beforeAll(async () => {
  ctx = await sourcesApp();
  server = await serveApi(ctx.app, { port: 0 });
  const created = await api('POST', '/api/v1/sources', { type: 'scim', name: 'Entra ID' });
  expect(created.status).toBe(201);
  ({ token, scimUrl, id: sourceId } = created.body as { token: string; scimUrl: string; id: string });
  client = createScimClient({
    baseUrl: scimUrl,
    auth: { type: 'bearer', token },
    allowInsecureLoopback: true,
    requestsPerSecond: 1000,
  });
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await ctx?.close();
});

describe('a scim source', () => {
  it('answers its token and scimUrl once, keeps only the token’s hash, and rotates it on request', async () => {
    expect(scimUrl).toBe(`${server.url}/scim/v2`);
    expect(token).toMatch(/^fst_[A-Za-z0-9_-]{43}$/);
    const shown = await api('GET', `/api/v1/sources/${sourceId}`);
    expect(shown.body.scimUrl).toBe(scimUrl);
    expect(shown.body.token).toBeUndefined();
    expect(JSON.stringify(await api('GET', '/api/v1/sources'))).not.toContain(token);
    const rows = await ctx.store.db.execute(sql`select token_hash, secret, config::text from sources`);
    expect(JSON.stringify(rows)).not.toContain(token);

    const other = await api('POST', '/api/v1/sources', { type: 'scim', name: 'Okta' });
    const rotated = await api('PATCH', `/api/v1/sources/${other.body.id}`, { rotateToken: true });
    expect(rotated.status).toBe(200);
    expect(rotated.body.token).toMatch(/^fst_/);
    expect((await scim('GET', '/ServiceProviderConfig', undefined, other.body.token)).status).toBe(401);
    expect((await scim('GET', '/ServiceProviderConfig', undefined, rotated.body.token)).status).toBe(200);
    expect((await api('POST', `/api/v1/sources/${other.body.id}/sync`, {})).status).toBe(409);
    const refused = await api('PATCH', `/api/v1/sources/${other.body.id}`, { path: '/etc/passwd' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('path');
  });

  it('refuses a request without a valid token, in SCIM’s error shape', async () => {
    const answer = await scim('GET', '/Users', undefined, 'fst_not-a-token');
    expect(answer.status).toBe(401);
    expect(answer.type).toContain('application/scim+json');
    expect(answer.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
  });

  it('tells clients what it supports: discovery through Ferry’s own SCIM client', async () => {
    const config = await client.discover();
    expect(config.patch).toBe(true);
    expect(config.filter.supported).toBe(true);
    const types = await scim('GET', '/ResourceTypes');
    expect(types.body.Resources.map((r: Json) => r.id)).toEqual(['User', 'Group']);
    const schemas = await scim('GET', '/Schemas');
    expect(schemas.body.Resources.map((r: Json) => r.id)).toContain(ENTERPRISE);
    expect((await scim('GET', `/Schemas/${USER}`)).body.attributes.map((a: Json) => a.name)).toContain('userName');
  });
});

describe('users pushed over SCIM', () => {
  it('creates, reads, finds, replaces and deletes a user; each write reaches the directory and its change log', async () => {
    const before = await ctx.store.changes.latestSeq();
    const created = await client.create(
      'Users',
      newUser('ada@corp.example', {
        externalId: 'entra-ada',
        displayName: 'Ada Lovelace',
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        emails: [{ value: 'ada@corp.example', type: 'work', primary: true }],
        [ENTERPRISE]: { department: 'Engineering', employeeNumber: '1815' },
      }),
    );
    expect(() => validUser(created)).not.toThrow();
    const id = created.id as string;
    expect(id.startsWith(`${sourceId}:`)).toBe(true);
    const stored = await ctx.store.directory.getUser(id);
    expect(stored).toMatchObject({
      userPrincipalName: 'ada@corp.example',
      givenName: 'Ada',
      department: 'Engineering',
    });
    expect((await ctx.store.sources.owners('user', [id])).get(id)).toEqual({ sourceId, ref: 'entra-ada' });

    const found = await client.findBy('Users', 'userName', 'ADA@corp.example');
    expect(found.map((r) => r.id)).toEqual([id]);
    expect((await client.get('Users', id)).externalId).toBe('entra-ada');

    const replaced = await client.replace('Users', id, newUser('ada@corp.example', { displayName: 'Countess Ada' }));
    expect(replaced.displayName).toBe('Countess Ada');
    expect((await ctx.store.directory.getUser(id))?.department).toBeNull();

    await client.delete('Users', id);
    expect((await ctx.store.directory.getUser(id))?.deletedDateTime).not.toBeNull();
    expect((await scim('GET', `/Users/${id}`)).status).toBe(404);
    const changes = await ctx.store.changes.changesSince(before, 1000);
    expect(changes.filter((c) => c.objectId === id).map((c) => c.op)).toEqual(['upsert', 'upsert', 'softDelete']);
  });

  it('applies PATCH with Entra ID’s quirks: capitalised ops, "False" strings, path-less replace, a bare manager id', async () => {
    const boss = await client.create('Users', newUser('boss@corp.example'));
    const user = await client.create('Users', newUser('grace@corp.example', { externalId: 'entra-grace' }));
    const answer = await scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'active', value: 'False' },
        { op: 'Add', path: 'emails[type eq "work"].value', value: 'grace@corp.example' },
        { op: 'Replace', value: { displayName: 'Grace Hopper', 'name.familyName': 'Hopper' } },
        { op: 'Add', path: `${ENTERPRISE}:manager`, value: boss.id },
        { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Navy' },
      ],
    });
    expect(answer.status).toBe(200);
    expect(() => validUser(answer.body)).not.toThrow();
    expect(await ctx.store.directory.getUser(user.id as string)).toMatchObject({
      accountEnabled: false,
      mail: 'grace@corp.example',
      displayName: 'Grace Hopper',
      surname: 'Hopper',
      managerId: boss.id,
      department: 'Navy',
    });
    const back = await scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'replace', value: { active: 'True' } },
        { op: 'remove', path: `${ENTERPRISE}:manager` },
      ],
    });
    expect(back.body.active).toBe(true);
    expect((await ctx.store.directory.getUser(user.id as string))?.managerId).toBeNull();
  });

  it('brings a deleted user back when the identity provider creates the same userName again', async () => {
    const first = await client.create('Users', newUser('linus@corp.example'));
    await client.delete('Users', first.id as string);
    const again = await client.create('Users', newUser('linus@corp.example', { displayName: 'Linus' }));
    expect(again.id).toBe(first.id);
    expect((await ctx.store.directory.getUser(first.id as string))?.deletedDateTime).toBeNull();
  });

  it('brings back a user it deleted that an HR export also provides: the identity provider finds it and creates it again', async () => {
    const hr = await ctx.call('POST', '/api/v1/sources', {
      type: 'csv',
      name: 'HR for rejoin',
      origin: 'upload',
      joinOn: 'userPrincipalName',
      precedence: 10,
      columns: { id: 'emp', userPrincipalName: 'email', jobTitle: 'title' },
    });
    expect(hr.status, hr.text).toBe(201);
    const first = await client.create('Users', newUser('rejoin@corp.example', { displayName: 'Re Join' }));
    const uploaded = await ctx.upload(hr.body!.id as string, 'emp,email,title\ne-rejoin,rejoin@corp.example,Engineer');
    expect(uploaded.status).toBe(202);
    expect((await ctx.store.directory.getUser(first.id as string))?.jobTitle).toBe('Engineer');

    // Unassigned in the identity provider: HR still provides the person, who stays, without the IdP's name.
    await client.delete('Users', first.id as string);
    const kept = await ctx.store.directory.getUser(first.id as string);
    expect(kept).toMatchObject({ deletedDateTime: null, displayName: null, jobTitle: 'Engineer' });

    // Assigned again: the identity provider looks for the userName (Entra's way), then creates it.
    const found = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "rejoin@corp.example"')}`);
    expect(found.body.totalResults).toBe(0);
    const again = await scim('POST', '/Users', newUser('rejoin@corp.example', { displayName: 'Re Join' }));
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body.id).toBe(first.id);
    expect(await ctx.store.directory.getUser(first.id as string)).toMatchObject({
      displayName: 'Re Join',
      jobTitle: 'Engineer',
    });
    const refound = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "rejoin@corp.example"')}`);
    expect(refound.body.Resources.map((r: Json) => r.id)).toEqual([first.id]);
    expect((await scim('GET', `/Users/${first.id}`)).status).toBe(200);
  });

  it('filters with eq, co, sw, and, or, and pages with startIndex and count', async () => {
    for (const n of [1, 2, 3, 4, 5]) {
      await client.create('Users', newUser(`pager${n}@list.example`, { title: n % 2 ? 'Odd' : 'Even' }));
    }
    const list = async (query: string) => (await scim('GET', `/Users?${query}`)).body;
    expect((await list(`filter=${encodeURIComponent('userName sw "pager"')}`)).totalResults).toBe(5);
    expect((await list(`filter=${encodeURIComponent('userName co "ager3@"')}`)).Resources[0].userName).toBe(
      'pager3@list.example',
    );
    const odd = await list(`filter=${encodeURIComponent('userName sw "pager" and title eq "odd"')}`);
    expect(odd.totalResults).toBe(3);
    const either = await list(
      `filter=${encodeURIComponent('userName eq "pager1@list.example" or userName eq "pager2@list.example"')}`,
    );
    expect(either.totalResults).toBe(2);
    const page = await list(`filter=${encodeURIComponent('userName sw "pager"')}&startIndex=2&count=2`);
    expect(page).toMatchObject({ totalResults: 5, itemsPerPage: 2, startIndex: 2 });
    expect(() => new SCIMMY.Messages.ListResponse(page as SCIMMY.Messages.ListResponse)).not.toThrow();
    const all = await client.listAll('Users', { filter: 'userName sw "pager"', count: 2 });
    expect(all.map((u) => u.userName).sort()).toEqual([1, 2, 3, 4, 5].map((n) => `pager${n}@list.example`));
    const bad = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.scimType).toBe('invalidFilter');
  });

  it('answers 409 uniqueness for a taken userName and 400 for a resource without one', async () => {
    await ctx.store.directory.createUser({ userPrincipalName: 'api-made@corp.example' });
    const taken = await scim('POST', '/Users', newUser('api-made@corp.example'));
    expect(taken.status).toBe(409);
    expect(taken.body.scimType).toBe('uniqueness');
    const missing = await scim('POST', '/Users', { schemas: [USER], displayName: 'Nobody' });
    expect(missing.status).toBe(400);
    expect(missing.body.detail).toContain('userName');
  });

  it('shows a source only its own objects: another source’s token gets 404', async () => {
    const mine = await client.create('Users', newUser('private@corp.example'));
    const other = await api('POST', '/api/v1/sources', { type: 'scim', name: 'JumpCloud' });
    expect((await scim('GET', `/Users/${mine.id}`, undefined, other.body.token)).status).toBe(404);
    const listed = await scim('GET', '/Users', undefined, other.body.token);
    expect(listed.body.totalResults).toBe(0);
  });
});

describe('groups pushed over SCIM', () => {
  it('creates a group with members and adds and removes members with PATCH, as Entra ID sends them', async () => {
    const a = await client.create('Users', newUser('member-a@corp.example'));
    const b = await client.create('Users', newUser('member-b@corp.example'));
    const c = await client.create('Users', newUser('member-c@corp.example'));
    const group = await client.create('Groups', {
      schemas: [GROUP],
      displayName: 'Engineers',
      externalId: 'entra-engineers',
      members: [{ value: a.id }, { value: b.id }],
    } as ScimResource);
    expect(() => validGroup(group)).not.toThrow();
    const members = async () => (await ctx.store.directory.membersOf(group.id as string)).map((m) => m.memberId).sort();
    expect(await members()).toEqual([a.id, b.id].sort());

    const patched = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Add', path: 'members', value: [{ value: c.id }] },
        { op: 'Remove', path: `members[value eq "${a.id}"]` },
        { op: 'Replace', path: 'displayName', value: 'Engineering' },
      ],
    });
    expect(patched.body.detail).toBeUndefined();
    expect(patched.status).toBe(200);
    expect(await members()).toEqual([b.id, c.id].sort());
    expect((await ctx.store.directory.getGroup(group.id as string))?.displayName).toBe('Engineering');

    await client.removeMembers(group.id as string, [b.id as string]);
    await client.addMembers(group.id as string, [a.id as string]);
    expect(await members()).toEqual([a.id, c.id].sort());

    const slim = await scim('GET', `/Groups/${group.id}?excludedAttributes=members`);
    expect(slim.body.members).toBeUndefined();
    const byName = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "engineering"')}`);
    expect(byName.body.Resources.map((g: Json) => g.id)).toEqual([group.id]);

    const unknown = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: 'not-a-user' }] }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.detail).toContain('not-a-user');
    await client.delete('Groups', group.id as string);
    expect((await ctx.store.directory.getGroup(group.id as string))?.deletedDateTime).not.toBeNull();
  });

  it('replaces a 2,000-member list with none, and with 2,000 others, in two store calls each, every change logged', async () => {
    const MANY = 2_000;
    const people = (prefix: string) =>
      Array.from({ length: MANY }, (_, i) => ({
        ref: `${prefix}-${i}`,
        user: {
          id: `${sourceId}:${prefix}-${i}`,
          userPrincipalName: `${prefix}-${i}@big.example`,
          displayName: `P ${i}`,
        },
      }));
    const first = people('first');
    const second = people('second');
    await ctx.store.directory.upsertSourceUsers(sourceId, [...first, ...second]);
    const group = await scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Everyone',
      members: first.map((p) => ({ value: p.user.id })),
    });
    expect(group.status).toBe(201);
    const id = group.body.id as string;
    const memberIds = async () => (await ctx.store.directory.membersOf(id)).map((m) => m.memberId).sort();
    expect(await memberIds()).toEqual(first.map((p) => p.user.id).sort());

    const directory = ctx.store.directory;
    const calls = [
      vi.spyOn(directory, 'removeMember'),
      vi.spyOn(directory, 'removeMembers'),
      vi.spyOn(directory, 'addMember'),
      vi.spyOn(directory, 'bulkAddMembers'),
    ];
    const storeCalls = () => calls.reduce((n, spy) => n + spy.mock.calls.length, 0);
    try {
      const before = await ctx.store.changes.latestSeq();
      const swapped = await scim('PUT', `/Groups/${id}`, {
        schemas: [GROUP],
        displayName: 'Everyone',
        members: second.map((p) => ({ value: p.user.id })),
      });
      expect(swapped.status).toBe(200);
      expect(await memberIds()).toEqual(second.map((p) => p.user.id).sort());
      expect(storeCalls()).toBe(2);
      const changed = (await ctx.store.changes.changesSince(before, 10 * MANY)).filter((c) => c.objectId === id);
      expect(changed.filter((c) => c.op === 'memberRemove')).toHaveLength(MANY);
      expect(changed.filter((c) => c.op === 'memberAdd')).toHaveLength(MANY);

      const emptied = await scim('PATCH', `/Groups/${id}`, {
        schemas: [PATCH],
        Operations: [{ op: 'replace', path: 'members', value: [] }],
      });
      expect(emptied.status, JSON.stringify(emptied.body)).toBe(200);
      expect(await memberIds()).toEqual([]);
      // The removals in one call; no addition to make.
      expect(storeCalls()).toBe(3);
      const after = (await ctx.store.changes.changesSince(before, 10 * MANY)).filter((c) => c.objectId === id);
      expect(after.filter((c) => c.op === 'memberRemove')).toHaveLength(2 * MANY);
    } finally {
      for (const spy of calls) spy.mockRestore();
    }
  });

  it('answers 400 with SCIM’s shape for a PATCH with an unknown op', async () => {
    const user = await client.create('Users', newUser('bad-op@corp.example'));
    const answer = await scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'move', path: 'x' }],
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
  });
});
