// The Entra ID source against the Graph delta fake (dev/graph-fake, written from Microsoft's
// documented protocol), through the API: initial import, changes through the deltaLink only, a
// 429 waited out, a wrong client secret, and the write-only secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphFake, type GraphFake } from '../../dev/graph-fake/index.ts';
import { ConfigurationError } from '../../engine/errors.ts';
import { managerOf } from '../../sources/entra.ts';
import { directoryId, importSource } from '../../sources/import.ts';
import type { SourceReader, SourceUser } from '../../sources/types.ts';
import { sourcesApp } from './helpers.ts';

let graph: GraphFake;
let api: Awaited<ReturnType<typeof sourcesApp>>;

beforeAll(async () => {
  graph = await startGraphFake({ pageSize: 2 });
  api = await sourcesApp();
});

afterAll(async () => {
  await api?.close();
  await graph?.close();
});

const entraSource = (extra: Record<string, unknown> = {}) => ({
  type: 'entra',
  name: 'Contoso Entra ID',
  tenantId: graph.tenantId,
  clientId: graph.clientId,
  clientSecret: graph.clientSecret,
  authority: graph.authority,
  graphUrl: graph.graphUrl,
  ...extra,
});

async function create(extra: Record<string, unknown> = {}): Promise<string> {
  const created = await api.call('POST', '/api/v1/sources', entraSource(extra));
  expect(created.status, created.text).toBe(201);
  return created.body!.id as string;
}

