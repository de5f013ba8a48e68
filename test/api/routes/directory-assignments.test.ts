// GET /directory/users/{id}/assignments and /directory/groups/{id}/assignments: which apps a user or
// group is assigned to, directly or through a (nested) group, a page at a time, readable by every role.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createTestApp, read, send, storeApp } from './helpers.ts';

let ctx: Awaited<ReturnType<typeof storeApp>>;
let payroll: string;
let wiki: string;
let crm: string;
let viewerKey: string;
beforeAll(async () => {
  ctx = await storeApp();
  payroll = await createTestApp(ctx.app, 'Payroll');
  wiki = await createTestApp(ctx.app, 'Wiki');
  crm = await createTestApp(ctx.app, 'CRM');
  viewerKey = (await read(await req('/keys', send('POST', { name: 'auditor', role: 'viewer' })))).key;
  await req('/directory/users', send('POST', { id: 'oa-ada', userPrincipalName: 'ada@contoso.com' }));
  await req('/directory/users', send('POST', { id: 'oa-bob', userPrincipalName: 'bob@contoso.com' }));
  await req('/directory/groups', send('POST', { id: 'oa-staff', displayName: 'Staff' }));
  await req('/directory/groups', send('POST', { id: 'oa-eng', displayName: 'Engineers' }));
  // Ada is in Engineers, which is nested in Staff.
  await req('/directory/groups/oa-staff/members', send('POST', { memberId: 'oa-eng' }));
  await req('/directory/groups/oa-eng/members', send('POST', { memberId: 'oa-ada' }));
  await req(`/apps/${payroll}/assignments`, send('POST', { principalId: 'oa-ada' }));
  await req(`/apps/${wiki}/assignments`, send('POST', { principalId: 'oa-staff', role: 'Reader' }));
  await req(`/apps/${crm}/assignments`, send('POST', { principalId: 'oa-bob' }));
});
afterAll(async () => {
  await ctx.close();
});

const req = (path: string, init?: RequestInit) => ctx.app.request(`/api/v1${path}`, init);

type Item = { appId: string; appName: string; role: string; viaGroupId: string | null; viaGroupName: string | null };
const describeItem = (a: Item) => `${a.appName}:${a.role}:${a.viaGroupName ?? 'direct'}`;

/** Every page of a listing, following nextCursor. */
async function allPages(path: string, limit: number): Promise<{ items: Item[]; pages: number }> {
  const items: Item[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const page = await read(await req(`${path}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, send('GET')));
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor);
  return { items, pages };
}

describe("a directory object's assignments", () => {
  it("lists a user's apps, directly and through a nested group naming that group, each once across pages", async () => {
    const { items, pages } = await allPages('/directory/users/oa-ada/assignments', 1);
    expect(pages).toBe(2);
    expect(items.map(describeItem).sort()).toEqual(['Payroll:User:direct', 'Wiki:Reader:Staff']);
    expect(items.find((a) => a.appName === 'Wiki')).toMatchObject({ appId: wiki, viaGroupId: 'oa-staff' });
    expect(items.find((a) => a.appName === 'Payroll')).toMatchObject({ appId: payroll, viaGroupId: null });
  });

  it("lists a group's apps, its own and through the group it is nested in", async () => {
    const eng = await read(await req('/directory/groups/oa-eng/assignments', send('GET')));
    expect(eng.items.map(describeItem)).toEqual(['Wiki:Reader:Staff']);
    const staff = await read(await req('/directory/groups/oa-staff/assignments', send('GET')));
    expect(staff.items.map(describeItem)).toEqual(['Wiki:Reader:direct']);
    expect(staff.nextCursor).toBeNull();
  });

  it('drops an app once the user is unassigned', async () => {
    await req('/directory/users', send('POST', { id: 'oa-cy', userPrincipalName: 'cy@contoso.com' }));
    await req(`/apps/${crm}/assignments`, send('POST', { principalId: 'oa-cy' }));
    const before = await read(await req('/directory/users/oa-cy/assignments', send('GET')));
    expect(before.items.map(describeItem)).toEqual(['CRM:User:direct']);
    expect((await req(`/apps/${crm}/assignments/oa-cy`, send('DELETE'))).status).toBe(204);
    const after = await read(await req('/directory/users/oa-cy/assignments', send('GET')));
    expect(after.items).toEqual([]);
  });

  it('answers 404 for an unknown user or group (or the wrong kind) and 400 naming cursor for a forged cursor', async () => {
    expect((await req('/directory/users/nobody/assignments', send('GET'))).status).toBe(404);
    expect((await req('/directory/groups/oa-ada/assignments', send('GET'))).status).toBe(404);
    const bad = await req('/directory/users/oa-ada/assignments?cursor=WyJ4Il0', send('GET'));
    expect(bad.status).toBe(400);
    expect((await read(bad)).error.details[0].path).toBe('cursor');
  });

  it('is read by a viewer key, and refused without a key', async () => {
    const asViewer = await req('/directory/users/oa-bob/assignments', { headers: auth(viewerKey) });
    expect(asViewer.status).toBe(200);
    expect((await read(asViewer)).items.map(describeItem)).toEqual(['CRM:User:direct']);
    expect((await req('/directory/groups/oa-eng/assignments')).status).toBe(401);
  });
});
