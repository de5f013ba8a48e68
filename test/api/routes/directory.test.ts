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

  it('patches extension attributes as a JSON merge patch: null removes a key, absent keys are kept', async () => {
    const user = await read(
      await req(
        '/directory/users',
        send('POST', {
          userPrincipalName: 'ext@contoso.com',
          extensions: {
            extension_costCenter: 'CC-1',
            extensionAttribute1: 'Day shift',
            badge: { site: 'OSL', floor: 3 },
          },
        }),
      ),
    );
    const res = await req(
      `/directory/users/${user.id}`,
      send('PATCH', { extensions: { extensionAttribute1: null, extensionAttribute2: 'Lead', badge: { floor: null } } }),
    );
    expect(res.status).toBe(200);
    const expected = { extension_costCenter: 'CC-1', extensionAttribute2: 'Lead', badge: { site: 'OSL' } };
    expect((await read(res)).extensions).toEqual(expected);
    expect((await read(await req(`/directory/users/${user.id}`, send('GET')))).extensions).toEqual(expected);
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

  it('answers 409 for a userPrincipalName already taken, whatever its case, naming the existing user', async () => {
    const existing = await read(
      await req('/directory/users', send('POST', { userPrincipalName: 'taken@contoso.com' })),
    );
    const res = await req(
      '/directory/users',
      send('POST', { id: 'u-newcomer', userPrincipalName: 'TAKEN@contoso.com' }),
    );
    expect(res.status).toBe(409);
    const { error } = await read(res);
    expect(error.code).toBe('conflict');
    expect(error.message).toContain(existing.id);
    expect(error.message).not.toContain('u-newcomer');
    expect(error.details).toEqual([{ path: 'userPrincipalName', message: `taken by user ${existing.id}`, in: 'body' }]);
    // Without an id in the request the message names the existing user too (not a generated id).
    const again = await read(await req('/directory/users', send('POST', { userPrincipalName: 'taken@CONTOSO.com' })));
    expect(again.error.message).toContain(existing.id);
  });

  it('answers 409 for an id already taken, and for a patch to a taken userPrincipalName, naming the holder', async () => {
    await req('/directory/users', send('POST', { id: 'u-holder', userPrincipalName: 'holder@contoso.com' }));
    const sameId = await read(
      await req('/directory/users', send('POST', { id: 'u-holder', userPrincipalName: 'x@contoso.com' })),
    );
    expect(sameId.error).toMatchObject({ code: 'conflict', details: [{ path: 'id', in: 'body' }] });
    expect(sameId.error.message).toContain('u-holder');
    await req('/directory/users', send('POST', { id: 'u-mover', userPrincipalName: 'mover@contoso.com' }));
    const res = await req('/directory/users/u-mover', send('PATCH', { userPrincipalName: 'Holder@contoso.com' }));
    expect(res.status).toBe(409);
    expect((await read(res)).error.details).toEqual([
      { path: 'userPrincipalName', message: 'taken by user u-holder', in: 'body' },
    ]);
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
    expect(members.items).toEqual([
      { groupId: 'g-parent', memberId: 'g-child', memberType: 'group', displayName: 'Child' },
    ]);
    expect((await req('/directory/groups/g-child/members/u-member', send('DELETE'))).status).toBe(204);
    expect((await req('/directory/groups/g-child/members/u-member', send('DELETE'))).status).toBe(404);
  });

  it('lists members with their names a page at a time, direct or through nesting (each member once)', async () => {
    await req('/directory/groups', send('POST', { id: 'pg-top', displayName: 'Top' }));
    await req('/directory/groups', send('POST', { id: 'pg-mid', displayName: 'Middle' }));
    for (const n of [1, 2, 3]) {
      await req(
        '/directory/users',
        send('POST', { id: `pg-u${n}`, userPrincipalName: `pg${n}@contoso.com`, displayName: `Person ${n}` }),
      );
    }
    for (const [group, member] of [
      ['pg-top', 'pg-u1'],
      ['pg-top', 'pg-mid'],
      ['pg-mid', 'pg-u1'],
      ['pg-mid', 'pg-u2'],
      ['pg-mid', 'pg-u3'],
    ]) {
      expect((await req(`/directory/groups/${group}/members`, send('POST', { memberId: member }))).status).toBe(201);
    }
    const names = (page: { items: { memberId: string; displayName: string | null }[] }) =>
      page.items.map((m) => `${m.memberId}=${m.displayName}`);

    const direct = await read(await req('/directory/groups/pg-top/members', send('GET')));
    expect(names(direct)).toEqual(['pg-mid=Middle', 'pg-u1=Person 1']);
    expect(direct.nextCursor).toBeNull();

    // Through nesting: pg-u1 is reached twice (directly and through Middle) and listed once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `transitive=true&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await read(await req(`/directory/groups/pg-top/members?${query}`, send('GET')));
      expect(page.items.length).toBeLessThanOrEqual(2);
      expect(page.items.every((m: { groupId: string }) => m.groupId === 'pg-top')).toBe(true);
      seen.push(...names(page));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['pg-mid=Middle', 'pg-u1=Person 1', 'pg-u2=Person 2', 'pg-u3=Person 3']);

    const bad = await req('/directory/groups/pg-top/members?transitive=yes', send('GET'));
    expect(bad.status).toBe(400);
    expect((await read(bad)).error.details[0].path).toBe('transitive');
  });

  it('answers 409 for a group id already taken, naming that group', async () => {
    await req('/directory/groups', send('POST', { id: 'g-taken', displayName: 'First' }));
    const res = await req('/directory/groups', send('POST', { id: 'g-taken', displayName: 'Second' }));
    expect(res.status).toBe(409);
    const { error } = await read(res);
    expect(error.message).toContain('g-taken');
    expect(error.details).toEqual([{ path: 'id', message: 'taken by group g-taken (First)', in: 'body' }]);
  });

  it('refuses a member that does not exist and a group inside itself', async () => {
    await req('/directory/groups', send('POST', { id: 'g-self', displayName: 'Self' }));
    expect((await req('/directory/groups/g-self/members', send('POST', { memberId: 'ghost' }))).status).toBe(404);
    expect((await req('/directory/groups/g-self/members', send('POST', { memberId: 'g-self' }))).status).toBe(400);
    expect((await req('/directory/groups/ghost/members', send('POST', { memberId: 'g-self' }))).status).toBe(404);
  });

  it('refuses nesting that would make a cycle with 409 group_nesting_cycle naming it', async () => {
    await req('/directory/groups', send('POST', { id: 'cyc-A', displayName: 'A' }));
    await req('/directory/groups', send('POST', { id: 'cyc-B', displayName: 'B' }));
    expect((await req('/directory/groups/cyc-B/members', send('POST', { memberId: 'cyc-A' }))).status).toBe(201);
    const res = await req('/directory/groups/cyc-A/members', send('POST', { memberId: 'cyc-B' }));
    expect(res.status).toBe(409);
    const { error } = await read(res);
    expect(error.code).toBe('group_nesting_cycle');
    expect(error.message).toContain('cyc-A → cyc-B → cyc-A');
    expect(error.details).toEqual([{ path: 'memberId', message: 'cyc-A → cyc-B → cyc-A', in: 'body' }]);
    expect((await read(await req('/directory/groups/cyc-A/members', send('GET')))).items).toEqual([]);
  });

  it('patches group extension attributes as a JSON merge patch', async () => {
    await req('/directory/groups', send('POST', { id: 'g-ext', displayName: 'Ext', extensions: { a: '1', b: '2' } }));
    const res = await req('/directory/groups/g-ext', send('PATCH', { extensions: { a: null, c: '3' } }));
    expect((await read(res)).extensions).toEqual({ b: '2', c: '3' });
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

  it('an import reports the membership row that would make a cycle and adds the others (JSON and CSV)', async () => {
    const json = await read(
      await req(
        '/directory/import',
        send('POST', {
          groups: [
            { id: 'ic-A', displayName: 'IC A' },
            { id: 'ic-B', displayName: 'IC B' },
            { id: 'ic-C', displayName: 'IC C' },
          ],
          memberships: [
            { groupId: 'ic-A', memberId: 'ic-B' },
            { groupId: 'ic-B', memberId: 'ic-A' },
            { groupId: 'ic-B', memberId: 'ic-C' },
          ],
        }),
      ),
    );
    expect(json.memberships).toMatchObject({ received: 3, created: 2, failed: 1 });
    expect(json.errors).toEqual([
      { section: 'memberships', row: 2, field: 'memberId', message: 'group nesting cycle: ic-B → ic-A → ic-B' },
    ]);
    const csvReport = await read(
      await ctx.app.request('/api/v1/directory/import?type=memberships', {
        method: 'POST',
        headers: { ...send('GET').headers, 'Content-Type': 'text/csv' },
        body: 'groupId,memberId\nic-C,ic-A\n',
      }),
    );
    expect(csvReport.errors).toEqual([
      { section: 'memberships', row: 2, field: 'memberId', message: 'group nesting cycle: ic-C → ic-A → ic-B → ic-C' },
    ]);
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

describe('values Ferry cannot store: text holding U+0000, JSON nested thousands of levels deep', () => {
  const nul = 'contains the NUL character (U+0000), which Ferry cannot store';
  const tooDeep = 'nests arrays and objects deeper than 32 levels';
  const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
  const post = (path: string, text: string) =>
    req(path, { method: 'POST', headers: { ...send('GET').headers, 'Content-Type': 'application/json' }, body: text });

  it('nesting 10 000 levels deep is a 400 naming the field, not a 500; 20 levels are stored', async () => {
    const deep = await post(
      '/directory/users',
      `{"userPrincipalName":"deep@contoso.com","extensions":{"x":${nested(10_000)}}}`,
    );
    expect(deep.status).toBe(400);
    const error = (await read(deep)).error;
    expect(error.details).toEqual([{ path: `extensions.x${'[0]'.repeat(30)}`, message: tooDeep, in: 'body' }]);
    const fine = await post(
      '/directory/users',
      `{"userPrincipalName":"deep@contoso.com","extensions":{"x":${nested(20)}}}`,
    );
    expect(fine.status).toBe(201);
    const report = await read(
      await post(
        '/directory/import',
        `{"groups":[{"displayName":"Deep","extensions":{"x":${nested(10_000)}}},{"displayName":"Flat"}]}`,
      ),
    );
    expect(report.groups).toEqual({ received: 2, created: 1, updated: 0, failed: 1 });
    expect(report.errors).toEqual([
      { section: 'groups', row: 1, field: `extensions.x${'[0]'.repeat(30)}`, message: tooDeep },
    ]);
  });

  it('is a 400 naming the field (attribute, extension key, nested value), not a 500', async () => {
    const user = await req('/directory/users', send('POST', { userPrincipalName: 'nul\u0000@contoso.com' }));
    expect(user.status).toBe(400);
    expect((await read(user)).error).toMatchObject({
      code: 'validation_failed',
      details: [{ path: 'userPrincipalName', message: nul, in: 'body' }],
    });
    await req('/directory/groups', send('POST', { id: 'g-nul', displayName: 'Nul' }));
    const key = await req('/directory/groups/g-nul', send('PATCH', { extensions: { 'cost\u0000center': 'x' } }));
    expect(key.status).toBe(400);
    expect((await read(key)).error.details).toEqual([
      { path: 'extensions.cost\u0000center', message: nul, in: 'body' },
    ]);
    const value = await req('/directory/groups/g-nul', send('PATCH', { extensions: { list: ['ok', 'a\u0000'] } }));
    expect((await read(value)).error.details[0].path).toBe('extensions.list[1]');
    expect((await read(await req('/directory/groups/g-nul', send('GET')))).extensions).toEqual({});
  });

  it('refuses half a surrogate pair (not Unicode text) as a 400 naming the field, in text and in extensions', async () => {
    const lone = 'contains half of a UTF-16 surrogate pair, which is not Unicode text';
    // JSON text escapes it; JSON.parse gives a string Postgres refuses in jsonb and mangles in text.
    const extension = await post('/directory/groups', '{"displayName":"Lone","extensions":{"k":"\\ud800"}}');
    expect(extension.status).toBe(400);
    expect((await read(extension)).error.details).toEqual([{ path: 'extensions.k', message: lone, in: 'body' }]);
    const text = await req('/directory/users', send('POST', { userPrincipalName: 'x\uDFFFy@contoso.com' }));
    expect(text.status).toBe(400);
    expect((await read(text)).error.details).toEqual([{ path: 'userPrincipalName', message: lone, in: 'body' }]);
    const pair = await req('/directory/users', send('POST', { userPrincipalName: 'fam👩‍👧@contoso.com' }));
    expect(pair.status).toBe(201);
  });

  it('fails only its own row in an import, JSON or CSV', async () => {
    const json = await req(
      '/directory/import',
      send('POST', {
        users: [
          { id: 'nul-1', userPrincipalName: 'nul1@contoso.com' },
          { id: 'nul-2', userPrincipalName: 'nul2@contoso.com', displayName: 'N\u0000' },
        ],
      }),
    );
    expect(json.status).toBe(200);
    const report = await read(json);
    expect(report.users).toEqual({ received: 2, created: 1, updated: 0, failed: 1 });
    expect(report.errors).toEqual([{ section: 'users', row: 2, field: 'displayName', message: nul }]);
    const csv = await ctx.app.request('/api/v1/directory/import?type=users', {
      method: 'POST',
      headers: { ...send('GET').headers, 'Content-Type': 'text/csv' },
      body: 'id,userPrincipalName\nnul-3,nul3@contoso.com\nnul-4,nul\u00004@contoso.com\n',
    });
    const csvReport = await read(csv);
    expect(csvReport.users).toEqual({ received: 2, created: 1, updated: 0, failed: 1 });
    expect(csvReport.errors).toEqual([{ section: 'users', row: 3, field: 'userPrincipalName', message: nul }]);
    expect((await req('/directory/users/nul-3', send('GET'))).status).toBe(200);
  });
});
