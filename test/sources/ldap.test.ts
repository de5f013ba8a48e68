// The LDAP source against a real OpenLDAP slapd (one per file), through the API: full import,
// changes, deletions under the threshold, a refused bind, paging, and the write-only password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../engine/errors.ts';
import { directoryId } from '../../sources/import.ts';
import {
  BASE_LDIF,
  groupLdif,
  personLdif,
  SLAPD_BASE_DN,
  SLAPD_ROOT_DN,
  SLAPD_ROOT_PASSWORD,
  startSlapd,
  type Slapd,
} from '../support/slapd.ts';
import { sourcesApp } from './helpers.ts';

let slapd: Slapd;
let api: Awaited<ReturnType<typeof sourcesApp>>;

const uids = Array.from({ length: 10 }, (_, i) => `person${i}`);

beforeAll(async () => {
  slapd = await startSlapd();
  await slapd.add(BASE_LDIF);
  // person1 reports to person0 (read before it), person2 to person7 (read pages later).
  const managers: Record<string, string> = { person1: 'person0', person2: 'person7' };
  await slapd.add(
    uids
      .map((uid) =>
        personLdif(uid, {
          title: 'Engineer',
          givenName: uid,
          ...(managers[uid] ? { manager: `uid=${managers[uid]},ou=people,${SLAPD_BASE_DN}` } : {}),
        }),
      )
      .join('\n'),
  );
  await slapd.add(groupLdif('staff', uids.slice(0, 5)) + '\n' + groupLdif('leads', ['person0']));
  api = await sourcesApp();
}, 60_000);

afterAll(async () => {
  await api?.close();
  await slapd?.stop();
});

const ldapSource = (extra: Record<string, unknown> = {}) => ({
  type: 'ldap',
  name: 'Test LDAP',
  url: slapd.url,
  bindDn: SLAPD_ROOT_DN,
  bindPassword: SLAPD_ROOT_PASSWORD,
  baseDn: SLAPD_BASE_DN,
  pageSize: 3,
  ...extra,
});

async function create(extra: Record<string, unknown> = {}): Promise<string> {
  const created = await api.call('POST', '/api/v1/sources', ldapSource(extra));
  expect(created.status).toBe(201);
  return created.body!.id as string;
}

const entryUuid = async (uid: string): Promise<string> => {
  const { Client } = await import('ldapts');
  const client = new Client({ url: slapd.url });
  await client.bind(SLAPD_ROOT_DN, SLAPD_ROOT_PASSWORD);
  const { searchEntries } = await client.search(`uid=${uid},ou=people,${SLAPD_BASE_DN}`, {
    scope: 'base',
    attributes: ['entryUUID'],
  });
  await client.unbind();
  return searchEntries[0].entryUUID as string;
};

