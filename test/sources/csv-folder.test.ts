// A csv source watching a folder, through the API: the folder is checked at create; each import
// takes the newest complete file (unmodified for settleSeconds), records it (name, size, sha256)
// and does not import the same file again; a file still being written waits; people absent from
// the newest file are soft-deleted under the deletion threshold.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directoryId } from '../../sources/import.ts';
import { sourcesApp } from './helpers.ts';

let api: Awaited<ReturnType<typeof sourcesApp>>;
const root = mkdtempSync(join(tmpdir(), 'ferry-csv-folder-'));
const folder = join(root, 'hr');
mkdirSync(folder);

const people = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `p${i}`, email: `p${i}@hr.example` }));
const csv = (rows: { id: string; email: string }[]) =>
  ['id,email', ...rows.map((r) => `${r.id},${r.email}`)].join('\n') + '\n';
/** Writes a file as an HR job would, `ageSeconds` ago (its modification time). */
function drop(name: string, content: string, ageSeconds: number): void {
  const path = join(folder, name);
  writeFileSync(path, content);
  const when = new Date(Date.now() - ageSeconds * 1000);
  utimesSync(path, when, when);
}

beforeAll(async () => {
  api = await sourcesApp();
});
afterAll(async () => {
  await api.close();
  rmSync(root, { recursive: true, force: true });
});

describe('CSV source watching a folder', () => {
  it('refuses a folder that does not exist, is a file or is relative, naming folder', async () => {
    writeFileSync(join(root, 'a-file.csv'), 'id,email\n');
    for (const bad of [join(root, 'missing'), join(root, 'a-file.csv'), 'relative/hr']) {
      const answer = await api.call('POST', '/api/v1/sources', {
        type: 'csv',
        name: 'HR',
        origin: 'folder',
        folder: bad,
      });
      expect(answer.status, bad).toBe(400);
      expect(answer.body!.error.details).toEqual([expect.objectContaining({ path: 'folder' })]);
    }
    const noFolder = await api.call('POST', '/api/v1/sources', { type: 'csv', name: 'HR', origin: 'folder' });
    expect(noFolder.status).toBe(400);
    expect(noFolder.text).toContain('needs folder');
    const both = await api.call('POST', '/api/v1/sources', {
      type: 'csv',
      name: 'HR',
      path: join(root, 'a-file.csv'),
      folder,
    });
    expect(both.status).toBe(400);
  });

  it('imports the newest complete file once, leaves a file being written, and deletes under the threshold', async () => {
    const created = await api.call('POST', '/api/v1/sources', {
      type: 'csv',
      name: 'HR folder',
      origin: 'folder',
      folder,
      settleSeconds: 30,
      columns: { userPrincipalName: 'email' },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body!.id as string;

    // Nothing complete yet: the run fails saying so.
    drop('hr-0.csv', csv(people(10)), 0);
    expect(await api.sync(id)).toMatchObject({ status: 'failed', error: expect.stringContaining('no complete') });

    drop('hr-0.csv', csv(people(10)), 120);
    expect(await api.sync(id)).toMatchObject({ status: 'succeeded', created: 10 });
    const content = csv(people(10));
    expect((await api.call('GET', `/api/v1/sources/${id}`)).body!.state.folderFile).toMatchObject({
      name: 'hr-0.csv',
      size: Buffer.byteLength(content),
      sha256: createHash('sha256').update(content).digest('hex'),
    });

    // The same file again: nothing imported.
    expect(await api.sync(id)).toMatchObject({
      status: 'succeeded',
      created: 0,
      unchanged: 0,
      error: expect.stringContaining('hr-0.csv'),
    });

    // A newer JSON export without p9 (1 of 10: under the 20 % threshold), and a newest file still being written.
    drop('hr-1.json', JSON.stringify(people(9)), 60);
    drop('hr-2.csv', csv(people(1)), 1);
    expect(await api.sync(id)).toMatchObject({ status: 'succeeded', deleted: 1, unchanged: 9 });
    expect((await api.store.directory.getUser(directoryId(id, 'p9')))?.deletedDateTime).not.toBeNull();
    expect((await api.call('GET', `/api/v1/sources/${id}`)).body!.state.folderFile.name).toBe('hr-1.json');

    // Once complete, the one-person file is taken: far fewer people, so the deletions wait for approval.
    drop('hr-2.csv', csv(people(1)), 45);
    expect(await api.sync(id)).toMatchObject({ status: 'needsApproval', stagedDeletions: 8, deleted: 0 });
    expect(await api.store.sources.liveIds(id, 'user')).toHaveLength(9);
  });
});
