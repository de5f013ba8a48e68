// POST /api/v1/apps/{id}/scope/count: how many directory objects a draft scope selects before it
// is saved, through the real app over a real store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, read, send, storeApp } from './helpers.ts';

type Ctx = Awaited<ReturnType<typeof storeApp>>;
let ctx: Ctx;
let appId: string;

const count = (body: unknown, id = appId) => ctx.app.request(`/api/v1/apps/${id}/scope/count`, send('POST', body));
const salesOnly = {
  user: [{ title: 'Sales', clauses: [{ attribute: 'department', operator: 'EQUALS', value: 'Sales' }] }],
};

beforeAll(async () => {
  ctx = await storeApp();
  appId = await createTestApp(ctx.app, 'Counted');
  const users = [
    { id: 'u1', department: 'Sales', accountEnabled: true },
    { id: 'u2', department: 'Sales', accountEnabled: true },
    { id: 'u3', department: 'Engineering', accountEnabled: true },
    { id: 'u4', department: 'Sales', accountEnabled: false },
    { id: 'u5', department: 'Sales', accountEnabled: true },
  ].map((u) => ({ ...u, displayName: u.id, userPrincipalName: `${u.id}@contoso.example`, mailNickname: u.id }));
  const imported = await ctx.app.request(
    '/api/v1/directory/import',
    send('POST', {
      users,
      groups: [
        { id: 'g1', displayName: 'Everyone' },
        { id: 'g2', displayName: 'Nested' },
      ],
      // u1 directly in g1; u2 and u3 through g2, nested in g1; u5 in no group.
      memberships: [
        { groupId: 'g1', memberId: 'u1' },
        { groupId: 'g1', memberId: 'g2' },
        { groupId: 'g2', memberId: 'u2' },
        { groupId: 'g2', memberId: 'u3' },
        { groupId: 'g1', memberId: 'u4' },
      ],
    }),
  );
  expect(imported.status).toBeLessThan(300);
  const assigned = await ctx.app.request(`/api/v1/apps/${appId}/assignments`, send('POST', { principalId: 'g1' }));
  expect(assigned.status).toBe(201);
});
afterAll(async () => {
  await ctx?.close();
});

describe('counting what a draft scope selects', () => {
  it('counts the assigned users, nested groups followed, disabled users left out', async () => {
    const body = await read(await count({}));
    expect(body.scope).toBe('assigned');
    expect(body.user).toEqual({ inScope: 3, passFilters: 4, active: 4 });
    // g1 is assigned; g2 is reached through it.
    expect(body.group.inScope).toBe(2);
  });

  it('counts a draft scoping filter without saving it', async () => {
    const body = await read(await count({ scopingFilters: salesOnly }));
    // u1 and u2 are assigned Sales people; u5 is in Sales but not assigned.
    expect(body.user).toEqual({ inScope: 2, passFilters: 3, active: 4 });
    const app = await read(await ctx.app.request(`/api/v1/apps/${appId}`, send('GET')));
    expect(app.scopingFilters.user).toEqual([]);
  });

  it('counts the whole directory with the draft scope all', async () => {
    const body = await read(await count({ scope: 'all', scopingFilters: salesOnly }));
    expect(body.scope).toBe('all');
    expect(body.user.inScope).toBe(3);
  });

  it('refuses a draft filter a save would refuse, naming the field', async () => {
    const res = await count({
      scopingFilters: { user: [{ clauses: [{ attribute: 'department', operator: 'LIKE' }] }] },
    });
    expect(res.status).toBe(400);
    const body = await read(res);
    expect(body.error.details.map((d: { path: string }) => d.path)).toContain(
      'scopingFilters.user[0].clauses[0].operator',
    );
  });

  it('answers 404 for an unknown app', async () => {
    expect((await count({}, 'nope')).status).toBe(404);
  });
});
