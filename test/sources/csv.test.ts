// The CSV-file source through the API: rows become users, a changed row updates, and a file that
// suddenly lists far fewer people stages the deletions until they are approved.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directoryId } from '../../sources/import.ts';
import { sourcesApp } from './helpers.ts';

let api: Awaited<ReturnType<typeof sourcesApp>>;
const dir = mkdtempSync(join(tmpdir(), 'ferry-csv-source-'));
const file = join(dir, 'people.csv');

const write = (rows: string[][]) =>
  writeFileSync(file, ['employee,email,name,active', ...rows.map((r) => r.join(','))].join('\n'));
const people = (n: number, title = 'x') =>
  Array.from({ length: n }, (_, i) => [`e${i}`, `e${i}@hr.example`, `"Person ${i}, ${title}"`, i === 1 ? 'no' : 'yes']);

beforeAll(async () => {
  api = await sourcesApp();
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('CSV-file source', () => {
  it('imports rows as users, updates changed rows, and stages a mass deletion until approved', async () => {
    write(people(10));
    const created = await api.call('POST', '/api/v1/sources', {
      type: 'csv',
      name: 'HR export',
      path: file,
      columns: { id: 'employee', userPrincipalName: 'email', displayName: 'name', accountEnabled: 'active' },
    });
    expect(created.status).toBe(201);
    const id = created.body!.id as string;

    expect(await api.sync(id)).toMatchObject({ status: 'succeeded', created: 10 });
    expect(await api.store.directory.getUser(directoryId(id, 'e1'))).toMatchObject({
      userPrincipalName: 'e1@hr.example',
      displayName: 'Person 1, x',
      accountEnabled: false,
    });

    const changed = people(10);
    changed[2][2] = 'Renamed';
    write(changed.slice(0, 9));
    expect(await api.sync(id)).toMatchObject({ status: 'succeeded', updated: 1, deleted: 1, unchanged: 8 });
    expect((await api.store.directory.getUser(directoryId(id, 'e9')))?.deletedDateTime).not.toBeNull();

    write(people(1));
    const staged = await api.sync(id);
    expect(staged).toMatchObject({ status: 'needsApproval', stagedDeletions: 8, deleted: 0 });
    expect(await api.store.sources.liveIds(id, 'user')).toHaveLength(9);
    expect((await api.call('POST', `/api/v1/sources/${id}/approve-deletions`)).body).toEqual({ deleted: 8 });
    expect(await api.store.sources.liveIds(id, 'user')).toHaveLength(1);
  });

  it('a file without the id column fails the run, naming the column', async () => {
    writeFileSync(join(dir, 'bad.csv'), 'email\na@b.example\n');
    const created = await api.call('POST', '/api/v1/sources', { type: 'csv', name: 'Bad', path: join(dir, 'bad.csv') });
    const run = await api.sync(created.body!.id as string);
    expect(run.status).toBe('failed');
    expect(run.error).toContain('no column id');
  });
});
