// A csv source fed by uploads through the API (origin "upload"): each upload is kept in the
// database and imported at once; people absent from it are soft-deleted under the deletion
// threshold; a bad upload is refused naming the line or row, and nothing is kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directoryId } from '../../sources/import.ts';
import { sourcesApp } from './helpers.ts';

let api: Awaited<ReturnType<typeof sourcesApp>>;

const HEADER = 'employee,email,name,active';
/** CSV of `n` people at `domain`; person 1 is inactive. */
const people = (n: number, domain: string, rename: Record<number, string> = {}) =>
  Array.from(
    { length: n },
    (_, i) => `e${i},e${i}@${domain},"${rename[i] ?? `Person ${i}, HR`}",${i === 1 ? 'no' : 'yes'}`,
  );
const csv = (rows: string[]) => [HEADER, ...rows].join('\n');

async function uploadSource(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await api.call('POST', '/api/v1/sources', {
    type: 'csv',
    name,
    origin: 'upload',
    columns: { id: 'employee', userPrincipalName: 'email', displayName: 'name', accountEnabled: 'active' },
    ...extra,
  });
  expect(created.status).toBe(201);
  return created.body!.id as string;
}

const newestRun = async (id: string) => (await api.call('GET', `/api/v1/sources/${id}/runs`)).body!.items[0];
const snapshotIds = async (id: string) =>
  ((await api.call('GET', `/api/v1/sources/${id}/snapshots`)).body!.items as { id: number }[]).map((s) => s.id);

beforeAll(async () => {
  api = await sourcesApp();
});
afterAll(async () => {
  await api.close();
});

