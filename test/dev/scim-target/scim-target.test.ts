// The fast loopback SCIM target, driven over HTTP the way Ferry's SCIM client drives a target.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScimTarget, type ScimTarget } from '../../../dev/scim-target/index.ts';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUPTALK = 'urn:ietf:params:scim:schemas:extension:grouptalk:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let target: ScimTarget;

beforeAll(async () => {
  target = await startScimTarget({ token: 'test-token' });
});
afterAll(async () => {
  await target.close();
});
beforeEach(() => target.reset());

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- SCIM bodies are checked field by field
type Body = any;

async function call(method: string, path: string, body?: unknown, token = 'test-token') {
  const res = await fetch(`${target.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/scim+json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Body, headers: res.headers };
}

const newUser = (userName: string, extra: Record<string, unknown> = {}) =>
  call('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, active: true, ...extra });
const patch = (path: string, Operations: unknown[]) => call('PATCH', path, { schemas: [PATCH_OP], Operations });

describe('loopback SCIM target', () => {
  it('requires the bearer token', async () => {
    expect((await call('GET', '/Users', undefined, 'wrong')).status).toBe(401);
    const res = await fetch(`${target.baseUrl}/Users`);
    expect(res.status).toBe(401);
    expect((await call('GET', '/Users')).status).toBe(200);
  });

  it('uses the token given, or a random one', async () => {
    const other = await startScimTarget();
    try {
      expect(other.token.length).toBeGreaterThanOrEqual(16);
      expect(other.token).not.toBe('test-token');
      expect(other.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/scim\/v2$/);
    } finally {
      await other.close();
    }
  });

  it('creates a user with id, meta and Location, and reads it back', async () => {
    const created = await newUser('ada@contoso.example', { externalId: 'e-1', name: { givenName: 'Ada' } });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.meta).toMatchObject({
      resourceType: 'User',
      location: `${target.baseUrl}/Users/${created.body.id}`,
    });
    expect(created.headers.get('location')).toBe(created.body.meta.location);
    const read = await call('GET', `/Users/${created.body.id}`);
    expect(read.body).toMatchObject({ userName: 'ada@contoso.example', externalId: 'e-1', name: { givenName: 'Ada' } });
    expect((await call('GET', '/Users/nope')).status).toBe(404);
  });

  it('refuses a duplicate userName (any case) with 409 uniqueness, and a user without userName with 400', async () => {
    await newUser('ada@contoso.example');
    const dup = await newUser('ADA@contoso.example');
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ status: '409', scimType: 'uniqueness' });
    expect((await call('POST', '/Users', { active: true })).status).toBe(400);
    expect(target.users()).toHaveLength(1);
  });

  it('filters with eq on userName, externalId, displayName, emails.value and unindexed attributes', async () => {
    await newUser('ada@contoso.example', {
      externalId: 'E-1',
      displayName: 'Ada Lovelace',
      emails: [{ type: 'work', value: 'ada@contoso.example', primary: true }],
      [ENTERPRISE]: { employeeNumber: '42' },
    });
    await newUser('bob@contoso.example', { externalId: 'E-2', displayName: 'Bob' });
    const find = async (filter: string) =>
      (await call('GET', `/Users?filter=${encodeURIComponent(filter)}`)).body.Resources.map((r: Body) => r.userName);
    expect(await find('userName eq "ADA@contoso.example"')).toEqual(['ada@contoso.example']);
    expect(await find('externalId eq "E-2"')).toEqual(['bob@contoso.example']);
    expect(await find('externalId eq "e-2"')).toEqual([]);
    expect(await find('displayName eq "ada lovelace"')).toEqual(['ada@contoso.example']);
    expect(await find('emails.value eq "ada@contoso.example"')).toEqual(['ada@contoso.example']);
    expect(await find(`${ENTERPRISE}:employeeNumber eq "42"`)).toEqual(['ada@contoso.example']);
    expect(await find('userName eq "a" and externalId eq "E-1"')).toEqual([]);
    const empty = await call('GET', `/Users?filter=${encodeURIComponent('userName eq "3f0e-none"')}`);
    expect(empty.body).toMatchObject({ totalResults: 0, Resources: [] });
    const bad = await call('GET', `/Users?filter=${encodeURIComponent('userName co "a"')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.scimType).toBe('invalidFilter');
  });

  it('pages lists with startIndex and count', async () => {
    for (let i = 0; i < 7; i++) await newUser(`u${i}@x.example`);
    const page = await call('GET', '/Users?startIndex=3&count=2');
    expect(page.body).toMatchObject({ totalResults: 7, startIndex: 3, itemsPerPage: 2 });
    expect(page.body.Resources.map((r: Body) => r.userName)).toEqual(['u2@x.example', 'u3@x.example']);
    const last = await call('GET', '/Users?startIndex=7&count=5');
    expect(last.body.Resources.map((r: Body) => r.userName)).toEqual(['u6@x.example']);
    expect((await call('GET', '/Users?count=0')).body).toMatchObject({ totalResults: 7, Resources: [] });
  });

  it('patches users: replace without path (Entra 2017 form), value-filter paths, URN paths, remove', async () => {
    const { body: user } = await newUser('ada@contoso.example', { emails: [{ type: 'work', value: 'old@x.example' }] });
    const res = await patch(`/Users/${user.id}`, [
      { op: 'Replace', value: { displayName: 'Ada', active: 'False' } },
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'ada@x.example' },
      { op: 'add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555' },
      { op: 'add', path: 'name.familyName', value: 'Lovelace' },
      { op: 'replace', path: `${ENTERPRISE}:manager`, value: { value: 'boss-id' } },
      { op: 'add', path: `${GROUPTALK}:label1`, value: 'L1' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      displayName: 'Ada',
      active: false,
      emails: [{ type: 'work', value: 'ada@x.example' }],
      phoneNumbers: [{ type: 'mobile', value: '+1 555' }],
      name: { familyName: 'Lovelace' },
      [ENTERPRISE]: { manager: { value: 'boss-id' } },
      [GROUPTALK]: { label1: 'L1' },
    });
    expect(res.body.schemas).toEqual(expect.arrayContaining([ENTERPRISE, GROUPTALK]));

    const removed = await patch(`/Users/${user.id}`, [
      { op: 'remove', path: `${ENTERPRISE}:manager` },
      { op: 'remove', path: 'phoneNumbers[type eq "mobile"]' },
    ]);
    expect(removed.body[ENTERPRISE].manager).toBeUndefined();
    expect(removed.body.phoneNumbers).toBeUndefined();
    // The new userName/email is what filters find now.
    const found = await call('GET', `/Users?filter=${encodeURIComponent('emails.value eq "ada@x.example"')}`);
    expect(found.body.totalResults).toBe(1);
    const stale = await call('GET', `/Users?filter=${encodeURIComponent('emails.value eq "old@x.example"')}`);
    expect(stale.body.totalResults).toBe(0);
  });

  it('refuses a patch that would take another userName, or touches id', async () => {
    await newUser('a@x.example');
    const { body: b } = await newUser('b@x.example');
    expect((await patch(`/Users/${b.id}`, [{ op: 'replace', path: 'userName', value: 'A@x.example' }])).status).toBe(
      409,
    );
    expect((await patch(`/Users/${b.id}`, [{ op: 'replace', path: 'id', value: 'x' }])).status).toBe(400);
    expect((await call('GET', `/Users/${b.id}`)).body.userName).toBe('b@x.example');
  });

  it('manages group members with PATCH add/remove, and drops deleted users from groups', async () => {
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) ids.push((await newUser(`${name}@x.example`)).body.id);
    const group = await call('POST', '/Groups', { displayName: 'Engineering', members: [{ value: ids[0] }] });
    expect(group.status).toBe(201);
    const gid = group.body.id;
    await patch(`/Groups/${gid}`, [
      { op: 'add', path: 'members', value: [{ value: ids[0] }, { value: ids[1] }, { value: ids[2] }] },
    ]);
    let members = (await call('GET', `/Groups/${gid}`)).body.members.map((m: Body) => m.value);
    expect(members).toEqual(ids);
    await patch(`/Groups/${gid}`, [{ op: 'remove', path: 'members', value: [{ value: ids[1] }] }]);
    await patch(`/Groups/${gid}`, [{ op: 'remove', path: `members[value eq "${ids[2]}"]` }]);
    members = (await call('GET', `/Groups/${gid}`)).body.members.map((m: Body) => m.value);
    expect(members).toEqual([ids[0]]);
    expect((await call('DELETE', `/Users/${ids[0]}`)).status).toBe(204);
    expect((await call('GET', `/Groups/${gid}`)).body.members).toEqual([]);
    const listed = await call(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "engineering"')}&excludedAttributes=members`,
    );
    expect(listed.body.Resources).toHaveLength(1);
    expect(listed.body.Resources[0].members).toBeUndefined();
    expect(listed.body.Resources[0].displayName).toBe('Engineering');
  });

  it('replaces with PUT, deletes with DELETE (404 the second time)', async () => {
    const { body: user } = await newUser('a@x.example', { displayName: 'A' });
    const put = await call('PUT', `/Users/${user.id}`, { userName: 'a2@x.example', active: false });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: user.id, userName: 'a2@x.example', active: false });
    expect(put.body.displayName).toBeUndefined();
    expect(put.body.meta.created).toBe(user.meta.created);
    expect((await call('DELETE', `/Users/${user.id}`)).status).toBe(204);
    expect((await call('DELETE', `/Users/${user.id}`)).status).toBe(404);
    expect(target.users()).toEqual([]);
  });

  it('describes itself at /ServiceProviderConfig', async () => {
    const res = await call('GET', '/ServiceProviderConfig');
    expect(res.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true },
      bulk: { supported: false },
    });
  });

  it('counts requests per route and status, and reset clears data and counters', async () => {
    const { body: user } = await newUser('a@x.example');
    await call('GET', `/Users/${user.id}`);
    await call('GET', `/Users?filter=${encodeURIComponent('userName eq "a@x.example"')}`);
    await patch(`/Users/${user.id}`, [{ op: 'replace', path: 'active', value: false }]);
    await call('GET', '/Users', undefined, 'wrong');
    const stats = target.stats();
    expect(stats.requests).toBe(5);
    expect(stats.byRoute).toEqual({ 'POST /Users': 1, 'GET /Users/{id}': 1, 'GET /Users': 2, 'PATCH /Users/{id}': 1 });
    expect(stats.byStatus).toEqual({ 201: 1, 200: 3, 401: 1 });
    target.reset();
    expect(target.stats()).toEqual({ requests: 0, byRoute: {}, byStatus: {}, bulkOperations: 0 });
    expect(target.users()).toEqual([]);
  });

  it('answers malformed bodies and unknown endpoints with SCIM errors', async () => {
    const res = await fetch(`${target.baseUrl}/Users`, {
      method: 'POST',
      headers: { Authorization: 'Bearer test-token', 'Content-Type': 'application/scim+json' },
      body: '{"userName": ',
    });
    expect(res.status).toBe(400);
    expect((await res.json()) as Body).toMatchObject({ scimType: 'invalidSyntax' });
    expect((await call('GET', '/Nope')).status).toBe(404);
    expect((await call('PATCH', '/Users/x', { Operations: 'no' })).status).toBe(404);
  });
});