describe('Entra ID source (Graph delta fake)', () => {
  let id: string;
  const people: Record<string, string> = {};
  let staff = '';

  it('an initial import brings users, groups, their members and managers', async () => {
    people.boss = graph.addUser({ userPrincipalName: 'boss@contoso.example', displayName: 'Boss', jobTitle: 'CEO' });
    for (const name of ['ada', 'bob', 'cy', 'dee']) {
      people[name] = graph.addUser({
        userPrincipalName: `${name}@contoso.example`,
        displayName: name,
        department: 'R&D',
        managerId: people.boss,
        costCenter: `cc-${name}`,
      });
    }
    staff = graph.addGroup({ displayName: 'Staff' }, [people.ada, people.bob, people.cy]);
    const leads = graph.addGroup({ displayName: 'Leads', description: 'People who lead' }, [people.boss, staff]);
    id = await create({ userSelect: ['costCenter'] });

    const run = await api.sync(id);
    expect(run).toMatchObject({ status: 'succeeded', mode: 'full', created: 7, error: null });
    const ada = await api.store.directory.getUser(directoryId(id, people.ada));
    expect(ada).toMatchObject({
      userPrincipalName: 'ada@contoso.example',
      department: 'R&D',
      accountEnabled: true,
      managerId: directoryId(id, people.boss),
      extensions: { costCenter: 'cc-ada' },
    });
    expect((await api.store.directory.getUser(directoryId(id, people.boss)))?.managerId).toBeNull();
    const members = async (group: string) =>
      (await api.store.directory.membersOf(directoryId(id, group))).map((m) => m.memberId).sort();
    expect(await members(staff)).toEqual([people.ada, people.bob, people.cy].map((p) => directoryId(id, p)).sort());
    // A group in a group stays a nested group.
    expect(await members(leads)).toEqual([directoryId(id, people.boss), directoryId(id, staff)].sort());
    expect(JSON.parse((await api.store.sources.get(id))!.state.highWater!)).toMatchObject({
      users: expect.stringContaining('$deltatoken='),
      groups: expect.stringContaining('$deltatoken='),
    });
  });

  it('the next sync reads only the changes, through the deltaLinks: rename, disable, remove a user, remove a member', async () => {
    graph.updateUser(people.ada, { displayName: 'Ada Lovelace' });
    graph.updateUser(people.bob, { accountEnabled: false });
    graph.removeUser(people.dee);
    graph.removeMember(staff, people.cy);
    const before = graph.stats().rounds;

    const run = await api.sync(id);
    expect(run).toMatchObject({ status: 'succeeded', mode: 'incremental', created: 0, deleted: 1 });
    // Only the changed objects came back: ada, bob, dee's removal, and the Staff group's member change.
    expect(run.updated + run.unchanged).toBeLessThanOrEqual(3);
    // Both collections were read from their deltaLinks; no round started over from everything.
    expect(graph.stats().rounds).toEqual({ initial: before.initial, fromDeltaLink: before.fromDeltaLink + 2 });

    const user = (p: string) => api.store.directory.getUser(directoryId(id, p));
    expect((await user(people.ada))?.displayName).toBe('Ada Lovelace');
    expect((await user(people.ada))?.managerId).toBe(directoryId(id, people.boss));
    expect((await user(people.bob))?.accountEnabled).toBe(false);
    expect((await user(people.dee))?.deletedDateTime).not.toBeNull();
    const staffMembers = (await api.store.directory.membersOf(directoryId(id, staff))).map((m) => m.memberId).sort();
    expect(staffMembers).toEqual([directoryId(id, people.ada), directoryId(id, people.bob)].sort());
  });

  it('a 429 with Retry-After is waited out and the change arrives (here a manager taken away)', async () => {
    graph.updateUser(people.cy, { jobTitle: 'Architect', managerId: null });
    graph.throttleNext(1);
    const throttledBefore = graph.stats().byRoute['GET /v1.0/users/delta 429'] ?? 0;
    const run = await api.sync(id);
    expect(run).toMatchObject({ status: 'succeeded', mode: 'incremental', error: null });
    expect(graph.stats().byRoute['GET /v1.0/users/delta 429']).toBe(throttledBefore + 1);
    const cy = await api.store.directory.getUser(directoryId(id, people.cy));
    expect(cy).toMatchObject({ jobTitle: 'Architect', managerId: null });
  });

  it('a delta that removes more than the deletion threshold stages the removals until they are approved', async () => {
    const temps = Array.from({ length: 10 }, (_, i) =>
      graph.addUser({ userPrincipalName: `temp${i}@contoso.example`, displayName: `Temp ${i}` }),
    );
    const source = await create({ deletionThresholdPercent: 20 });
    expect(await api.sync(source)).toMatchObject({ status: 'succeeded', mode: 'full' });
    const live = async () =>
      (await api.store.sources.liveIds(source, 'user')).length +
      (await api.store.sources.liveIds(source, 'group')).length;
    const before = await live();
    // One more than 20 % of the source's live objects.
    const gone = temps.slice(0, Math.floor(before * 0.2) + 1);
    for (const person of gone) graph.removeUser(person);

    const run = await api.sync(source);
    expect(run).toMatchObject({
      status: 'needsApproval',
      mode: 'incremental',
      deleted: 0,
      stagedDeletions: gone.length,
    });
    expect(await live()).toBe(before);
    expect((await api.call('GET', `/api/v1/sources/${source}`)).body!.state.stagedDeletions).toBe(gone.length);
    // The delta does not report the removals again; they stay staged until approved.
    expect(await api.sync(source)).toMatchObject({ status: 'succeeded', mode: 'incremental', deleted: 0 });
    expect((await api.call('GET', `/api/v1/sources/${source}`)).body!.state.stagedDeletions).toBe(gone.length);

    expect((await api.call('POST', `/api/v1/sources/${source}/approve-deletions`)).body).toEqual({
      deleted: gone.length,
    });
    expect(await live()).toBe(before - gone.length);
    for (const person of gone)
      expect((await api.store.directory.getUser(directoryId(source, person)))?.deletedDateTime).not.toBeNull();
    for (const person of temps.slice(gone.length)) graph.removeUser(person);
  });

  it('a wrong client secret fails the run with a configuration error naming the source, and changes nothing', async () => {
    const other = await create({ clientSecret: 'not-the-secret-9f8e' });
    const changesBefore = await api.store.changes.latestSeq();
    const run = await api.sync(other);
    expect(run.status).toBe('failed');
    expect(run.error).toContain(`Entra source ${other}`);
    expect(run.error).toMatch(
      /refused client .* \(invalid_client, AADSTS7000215\): check tenantId, clientId and clientSecret/,
    );
    expect(JSON.stringify(run)).not.toContain('not-the-secret-9f8e');
    const failure = api.failures.at(-1);
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as ConfigurationError).code).toBe('Unauthorized');
    expect(await api.store.changes.latestSeq()).toBe(changesBefore);
    expect(await api.store.sources.liveIds(other, 'user')).toEqual([]);
  });

  it('never answers or logs the client secret', async () => {
    const source = await create();
    const one = await api.call('GET', `/api/v1/sources/${source}`);
    const list = await api.call('GET', '/api/v1/sources');
    const patched = await api.call('PATCH', `/api/v1/sources/${source}`, { clientSecret: 'rotated-client-secret-31' });
    expect(one.body!.hasClientSecret).toBe(true);
    for (const answer of [one, list, patched]) {
      expect(answer.status).toBe(200);
      expect(answer.text).not.toContain(graph.clientSecret);
      expect(answer.text).not.toContain('rotated-client-secret-31');
    }
    expect(api.lines.join('\n')).not.toContain('rotated-client-secret-31');
    expect(JSON.stringify(await api.store.audit.query({ limit: 100 }))).not.toContain('rotated-client-secret-31');
  });

  it('a move of the Graph URL to another origin must bring the client secret again', async () => {
    const source = await create();
    const moved = await api.call('PATCH', `/api/v1/sources/${source}`, { graphUrl: 'https://graph.attacker.example' });
    expect(moved.status).toBe(400);
    expect(moved.text).toContain('clientSecret');
  });

  it('sends nothing over plain http when the worker does not allow loopback', async () => {
    const { runSourceImport } = await import('../../sources/run.ts');
    const source = await create();
    const requests = () => Object.values(graph.stats().byRoute).reduce((a, b) => a + b, 0);
    const before = requests();
    const strict = { allowLoopback: false, allowedNetworks: [] };
    await expect(runSourceImport({ store: api.store, policy: strict }, source)).rejects.toBeInstanceOf(
      ConfigurationError,
    );
    expect(requests()).toBe(before);
  });

  it('refuses bad settings naming the field', async () => {
    for (const [field, value] of [
      ['clientId', 'not-a-guid'],
      ['tenantId', 'no spaces allowed'],
      ['graphUrl', 'http://graph.example.org'],
      ['graphUrl', 'not a url'],
      ['authority', ''],
      ['userSelect', ['bad name']],
    ] as const) {
      const answer = await api.call('POST', '/api/v1/sources', entraSource({ [field]: value }));
      expect(answer.status, field).toBe(400);
      expect(answer.text, field).toContain(field);
    }
    const { clientSecret: _secret, ...withoutSecret } = entraSource();
    const missing = await api.call('POST', '/api/v1/sources', withoutSecret);
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('clientSecret');
  });
});

