import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { read, send, storeApp } from './helpers.ts';

let ctx: Awaited<ReturnType<typeof storeApp>>;
beforeAll(async () => {
  ctx = await storeApp();
});
afterAll(async () => {
  await ctx.close();
});

const req = (path: string, init?: RequestInit) => ctx.app.request(`/api/v1${path}`, init);

describe('directory users', () => {
  it('creates, reads, patches a user and keeps what was not patched', async () => {
    const created = await req(
      '/directory/users',
      send('POST', { userPrincipalName: 'ada@contoso.com', department: 'Sales' }),
    );
    expect(created.status).toBe(201);
    const user = await read(created);
    expect(user.accountEnabled).toBe(true);
    const patched = await req(`/directory/users/${user.id}`, send('PATCH', { jobTitle: 'Engineer' }));
    expect(patched.status).toBe(200);
    expect(await read(patched)).toMatchObject({ jobTitle: 'Engineer', department: 'Sales' });
    expect(await read(await req(`/directory/users/${user.id}`, send('GET')))).toMatchObject({ jobTitle: 'Engineer' });
  });

  it('refuses a request without the API key', async () => {
    const res = await req('/directory/users', { method: 'GET' });
    expect(res.status).toBe(401);
    expect((await read(res)).error.code).toBe('unauthorized');
  });

  it('names the bad field of an invalid user and rejects unknown attributes', async () => {
    const res = await req('/directory/users', send('POST', { userPrincipalName: 'x@y.z', accountEnabled: 'yes' }));
    expect(res.status).toBe(400);
    expect((await read(res)).error.details[0].path).toBe('accountEnabled');
    const unknown = await req('/directory/users', send('POST', { userPrincipalName: 'x@y.z', shoeSize: 44 }));
    expect(unknown.status).toBe(400);
  });

  it('answers 409 for a userPrincipalName already taken, whatever its case', async () => {
    await req('/directory/users', send('POST', { userPrincipalName: 'taken@contoso.com' }));
    const res = await req('/directory/users', send('POST', { userPrincipalName: 'TAKEN@contoso.com' }));
    expect(res.status).toBe(409);
    expect((await read(res)).error.code).toBe('conflict');
  });

  it('rejects a manager that does not exist', async () => {
    const res = await req(
      '/directory/users',
      send('POST', { userPrincipalName: 'm@contoso.com', managerId: 'nobody' }),
    );
    expect(res.status).toBe(400);
    expect((await read(res)).error.details[0].path).toBe('managerId');
  });

  it('soft-deletes into the recycle bin, restores, and deletes permanently', async () => {
    const user = await read(
      await req('/directory/users', send('POST', { id: 'u-del', userPrincipalName: 'del@contoso.com' })),
    );
    const soft = await req(`/directory/users/${user.id}`, send('DELETE'));
    expect(soft.status).toBe(200);
    expect((await read(soft)).deletedDateTime).not.toBeNull();
    const listed = await read(await req('/directory/users?deleted=only', send('GET')));
    expect(listed.items.map((u: { id: string }) => u.id)).toContain('u-del');
    const active = await read(await req('/directory/users?limit=500', send('GET')));
    expect(active.items.map((u: { id: string }) => u.id)).not.toContain('u-del');
    const restored = await req(`/directory/users/${user.id}/restore`, send('POST'));
    expect((await read(restored)).deletedDateTime).toBeNull();
    expect((await req(`/directory/users/${user.id}?permanent=true`, send('DELETE'))).status).toBe(204);
    expect((await req(`/directory/users/${user.id}`, send('GET'))).status).toBe(404);
    expect((await req(`/directory/users/${user.id}/restore`, send('POST'))).status).toBe(404);
    expect((await req(`/directory/users/${user.id}`, send('PATCH', { jobTitle: 'Ghost' }))).status).toBe(404);
    expect((await req(`/directory/users/${user.id}`, send('DELETE'))).status).toBe(404);
  });

  it('pages through users with the cursor, each user once', async () => {
    for (let i = 0; i < 5; i++)
      await req('/directory/users', send('POST', { id: `page-${i}`, userPrincipalName: `page${i}@contoso.com` }));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = await read(
        await req(`/directory/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`, send('GET')),
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((u) => u.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']));
  });

  it('answers 400 naming cursor for a forged cursor', async () => {
    const res = await req('/directory/users?cursor=bm90LWEtY3Vyc29y', send('GET'));
    expect(res.status).toBe(400);
    expect((await read(res)).error.details[0].path).toBe('cursor');
  });
});

describe('directory groups and members', () => {
  it('adds and removes members, nested groups included', async () => {
    const parent = await read(await req('/directory/groups', send('POST', { id: 'g-parent', displayName: 'Parent' })));
    await req('/directory/groups', send('POST', { id: 'g-child', displayName: 'Child' }));
    await req('/directory/users', send('POST', { id: 'u-member', userPrincipalName: 'member@contoso.com' }));
    const added = await req(`/directory/groups/${parent.id}/members`, send('POST', { memberId: 'g-child' }));
    expect(added.status).toBe(201);
    expect(await read(added)).toEqual({ groupId: 'g-parent', memberId: 'g-child', memberType: 'group' });
    expect((await req('/directory/groups/g-child/members', send('POST', { memberId: 'u-member' }))).status).toBe(201);
    expect((await req('/directory/groups/g-child/members', send('POST', { memberId: 'u-member' }))).status).toBe(200);
    const members = await read(await req('/directory/groups/g-parent/members', send('GET')));
    expect(members.items).toEqual([{ groupId: 'g-parent', memberId: 'g-child', memberType: 'group' }]);
    expect((await req('/directory/groups/g-child/members/u-member', send('DELETE'))).status).toBe(204);
    expect((await req('/directory/groups/g-child/members/u-member', send('DELETE'))).status).toBe(404);
  });

  it('refuses a member that does not exist and a group inside itself', async () => {
    await req('/directory/groups', send('POST', { id: 'g-self', displayName: 'Self' }));
    expect((await req('/directory/groups/g-self/members', send('POST', { memberId: 'ghost' }))).status).toBe(404);
    expect((await req('/directory/groups/g-self/members', send('POST', { memberId: 'g-self' }))).status).toBe(400);
    expect((await req('/directory/groups/ghost/members', send('POST', { memberId: 'g-self' }))).status).toBe(404);
  });

  it('patches, soft-deletes, restores and permanently deletes a group', async () => {
    await req('/directory/groups', send('POST', { id: 'g-life', displayName: 'Life' }));
    expect(await read(await req('/directory/groups/g-life', send('PATCH', { description: 'd' })))).toMatchObject({
      description: 'd',
    });
    expect((await read(await req('/directory/groups/g-life', send('DELETE')))).deletedDateTime).not.toBeNull();
    expect((await read(await req('/directory/groups/g-life/restore', send('POST')))).deletedDateTime).toBeNull();
    expect((await req('/directory/groups/g-life?permanent=true', send('DELETE'))).status).toBe(204);
    expect((await req('/directory/groups/g-life', send('GET'))).status).toBe(404);
    expect((await req('/directory/groups/g-life', send('PATCH', { description: 'e' }))).status).toBe(404);
    expect((await req('/directory/groups/g-life', send('DELETE'))).status).toBe(404);
    expect((await req('/directory/groups/g-life/restore', send('POST'))).status).toBe(404);
  });
});

describe('directory import', () => {
  it('imports the valid JSON rows and reports each bad row with its number and field', async () => {
    const res = await req(
      '/directory/import',
      send('POST', {
        users: [
          { id: 'imp-1', userPrincipalName: 'imp1@contoso.com' },
          { id: 'imp-2', userPrincipalName: 'imp2@contoso.com', managerId: 'imp-1' },
          { userPrincipalName: 'imp1@CONTOSO.com' },
          { userPrincipalName: '' },
          { id: 'imp-3', userPrincipalName: 'imp3@contoso.com', managerId: 'missing' },
        ],
        groups: [{ id: 'imp-g', displayName: 'Imported' }, { description: 'no name' }],
        memberships: [
          { groupId: 'Imported', memberId: 'imp2@contoso.com' },
          { groupId: 'imp-g', memberId: 'nobody' },
        ],
      }),
    );
    expect(res.status).toBe(200);
    const report = await read(res);
    expect(report.users).toEqual({ received: 5, created: 2, updated: 0, failed: 3 });
    expect(report.groups).toMatchObject({ received: 2, created: 1, failed: 1 });
    expect(report.memberships).toMatchObject({ received: 2, created: 1, failed: 1 });
    const errorsAt = report.errors.map(
      (e: { section: string; row: number; field: string }) => `${e.section}:${e.row}:${e.field}`,
    );
    expect(errorsAt).toEqual([
      'users:3:userPrincipalName',
      'users:4:userPrincipalName',
      'users:5:managerId',
      'groups:2:displayName',
      'memberships:2:memberId',
    ]);
    expect((await read(await req('/directory/users/imp-2', send('GET')))).managerId).toBe('imp-1');
    const members = await read(await req('/directory/groups/imp-g/members', send('GET')));
    expect(members.items.map((m: { memberId: string }) => m.memberId)).toEqual(['imp-2']);
  });

  it('importing the same users again updates them instead of duplicating', async () => {
    const body = { users: [{ userPrincipalName: 'again@contoso.com', department: 'A' }] };
    expect((await read(await req('/directory/import', send('POST', body)))).users.created).toBe(1);
    const second = await read(
      await req(
        '/directory/import',
        send('POST', { users: [{ userPrincipalName: 'again@contoso.com', department: 'B' }] }),
      ),
    );
    expect(second.users).toMatchObject({ created: 0, updated: 1 });
  });

  it('imports CSV with quoted cells and extension columns, reporting bad lines by line number', async () => {
    const csv = [
      'id,userPrincipalName,displayName,accountEnabled,businessPhones,extension_costCenter',
      'csv-1,csv1@contoso.com,"Vance, Adele",true,+1 555;+1 556,CC-7',
      'csv-2,,No Name,true,,',
      'csv-3,csv3@contoso.com,"Multi',
      'line",maybe,,',
      'csv-4,csv4@contoso.com,Four,false,,',
    ].join('\r\n');
    const ok = await ctx.app.request('/api/v1/directory/import?type=users', {
      method: 'POST',
      headers: { ...send('GET').headers, 'Content-Type': 'text/csv' },
      body: csv,
    });
    expect(ok.status).toBe(200);
    const report = await read(ok);
    expect(report.users).toEqual({ received: 4, created: 2, updated: 0, failed: 2 });
    expect(report.errors.map((e: { row: number; field: string }) => `${e.row}:${e.field}`)).toEqual([
      '3:userPrincipalName',
      '4:accountEnabled',
    ]);
    const user = await read(await req('/directory/users/csv-1', send('GET')));
    expect(user).toMatchObject({
      displayName: 'Vance, Adele',
      businessPhones: ['+1 555', '+1 556'],
      extensions: { extension_costCenter: 'CC-7' },
    });
    expect((await read(await req('/directory/users/csv-4', send('GET')))).accountEnabled).toBe(false);
  });

  it('answers 400 for broken CSV and 415 for other media types', async () => {
    const broken = await ctx.app.request('/api/v1/directory/import', {
      method: 'POST',
      headers: { ...send('GET').headers, 'Content-Type': 'text/csv' },
      body: 'userPrincipalName\n"unterminated',
    });
    expect(broken.status).toBe(400);
    const xml = await ctx.app.request('/api/v1/directory/import', {
      method: 'POST',
      headers: { ...send('GET').headers, 'Content-Type': 'application/xml' },
      body: '<users/>',
    });
    expect(xml.status).toBe(415);
  });
});