describe('LDAP source', () => {
  it('imports users and groups with their members (pages smaller than the entry count), then follows changes', async () => {
    const id = await create();
    const run = await api.sync(id);
    expect(run).toMatchObject({ status: 'succeeded', mode: 'full', created: 12, error: null });

    const userId = directoryId(id, await entryUuid('person3'));
    const user = await api.store.directory.getUser(userId);
    expect(user).toMatchObject({
      userPrincipalName: 'person3@example.org',
      jobTitle: 'Engineer',
      givenName: 'person3',
    });
    expect(await api.store.sources.liveIds(id, 'user')).toHaveLength(10);
    const managerOf = async (uid: string) =>
      (await api.store.directory.getUser(directoryId(id, await entryUuid(uid))))?.managerId;
    expect(await managerOf('person1')).toBe(directoryId(id, await entryUuid('person0')));
    expect(await managerOf('person2')).toBe(directoryId(id, await entryUuid('person7')));
    expect(await managerOf('person3')).toBeNull();
    const groups = await api.store.sources.liveIds(id, 'group');
    expect(groups).toHaveLength(2);
    const sizes = await Promise.all(groups.map(async (g) => (await api.store.directory.membersOf(g)).length));
    expect(sizes.sort()).toEqual([1, 5]);

    // A changed entry updates; nothing else is rewritten.
    await slapd.modify(
      `dn: uid=person3,ou=people,${SLAPD_BASE_DN}\nchangetype: modify\nreplace: title\ntitle: Manager\n`,
    );
    const second = await api.sync(id, 'full');
    expect(second).toMatchObject({ status: 'succeeded', updated: 1, created: 0, deleted: 0, unchanged: 11 });
    expect((await api.store.directory.getUser(userId))?.jobTitle).toBe('Manager');

    // A removed entry is soft-deleted (1 of 12 is under the 20% threshold) and leaves its groups.
    await slapd.delete(`uid=person9,ou=people,${SLAPD_BASE_DN}`);
    const gone = directoryId(id, 'x');
    expect(gone).toContain(id);
    const third = await api.sync(id, 'full');
    expect(third).toMatchObject({ status: 'succeeded', deleted: 1 });
    expect(await api.store.sources.liveIds(id, 'user')).toHaveLength(9);

    // An incremental import reads what changed since the last one.
    await slapd.modify(
      `dn: uid=person4,ou=people,${SLAPD_BASE_DN}\nchangetype: modify\nreplace: title\ntitle: Director\n`,
    );
    const incremental = await api.sync(id, 'incremental');
    expect(incremental.mode).toBe('incremental');
    expect(incremental.updated).toBe(1);
    expect((await api.store.directory.getUser(directoryId(id, await entryUuid('person4'))))?.jobTitle).toBe('Director');
  });

  it('a re-import logs exactly the membership changes and the late manager, each once', async () => {
    // Their own people (a userPrincipalName belongs to one user); crew0 reports to crew2, read a page later.
    await slapd.add(
      ['crew0', 'crew1', 'crew2']
        .map((uid) => personLdif(uid, uid === 'crew0' ? { manager: `uid=crew2,ou=people,${SLAPD_BASE_DN}` } : {}))
        .join('\n'),
    );
    await slapd.add(groupLdif('crew', ['crew0', 'crew1']) + '\n' + groupLdif('crewleads', ['crew2']));
    const id = await create({
      userFilter: '(uid=crew*)',
      groupFilter: '(&(objectClass=groupOfNames)(cn=crew*))',
      pageSize: 1,
    });
    const before = await api.store.changes.latestSeq();
    expect(await api.sync(id)).toMatchObject({ status: 'succeeded', created: 5 });
    const person = async (uid: string) => directoryId(id, await entryUuid(uid));
    const [crew0, crew1, crew2] = [await person('crew0'), await person('crew1'), await person('crew2')];
    expect((await api.store.directory.getUser(crew0))?.managerId).toBe(crew2);
    const group = async (cn: string) =>
      (await api.store.sources.resolveRefs(id, [`cn=${cn},ou=groups,${SLAPD_BASE_DN}`])).get(
        `cn=${cn},ou=groups,${SLAPD_BASE_DN}`,
      )!.id;
    const [crew, leads] = [await group('crew'), await group('crewleads')];
    const logged = async (after: number) =>
      (await api.store.changes.changesSince(after))
        .filter((c) => c.op !== 'upsert' || c.objectId === crew0)
        .map((c) => [c.op, c.objectId, c.detail.memberId ?? null]);
    const first = await logged(before);
    // crew0 is written, then again once its manager is known; three memberships are added.
    expect(first.filter(([op]) => op === 'upsert')).toEqual([
      ['upsert', crew0, null],
      ['upsert', crew0, null],
    ]);
    expect(first.filter(([op]) => op !== 'upsert').sort()).toEqual(
      [
        ['memberAdd', crew, crew0],
        ['memberAdd', crew, crew1],
        ['memberAdd', leads, crew2],
      ].sort(),
    );

    // Nothing changed: nothing logged. Then crew0 leaves crew and crew2 joins it.
    const quiet = await api.store.changes.latestSeq();
    expect(await api.sync(id, 'full')).toMatchObject({ status: 'succeeded', unchanged: 5 });
    expect(await api.store.changes.latestSeq()).toBe(quiet);
    await slapd.modify(
      `dn: cn=crew,ou=groups,${SLAPD_BASE_DN}\nchangetype: modify\ndelete: member\nmember: uid=crew0,ou=people,${SLAPD_BASE_DN}\n-\nadd: member\nmember: uid=crew2,ou=people,${SLAPD_BASE_DN}\n`,
    );
    expect(await api.sync(id, 'full')).toMatchObject({ status: 'succeeded' });
    const changes = await api.store.changes.changesSince(quiet);
    expect(changes.map((c) => [c.op, c.objectId, c.detail])).toEqual([
      ['memberRemove', crew, { memberId: crew0, memberType: 'user' }],
      ['memberAdd', crew, { memberId: crew2, memberType: 'user' }],
    ]);
    expect((await api.store.directory.membersOf(crew)).map((m) => m.memberId).sort()).toEqual([crew1, crew2].sort());
  });

  it('stages deletions past the threshold until they are approved', async () => {
    // People of their own (a userPrincipalName belongs to one user: the first test's source holds person*).
    await slapd.add(Array.from({ length: 10 }, (_, i) => personLdif(`bulk${i}`)).join('\n'));
    const id = await create({ userFilter: '(uid=bulk*)', groupFilter: '(cn=none)' });
    expect(await api.sync(id)).toMatchObject({ status: 'succeeded', created: 10 });
    const before = (await api.store.sources.liveIds(id, 'user')).length;
    expect(before).toBe(10);

    // The filter now matches one person: 90% of the source's users vanish at once.
    await api.call('PATCH', `/api/v1/sources/${id}`, { userFilter: '(uid=bulk0)' });
    const run = await api.sync(id, 'full');
    expect(run.status).toBe('needsApproval');
    expect(run.stagedDeletions).toBe(before - 1);
    expect(await api.store.sources.liveIds(id, 'user')).toHaveLength(before);
    expect((await api.call('GET', `/api/v1/sources/${id}`)).body!.state.stagedDeletions).toBe(before - 1);

    const approved = await api.call('POST', `/api/v1/sources/${id}/approve-deletions`);
    expect(approved.body).toEqual({ deleted: before - 1 });
    expect(await api.store.sources.liveIds(id, 'user')).toHaveLength(1);
  });

  it('a wrong bind password fails with a typed error; the run records it without the password', async () => {
    const id = await create({ bindPassword: 'not-the-password-42' });
    const run = await api.sync(id);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/refused the bind.*invalid credentials/);
    expect(JSON.stringify(run)).not.toContain('not-the-password-42');
    const failure = api.failures.at(-1);
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as ConfigurationError).code).toBe('Unauthorized');
  });

  it('never answers or logs the bind password', async () => {
    const id = await create();
    const one = await api.call('GET', `/api/v1/sources/${id}`);
    const list = await api.call('GET', '/api/v1/sources');
    const patched = await api.call('PATCH', `/api/v1/sources/${id}`, { bindPassword: 'rotated-secret-77' });
    expect(one.body!.hasBindPassword).toBe(true);
    for (const answer of [one, list, patched]) {
      expect(answer.text).not.toContain(SLAPD_ROOT_PASSWORD);
      expect(answer.text).not.toContain('rotated-secret-77');
    }
    expect(api.lines.join('\n')).not.toContain('rotated-secret-77');
    const audit = await api.store.audit.query({ limit: 100 });
    expect(JSON.stringify(audit)).not.toContain('rotated-secret-77');
    expect(JSON.stringify(audit)).toContain('bindPassword');
  });

  it('a move of the server to another origin must bring the bind password again (it is never sent elsewhere)', async () => {
    const id = await create();
    const moved = await api.call('PATCH', `/api/v1/sources/${id}`, { url: 'ldap://ldap.attacker.example:389' });
    expect(moved.status).toBe(400);
    expect(moved.text).toContain('bindPassword');
    expect((await api.store.sources.get(id))?.config.url).not.toBe('ldap://ldap.attacker.example:389');
    const withPassword = await api.call('PATCH', `/api/v1/sources/${id}`, {
      url: 'ldap://ldap.elsewhere.example:389',
      bindPassword: 'a-new-password',
    });
    expect(withPassword.status).toBe(200);
  });

  it('refuses a bad setting naming the field', async () => {
    const answer = await api.call('POST', '/api/v1/sources', ldapSource({ url: 'http://example.org' }));
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('url');
  });

  it('refuses a loopback server when the address policy does not allow it', async () => {
    const { runSourceImport } = await import('../../sources/run.ts');
    const id = await create();
    const strict = { allowLoopback: false, allowedNetworks: [] };
    await expect(runSourceImport({ store: api.store, policy: strict }, id)).rejects.toMatchObject({
      code: 'AddressNotAllowed',
    });
  });
});
