// Two sources writing the same person: an HR export and an IT export, both csv upload sources that
// join their rows to existing users on userPrincipalName. Attribute precedence decides which
// source's value each attribute holds, whatever the order of the imports; the lower source's other
// attributes still land; a source that stops providing the person (or is deleted) hands its
// attributes to the other instead of deleting the person; app cycles see each change in the log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourcesApp } from './helpers.ts';

let api: Awaited<ReturnType<typeof sourcesApp>>;

type Row = Record<string, string>;
const csv = (rows: Row[]) => {
  const header = Object.keys(rows[0]);
  return [header.join(','), ...rows.map((r) => header.map((h) => r[h]).join(','))].join('\n');
};

async function source(name: string, settings: Record<string, unknown>): Promise<string> {
  const created = await api.call('POST', '/api/v1/sources', {
    type: 'csv',
    name,
    origin: 'upload',
    joinOn: 'userPrincipalName',
    deletionThresholdPercent: 100,
    ...settings,
  });
  expect(created.status, created.text).toBe(201);
  return created.body!.id as string;
}

/** HR ranks 10 and gives name and department; IT ranks 50 and gives department, title and mobile. */
async function pair(tag: string) {
  const hr = await source(`HR ${tag}`, {
    precedence: 10,
    columns: { id: 'emp', userPrincipalName: 'email', displayName: 'name', department: 'dept' },
  });
  const it = await source(`IT ${tag}`, {
    precedence: 50,
    columns: { id: 'uid', userPrincipalName: 'email', department: 'dept', jobTitle: 'title', mobilePhone: 'mobile' },
  });
  return { hr, it };
}

const hrRow = (email: string, dept = 'Finance', emp = 'e1'): Row => ({ emp, email, name: 'Ada Lovelace', dept });
const itRow = (email: string, dept = 'IT', title = 'Engineer', uid = 'u1'): Row => ({
  uid,
  email,
  dept,
  title,
  mobile: '+1 555 0100',
});

async function upload(id: string, rows: Row[]) {
  const answer = await api.upload(id, csv(rows));
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  const run = (await api.call('GET', `/api/v1/sources/${id}/runs`)).body!.items[0];
  expect(run.status, run.error).toBe('succeeded');
  return run;
}

/** The one user with this userPrincipalName, through GET /directory/users/{id}. */
async function person(email: string) {
  const found = await api.store.directory.getUserByPrincipalName(email);
  expect(found).not.toBeNull();
  const answer = await api.call('GET', `/api/v1/directory/users/${encodeURIComponent(found!.id)}`);
  expect(answer.status).toBe(200);
  return answer.body!;
}

const usersCalled = async (email: string) =>
  (await api.store.directory.listUsers({ search: email, deleted: 'include' })).items.length;

beforeAll(async () => {
  api = await sourcesApp();
});
afterAll(async () => {
  await api.close();
});

