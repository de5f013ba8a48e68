// POST /api/v1/apps/{id}/expressions/evaluate (the expression tester) and the directory's name
// search (`search` on the users and groups lists), through the real app over a real store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, read, send, storeApp } from './helpers.ts';

type Ctx = Awaited<ReturnType<typeof storeApp>>;
let ctx: Ctx;
let appId: string;

const evaluate = (body: unknown, id = appId) =>
  ctx.app.request(`/api/v1/apps/${id}/expressions/evaluate`, send('POST', body));

beforeAll(async () => {
  ctx = await storeApp();
  appId = await createTestApp(ctx.app, 'Tester');
  for (const [id, displayName, upn] of [
    ['u1', 'Ada Lovelace', 'ada@contoso.example'],
    ['u2', 'Alan Turing', 'alan@contoso.example'],
    ['u3', '100% Test_User', 'odd@contoso.example'],
  ]) {
    const [givenName, surname] = displayName.split(' ');
    const res = await ctx.app.request(
      '/api/v1/directory/users',
      send('POST', { id, displayName, userPrincipalName: upn, givenName, surname, mailNickname: id }),
    );
    expect(res.status).toBe(201);
  }
  await ctx.app.request('/api/v1/directory/groups', send('POST', { id: 'g1', displayName: 'Sales Team' }));
});
afterAll(async () => {
  await ctx?.close();
});

describe('the expression tester', () => {
  it("evaluates an expression against a directory user's attributes and names what it reads", async () => {
    const res = await evaluate({ expression: 'Join(".", [givenName], [surname])', objectId: 'u1' });
    expect(res.status).toBe(200);
    const body = await read(res);
    expect(body.ok).toBe(true);
    expect(body.value).toBe('Ada.Lovelace');
    expect(body.attributes).toEqual(['givenName', 'surname']);
  });

  it('answers a syntax error with its position, not a 4xx', async () => {
    const body = await read(await evaluate({ expression: 'Join(".", [givenName]', objectId: 'u1' }));
    expect(body.ok).toBe(false);
    expect(body.error.kind).toBe('syntax');
    expect(body.error.position).toBeGreaterThan(0);
    expect(body.error.position).toBeLessThanOrEqual('Join(".", [givenName]'.length);
  });

  it('answers an evaluation error with the failing function and its position', async () => {
    const expression = 'Append("x", CDate([givenName]))';
    const body = await read(await evaluate({ expression, objectId: 'u1' }));
    expect(body.ok).toBe(false);
    expect(body.error.kind).toBe('evaluation');
    expect(body.error.functionName).toBe('CDate');
    expect(body.error.position).toBe(expression.indexOf('CDate'));
  });

  it('evaluates against a group too; 404 for an unknown object or app', async () => {
    const group = await read(await evaluate({ expression: '[displayName]', objectId: 'g1' }));
    expect(group.value).toBe('Sales Team');
    expect((await evaluate({ expression: '[displayName]', objectId: 'nobody' })).status).toBe(404);
    expect((await evaluate({ expression: '[displayName]', objectId: 'u1' }, 'no-such-app')).status).toBe(404);
    expect((await evaluate({ expression: '', objectId: 'u1' })).status).toBe(400);
  });
});

describe('directory search by name', () => {
  const names = async (path: string) =>
    (await read(await ctx.app.request(`/api/v1/directory/${path}`, send('GET')))).items.map(
      (i: { displayName: string }) => i.displayName,
    );

  it('finds users by part of the display name or user principal name, case-insensitively', async () => {
    expect(await names('users?search=TURING')).toEqual(['Alan Turing']);
    expect(await names('users?search=ada%40contoso')).toEqual(['Ada Lovelace']);
    expect(await names('groups?search=sales')).toEqual(['Sales Team']);
  });

  it('takes % and _ literally', async () => {
    expect(await names('users?search=100%25')).toEqual(['100% Test_User']);
    expect(await names('users?search=t_u')).toEqual(['100% Test_User']);
    expect(await names('users?search=%25')).toEqual(['100% Test_User']);
  });
});