describe('delta-shaped answers', () => {
  it('a manager is null when a full round does not name one, unchanged when an incremental one does not', () => {
    expect(managerOf({ id: 'u' }, true)).toBeNull();
    expect(managerOf({ id: 'u' }, false)).toBeUndefined();
    expect(managerOf({ id: 'u', 'manager@delta': [{ id: 'm' }] }, false)).toBe('m');
    expect(managerOf({ id: 'u', 'manager@delta': [{ id: 'm', '@removed': { reason: 'deleted' } }] }, false)).toBeNull();
  });

  it('an imported user whose change does not mention its manager keeps the manager', async () => {
    const source = await api.store.sources.create({ name: 'stub', type: 'entra', config: {} });
    const reader = (users: SourceUser[]): SourceReader => ({
      incremental: true,
      async *users() {
        yield users;
      },
      async *groups() {},
      async *members() {},
      highWater: () => null,
      close: async () => {},
    });
    const person = (id: string, managerRef?: string): SourceUser => ({
      externalId: id,
      ref: id,
      ...(managerRef === undefined ? {} : { managerRef }),
      user: { userPrincipalName: `${id}@stub.example`, displayName: id },
    });
    const run = async (users: SourceUser[]) =>
      importSource(
        { store: api.store, sourceId: source.id, reader: reader(users), mode: 'incremental', since: 'x' },
        (await api.store.sources.beginRun(source.id, 'incremental')).id,
      );
    await run([person('stub-m'), person('stub-r', 'stub-m')]);
    await run([{ ...person('stub-r'), user: { userPrincipalName: 'stub-r@stub.example', displayName: 'Renamed' } }]);
    expect(await api.store.directory.getUser(directoryId(source.id, 'stub-r'))).toMatchObject({
      displayName: 'Renamed',
      managerId: directoryId(source.id, 'stub-m'),
    });
  });
});