describe('attribute precedence between two sources', () => {
  it('the higher-precedence source wins the department in either order, and the other’s attributes land', async () => {
    for (const order of ['hr-first', 'it-first'] as const) {
      const email = `ada.${order}@corp.example`;
      const { hr, it } = await pair(order);
      if (order === 'hr-first') {
        await upload(hr, [hrRow(email)]);
        await upload(it, [itRow(email)]);
      } else {
        await upload(it, [itRow(email)]);
        await upload(hr, [hrRow(email)]);
      }
      const ada = await person(email);
      expect(ada, order).toMatchObject({
        displayName: 'Ada Lovelace',
        department: 'Finance',
        jobTitle: 'Engineer',
        mobilePhone: '+1 555 0100',
        deletedDateTime: null,
        attributeSources: { department: hr, displayName: hr, jobTitle: it, mobilePhone: it },
      });
      expect(ada.sources).toEqual([hr, it].sort());
      expect(await usersCalled(email)).toBe(1);
    }
  });

  it('a losing value changes nothing apps see; a value only the lower source gives is a change', async () => {
    const email = 'bo@corp.example';
    const { hr, it } = await pair('changes');
    await upload(hr, [hrRow(email)]);
    await upload(it, [itRow(email)]);
    const id = (await person(email)).id as string;

    const before = await api.store.changes.latestSeq();
    await upload(it, [itRow(email, 'Operations')]);
    expect((await person(email)).department).toBe('Finance');
    expect(await api.store.changes.latestSeq()).toBe(before);

    await upload(it, [itRow(email, 'Operations', 'Architect')]);
    expect((await person(email)).jobTitle).toBe('Architect');
    const logged = await api.store.changes.changesSince(before);
    expect(logged.filter((c) => c.objectId === id).map((c) => c.op)).toEqual(['upsert']);
  });

  it('a per-attribute rank beats the overall precedence and applies at once', async () => {
    const email = 'cy@corp.example';
    const { hr, it } = await pair('override');
    await upload(hr, [hrRow(email)]);
    await upload(it, [itRow(email)]);
    const patched = await api.call('PATCH', `/api/v1/sources/${it}`, { attributePrecedence: { department: 1 } });
    expect(patched.status, patched.text).toBe(200);
    expect(await person(email)).toMatchObject({ department: 'IT', attributeSources: { department: it } });

    const bad = await api.call('PATCH', `/api/v1/sources/${it}`, { attributePrecedence: { shoeSize: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('attributePrecedence');
  });

  it('a source that drops the person hands over its attributes; the last source to drop them deletes them', async () => {
    const email = 'dee@corp.example';
    const { hr, it } = await pair('withdraw');
    await upload(hr, [hrRow(email), hrRow('other@corp.example', 'Sales', 'e2')]);
    await upload(it, [itRow(email)]);

    const run = await upload(hr, [hrRow('other@corp.example', 'Sales', 'e2')]);
    expect(run).toMatchObject({ deleted: 0, updated: 1 });
    expect(await person(email)).toMatchObject({
      deletedDateTime: null,
      department: 'IT',
      displayName: null,
      sourceId: it,
      sources: [it],
      attributeSources: { department: it },
    });

    expect(await upload(it, [itRow('someone.else@corp.example', 'IT', 'Engineer', 'u9')])).toMatchObject({
      deleted: 1,
    });
    expect((await person(email)).deletedDateTime).not.toBeNull();
  });

  it('deleting a source leaves the person to the other source, which takes the attributes it had won', async () => {
    const email = 'eve@corp.example';
    const { hr, it } = await pair('delete');
    await upload(hr, [hrRow(email)]);
    await upload(it, [itRow(email)]);
    expect((await api.call('DELETE', `/api/v1/sources/${hr}`)).status).toBe(204);
    expect(await person(email)).toMatchObject({
      deletedDateTime: null,
      department: 'IT',
      jobTitle: 'Engineer',
      sourceId: it,
      sources: [it],
    });
  });

  it('an edit through the REST API holds until a source writes again, as without precedence', async () => {
    const email = 'fay@corp.example';
    const { hr, it } = await pair('rest');
    await upload(hr, [hrRow(email)]);
    await upload(it, [itRow(email)]);
    const id = (await person(email)).id as string;
    const edited = await api.call('PATCH', `/api/v1/directory/users/${encodeURIComponent(id)}`, {
      department: 'Legal',
    });
    expect(edited.status).toBe(200);
    const after = await person(email);
    expect(after.department).toBe('Legal');
    expect(after.attributeSources).not.toHaveProperty('department');

    await upload(hr, [hrRow(email)]);
    expect(await person(email)).toMatchObject({ department: 'Finance', attributeSources: { department: hr } });
  });

  it('without joinOn a second source does not join: a taken userPrincipalName is skipped as before', async () => {
    const email = 'gus@corp.example';
    const { hr } = await pair('nojoin');
    await upload(hr, [hrRow(email)]);
    const loner = await source('IT without join', {
      joinOn: undefined,
      columns: { id: 'uid', userPrincipalName: 'email', department: 'dept', jobTitle: 'title', mobilePhone: 'mobile' },
    });
    await api.upload(loner, csv([itRow(email)]));
    const run = (await api.call('GET', `/api/v1/sources/${loner}/runs`)).body!.items[0];
    expect(run).toMatchObject({ status: 'succeeded', created: 0 });
    expect(run.error).toContain('1 entry skipped');
    expect(await person(email)).toMatchObject({ department: 'Finance', sources: [hr] });
  });
});