describe('csv source: uploaded snapshots', () => {
  it('an upload creates the users; the next one updates changed rows and soft-deletes missing ones', async () => {
    const id = await uploadSource('HR upload');
    const first = await api.upload(id, csv(people(10, 'up.example')));
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ id, mode: 'full', snapshot: { format: 'csv', rows: 10 } });
    expect(await newestRun(id)).toMatchObject({ status: 'succeeded', created: 10 });
    expect(await api.store.directory.getUser(directoryId(id, 'e1'))).toMatchObject({
      userPrincipalName: 'e1@up.example',
      displayName: 'Person 1, HR',
      accountEnabled: false,
    });

    const second = await api.upload(id, csv(people(10, 'up.example', { 2: 'Renamed' }).slice(0, 9)));
    expect(second.status).toBe(202);
    expect(await newestRun(id)).toMatchObject({ status: 'succeeded', updated: 1, deleted: 1, unchanged: 8 });
    expect((await api.store.directory.getUser(directoryId(id, 'e2')))?.displayName).toBe('Renamed');
    expect((await api.store.directory.getUser(directoryId(id, 'e9')))?.deletedDateTime).not.toBeNull();
  });

  it('an upload that would delete more than the threshold stages the deletions for approval', async () => {
    const id = await uploadSource('HR staged');
    await api.upload(id, csv(people(10, 'staged.example')));
    expect(await api.store.sources.liveIds(id, 'user')).toHaveLength(10);

    expect((await api.upload(id, csv(people(2, 'staged.example')))).status).toBe(202);
    expect(await newestRun(id)).toMatchObject({ status: 'needsApproval', stagedDeletions: 8, deleted: 0 });
    expect(await api.store.sources.liveIds(id, 'user')).toHaveLength(10);
    expect((await api.call('POST', `/api/v1/sources/${id}/approve-deletions`)).body).toEqual({ deleted: 8 });
    expect(await api.store.sources.liveIds(id, 'user')).toHaveLength(2);
  });

  it('a malformed CSV is refused naming the line, and nothing is kept or imported', async () => {
    const id = await uploadSource('HR malformed');
    await api.upload(id, csv(people(3, 'bad.example')));
    const snapshotsBefore = await snapshotIds(id);
    const runBefore = await newestRun(id);

    const unclosed = await api.upload(id, csv([...people(3, 'bad.example'), 'e3,e3@bad.example,"Unclosed,yes']));
    expect(unclosed.status).toBe(400);
    expect(unclosed.body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'line 5', in: 'body' }] });
    expect(unclosed.body.error.message).toContain('line 5: a quoted field is not closed');

    const noId = await api.upload(id, csv(['e0,e0@bad.example,Zero,yes', ',e9@bad.example,Nobody,yes']));
    expect(noId.status).toBe(400);
    expect(noId.body.error.message).toBe('Invalid snapshot: line 3: no value for id (column employee)');

    const twice = await api.upload(id, csv(['e0,e0@bad.example,Zero,yes', 'e0,other@bad.example,Again,yes']));
    expect(twice.body.error.message).toBe('Invalid snapshot: line 3: id e0 repeats line 2');

    const noColumn = await api.upload(id, 'email,name\ne0@bad.example,Zero');
    expect(noColumn.body.error.message).toBe('Invalid snapshot: line 1: no column employee (for id)');

    expect(await snapshotIds(id)).toEqual(snapshotsBefore);
    expect(await newestRun(id)).toEqual(runBefore);
    expect(await api.store.sources.liveIds(id, 'user')).toHaveLength(3);
  });

  it('takes a JSON array of row objects with the same column names, and names a bad row', async () => {
    const id = await uploadSource('HR json');
    const rows = [
      { employee: 1001, email: 'ada@json.example', name: 'Ada', active: true },
      { employee: 'e2', email: 'bo@json.example', name: null, active: false },
    ];
    const answer = await api.upload(id, JSON.stringify(rows), 'application/json');
    expect(answer.status).toBe(202);
    expect(answer.body.snapshot).toMatchObject({ format: 'json', rows: 2 });
    expect(await newestRun(id)).toMatchObject({ status: 'succeeded', created: 2 });
    expect(await api.store.directory.getUser(directoryId(id, '1001'))).toMatchObject({
      userPrincipalName: 'ada@json.example',
      displayName: 'Ada',
      accountEnabled: true,
    });
    expect(await api.store.directory.getUser(directoryId(id, 'e2'))).toMatchObject({
      displayName: null,
      accountEnabled: false,
    });

    const nested = await api.upload(
      id,
      JSON.stringify([rows[0], { ...rows[1], name: { first: 'Bo' } }]),
      'application/json',
    );
    expect(nested.status).toBe(400);
    expect(nested.body.error.details).toEqual([
      {
        path: 'row 2',
        message: 'column name holds an object or array (give a string, number, boolean or null)',
        in: 'body',
      },
    ]);
    const notJson = await api.upload(id, '[{"employee": "e1"},\n{employee: "e2"}]', 'application/json');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.details[0].path).toBe('line 2');
    expect((await api.upload(id, '{"employee": "e1"}', 'application/json')).body.error.message).toBe(
      'Invalid snapshot: (body): a JSON snapshot is an array of row objects',
    );
    expect(await snapshotIds(id)).toHaveLength(1);
  });

  it('keeps the newest three snapshots', async () => {
    const id = await uploadSource('HR kept');
    const made: number[] = [];
    for (let n = 1; n <= 4; n++) made.push((await api.upload(id, csv(people(n, 'kept.example')))).body.snapshot.id);
    expect(await snapshotIds(id)).toEqual([made[3], made[2], made[1]]);
  });

  it('a viewer key cannot upload; an operator key can', async () => {
    const id = await uploadSource('HR roles');
    const viewer = (await api.call('POST', '/api/v1/keys', { name: 'viewer', role: 'viewer' })).body!.key as string;
    const operator = (await api.call('POST', '/api/v1/keys', { name: 'operator', role: 'operator' })).body!
      .key as string;
    const refused = await api.upload(id, csv(people(2, 'roles.example')), 'text/csv', viewer);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect(await snapshotIds(id)).toEqual([]);
    expect((await api.upload(id, csv(people(2, 'roles.example')), 'text/csv', operator)).status).toBe(202);
    expect(await api.store.sources.liveIds(id, 'user')).toHaveLength(2);
  });

  it('a csv source has a path or takes uploads, never both; uploads go only to an upload source', async () => {
    const neither = await api.call('POST', '/api/v1/sources', { type: 'csv', name: 'Neither' });
    expect(neither.status).toBe(400);
    expect(neither.body!.error.message).toContain('a csv source needs path');
    const both = await api.call('POST', '/api/v1/sources', {
      type: 'csv',
      name: 'Both',
      origin: 'upload',
      path: '/tmp/x.csv',
    });
    expect(both.status).toBe(400);
    expect(both.body!.error.details[0]).toMatchObject({ path: 'path' });

    const byPath = await api.call('POST', '/api/v1/sources', {
      type: 'csv',
      name: 'By path',
      path: '/nonexistent.csv',
      columns: { id: 'employee', userPrincipalName: 'email' },
    });
    const id = byPath.body!.id as string;
    expect((await api.upload(id, csv(people(1, 'path.example')))).status).toBe(409);
    const switched = await api.call('PATCH', `/api/v1/sources/${id}`, { origin: 'upload' });
    expect(switched.body!.config).toEqual({
      origin: 'upload',
      columns: { id: 'employee', userPrincipalName: 'email' },
    });
    expect((await api.upload(id, csv(people(1, 'path.example')))).status).toBe(202);
    expect((await api.call('PATCH', `/api/v1/sources/${id}`, { origin: 'path' })).status).toBe(400);
  });

  it('a text/plain body is 415; an upload source imported before any upload fails its run, saying so', async () => {
    const id = await uploadSource('HR empty');
    expect((await api.upload(id, csv(people(1, 'empty.example')), 'text/plain')).status).toBe(415);
    const run = await api.sync(id);
    expect(run).toMatchObject({ status: 'failed' });
    expect(run.error).toContain('No snapshot has been uploaded');
  });
});

describe('csv source: upload size', () => {
  let small: Awaited<ReturnType<typeof sourcesApp>>;
  beforeAll(async () => {
    small = await sourcesApp({ limits: { maxBodyBytes: 1000, maxImportBodyBytes: 20_000 } });
  });
  afterAll(async () => {
    await small.close();
  });

  it('takes up to the import body limit (above the ordinary one) and answers 413 beyond it', async () => {
    const created = await small.call('POST', '/api/v1/sources', { type: 'csv', name: 'Size', origin: 'upload' });
    const id = created.body!.id as string;
    const rows = (n: number) =>
      ['id,userPrincipalName', ...Array.from({ length: n }, (_, i) => `p${i},p${i}@size.example`)].join('\n');
    expect(rows(100).length).toBeGreaterThan(1000);
    expect((await small.upload(id, rows(100))).status).toBe(202);

    const tooLarge = await small.upload(id, rows(1000));
    expect(rows(1000).length).toBeGreaterThan(20_000);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error).toMatchObject({ code: 'payload_too_large' });
    expect((await small.call('GET', `/api/v1/sources/${id}/snapshots`)).body!.items).toHaveLength(1);
  });
});
