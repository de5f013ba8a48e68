// Active Directory's ranged retrieval of large multi-valued attributes (`member;range=0-1499`):
// the parsing and paging logic on its own, then an import through the API from an in-process
// responder that answers in ranges as AD does (slapd cannot: it always answers `member` whole).
import { randomBytes } from 'node:crypto';
import type { Entry } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directoryId } from '../../sources/import.ts';
import { allRangedValues, guidToString, rangedSlice } from '../../sources/ldap.ts';
import { startFakeAd, type FakeAd, type FakeAdEntry } from '../support/ad-ldap-fake.ts';
import { sourcesApp } from './helpers.ts';

const entry = (attributes: Record<string, string | string[]>): Entry => ({ dn: 'CN=G,DC=x', ...attributes });

describe('ranged attribute parsing', () => {
  it('reads the slice bounds, `*` marking the last slice, whatever the case of the name', () => {
    expect(rangedSlice(entry({ 'member;range=0-1499': ['a', 'b'] }), 'member')).toEqual({
      name: 'member;range=0-1499',
      values: ['a', 'b'],
      start: 0,
      end: 1499,
    });
    expect(rangedSlice(entry({ 'Member;Range=3000-*': 'c' }), 'member')).toMatchObject({ start: 3000, end: null });
  });

  it('is null for a plain attribute (OpenLDAP, or AD under the limit): nothing more is read', () => {
    expect(rangedSlice(entry({ member: ['a'] }), 'member')).toBeNull();
    expect(rangedSlice(entry({ 'memberOf;range=0-1': ['a'] }), 'member')).toBeNull();
  });

  it('follows slices from the end of each until one ends in `*`', async () => {
    const asked: string[] = [];
    const slices: Record<string, Entry> = {
      'member;range=2-*': entry({ 'member;range=2-3': ['c', 'd'] }),
      'member;range=4-*': entry({ 'member;range=4-*': ['e'] }),
    };
    const first = rangedSlice(entry({ 'member;range=0-1': ['a', 'b'] }), 'member')!;
    const values = await allRangedValues('CN=G,DC=x', 'member', first, async (dn, name) => {
      asked.push(`${dn} ${name}`);
      return slices[name] ?? null;
    });
    expect(values).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(asked).toEqual(['CN=G,DC=x member;range=2-*', 'CN=G,DC=x member;range=4-*']);
  });

  it('stops when a follow-up has no values left, and refuses a slice that does not continue', async () => {
    const first = rangedSlice(entry({ 'member;range=0-1': ['a', 'b'] }), 'member')!;
    expect(await allRangedValues('CN=G', 'member', first, async () => entry({}))).toEqual(['a', 'b']);
    await expect(
      allRangedValues('CN=G', 'member', first, async () => entry({ 'member;range=0-*': ['a'] })),
    ).rejects.toThrow(/asked for member values from 2, got member;range=0-\*/);
  });
});

describe('Active Directory import with ranged members (in-process AD responder)', () => {
  const BASE = 'DC=corp,DC=example';
  const guids = new Map<string, Buffer>();
  const userDn = (i: number) => `CN=Person ${i},OU=Staff,${BASE}`;
  const user = (i: number): FakeAdEntry => {
    const guid = randomBytes(16);
    guids.set(userDn(i), guid);
    return {
      dn: userDn(i),
      attributes: {
        objectClass: 'user',
        objectCategory: 'person',
        objectGUID: guid,
        userPrincipalName: `person${i}@corp.example`,
        cn: `Person ${i}`,
        userAccountControl: i === 3 ? '514' : '512',
        whenChanged: '20240501120000.0Z',
      },
    };
  };
  const members = 25;
  const people = Array.from({ length: members }, (_, i) => user(i));
  const groupGuid = randomBytes(16);
  const group: FakeAdEntry = {
    dn: `CN=Everyone,OU=Groups,${BASE}`,
    attributes: {
      objectClass: 'group',
      objectGUID: groupGuid,
      cn: 'Everyone',
      member: people.map((p) => p.dn),
      whenChanged: '20240501120000.0Z',
    },
  };
  let ad: FakeAd;
  let api: Awaited<ReturnType<typeof sourcesApp>>;

  beforeAll(async () => {
    // 10 values a slice stands in for AD's 1500: the same protocol, a small directory.
    ad = await startFakeAd({ entries: [...people, group], maxValRange: 10 });
    api = await sourcesApp();
  });

  afterAll(async () => {
    await api?.close();
    await ad?.close();
  });

  it('a group past the value limit gets every member; objectGUID ids and userAccountControl as documented', async () => {
    const created = await api.call('POST', '/api/v1/sources', {
      type: 'ldap',
      name: 'Corp AD',
      url: ad.url,
      bindDn: ad.bindDn,
      bindPassword: ad.password,
      baseDn: BASE,
      profile: 'activeDirectory',
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body!.id as string;
    const run = await api.sync(id);
    expect(run).toMatchObject({ status: 'succeeded', created: members + 1, error: null });

    const groupId = directoryId(id, guidToString(groupGuid));
    expect(await api.store.directory.membersOf(groupId)).toHaveLength(members);
    // The follow-up reads asked for the next slices of that one group.
    const followUps = ad.searches.filter((s) => s.attributes.some((a) => a.includes(';range=')));
    expect(followUps.map((s) => s.attributes[0])).toEqual(['member;range=10-*', 'member;range=20-*']);
    expect(followUps.every((s) => s.base === group.dn)).toBe(true);

    const disabled = await api.store.directory.getUser(directoryId(id, guidToString(guids.get(userDn(3))!)));
    expect(disabled).toMatchObject({ userPrincipalName: 'person3@corp.example', accountEnabled: false });
  });
});
