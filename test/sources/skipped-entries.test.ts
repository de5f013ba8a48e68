// An entry an import cannot write is skipped, and the run's history (GET /sources/{id}/runs, the
// console) says which entry and what is wrong with it in the directory's terms — a userPrincipalName
// another source's user holds — never the SQL statement the store ran nor the entry's other
// attributes (people's personal data). A failure Ferry cannot name is said to be one, and its whole
// error goes to the server log only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TakenError } from '../../store/errors.ts';
import type { DirectoryRepository, Store } from '../../store/index.ts';
import { runSourceImport } from '../../sources/run.ts';
import { sourcesApp } from './helpers.ts';

let api: Awaited<ReturnType<typeof sourcesApp>>;
/** The same API over the same store whose uploads import nothing: the test runs the import itself. */
let quiet: Awaited<ReturnType<typeof sourcesApp>>;

const policy = { allowLoopback: true, allowedNetworks: [] };

async function uploadSource(name: string): Promise<string> {
  const created = await api.call('POST', '/api/v1/sources', {
    type: 'csv',
    name,
    origin: 'upload',
    columns: { id: 'key', userPrincipalName: 'email', department: 'dept', jobTitle: 'title', mobilePhone: 'mobile' },
  });
  expect(created.status, created.text).toBe(201);
  return created.body!.id as string;
}

const HEADER = 'key,email,dept,title,mobile';

/** The newest run of a source, as the API answers it. */
async function lastRun(sourceId: string) {
  const runs = await api.call('GET', `/api/v1/sources/${sourceId}/runs`);
  expect(runs.status).toBe(200);
  return runs.body!.items[0] as { status: string; created: number; error: string | null };
}

/** Nothing of the statement or of the skipped row's attributes other than its key. */
function expectNoLeak(error: string) {
  for (const leaked of ['insert into', 'Failed query', 'params', 'directory_users', 'select', '$1']) {
    expect(error.toLowerCase()).not.toContain(leaked.toLowerCase());
  }
  for (const attribute of ['Night Audit', 'Vault Keeper', '555 0199']) expect(error).not.toContain(attribute);
}

beforeAll(async () => {
  api = await sourcesApp();
  const idle = async () => {};
  quiet = await sourcesApp({ store: api.store, control: { ensure: idle, stop: idle, resume: idle, syncNow: idle } });
});
afterAll(async () => {
  await api.close();
});

describe('skipped import entries', () => {
  it('a userPrincipalName another source’s user holds: the run names the entry and the conflict, not the SQL nor the row', async () => {
    const hr = await uploadSource('HR skip');
    const it = await uploadSource('IT skip');
    expect((await api.upload(hr, `${HEADER}\ne1,gus@corp.example,Finance,Clerk,+1 555 0100\n`)).status).toBe(202);
    expect((await lastRun(hr)).status).toBe('succeeded');

    // The same person in a second source that does not join: its row collides on userPrincipalName
    // (in another case), next to a row that writes fine.
    const itExport = `${HEADER}\nu1,GUS@corp.example,Night Audit,Vault Keeper,+1 555 0199\nu2,ida@corp.example,IT,Engineer,+1 555 0101\n`;
    expect((await api.upload(it, itExport)).status).toBe(202);
    const run = await lastRun(it);
    expect(run).toMatchObject({ status: 'succeeded', created: 1 });
    expect(run.error).toBe(
      `1 entry skipped: user u1: userPrincipalName GUS@corp.example is already used by another directory user (${hr}:e1).`,
    );
    expectNoLeak(run.error!);
    expect(await api.store.directory.getUserByPrincipalName('gus@corp.example')).toMatchObject({
      id: `${hr}:e1`,
      department: 'Finance',
    });
  });

  it('the store says the same conflict as a typed error, naming the field and its holder', async () => {
    const hr = await uploadSource('HR store');
    expect((await api.upload(hr, `${HEADER}\ne1,kim@corp.example,Finance,Clerk,+1 555 0100\n`)).status).toBe(202);
    const other = await uploadSource('IT store');
    const write = api.store.directory.upsertSourceUsers(other, [
      { ref: 'u1', user: { id: `${other}:u1`, userPrincipalName: 'kim@corp.example', department: 'Night Audit' } },
    ]);
    await expect(write).rejects.toBeInstanceOf(TakenError);
    await expect(write).rejects.toMatchObject({ field: 'userPrincipalName', takenBy: `user ${hr}:e1` });
  });

  it('a failure Ferry cannot name: the run says the entry could not be written; the whole error is in the server log', async () => {
    const id = await uploadSource('HR unnamed');
    expect(
      (
        await quiet.upload(
          id,
          `${HEADER}\ne1,lou@corp.example,Night Audit,Vault Keeper,+1 555 0199\ne2,max@corp.example,IT,Engineer,\n`,
        )
      ).status,
    ).toBe(202);
    // A store whose write of e1 fails as a driver does: the statement and the row's values in the message.
    const raw = new Error('Failed query: insert into "directory_users" … params: lou@corp.example,Night Audit');
    const directory = Object.create(api.store.directory) as DirectoryRepository;
    directory.upsertSourceUsers = async (sourceId, items, options) => {
      if (items.some((i) => i.ref === 'e1')) throw raw;
      return api.store.directory.upsertSourceUsers(sourceId, items, options);
    };
    const store: Store = { ...api.store, directory };
    const logged: { message: string; fields?: Record<string, unknown> }[] = [];
    const logger = { warn: (message: string, fields?: Record<string, unknown>) => logged.push({ message, fields }) };

    const run = await runSourceImport({ store, policy, logger }, id, 'full');
    expect(run).toMatchObject({ status: 'succeeded', created: 1 });
    expect(run.error).toBe('1 entry skipped: user e1: could not be written (see the server log)');
    expectNoLeak(run.error!);
    expect((await lastRun(id)).error).toBe(run.error);
    expect(logged).toEqual([
      { message: 'import entry skipped', fields: { sourceId: id, entry: 'user e1', error: raw } },
    ]);
  });
});
