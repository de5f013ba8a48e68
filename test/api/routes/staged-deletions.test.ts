// Staged deletions one by one, through the real API, job and worker against a third-party SCIM peer:
// a cycle over the deletion threshold holds its disables; an operator approves one (it is disabled
// now), rejects the rest by type (nothing is sent), and the job leaves its TooManyDeletes quarantine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The API first: @hono/zod-openapi extends zod before the engine's schemas are made.
import { read, send } from './helpers.ts';
import { groupId, upn, userId } from '../../provisioning/fixtures.ts';
import { provisionedApp, startJobApi, type JobApi } from './job-api.ts';

const shape = { users: 4, groups: 1 };

describe('staged deletions, one by one', () => {
  let t: JobApi;
  let appId: string;

  beforeAll(async () => {
    t = await startJobApi();
    appId = await provisionedApp(t, shape, { deletionThreshold: { count: 1 } });
    // Every user leaves scope: four disables over a threshold of one are held.
    await t.h.store.assignments.unassign(appId, groupId(1));
    expect((await t.api.app.request(`/api/v1/apps/${appId}/provisioning/run`, send('POST'))).status).toBe(202);
    await t.h.waitFor(appId, (s) => s.quarantine?.reason === 'TooManyDeletes', 'deletions held');
  });

  afterAll(async () => {
    await t?.close();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await t.api.app.request(`/api/v1/apps/${appId}${path}`, send(method, body));
    expect(res.status, `${method} ${path}`).toBe(200);
    return read(res);
  };
  const activeAt = async () =>
    new Map((await t.peer.users()).map((u) => [String(u.userName), u.active !== false] as const));

  it('lists what is held, approves one (disabled now), rejects the rest by type and by id, and the job is released', async () => {
    const listed = await call('GET', '/staged-deletions');
    // The users are disabled, the group (no `active` in SCIM) deleted.
    expect(listed.total).toBe(5);
    const held = Object.fromEntries(
      listed.items.map((i: { objectId: string; heldAction: string }) => [i.objectId, i.heldAction]),
    );
    expect(held).toEqual({
      ...Object.fromEntries([1, 2, 3, 4].map((i) => [userId(i), 'Disable'])),
      [groupId(1)]: 'Delete',
    });

    const approved = await call('POST', '/staged-deletions/approve', { objectIds: [userId(2)] });
    expect(approved).toEqual({
      results: [{ objectType: 'user', objectId: userId(2), status: 'approved', action: 'Disable', errorCode: null }],
      remaining: 4,
      released: false,
    });
    let active = await activeAt();
    expect(active.get(upn(2))).toBe(false);
    expect([1, 3, 4].map((i) => active.get(upn(i)))).toEqual([true, true, true]);
    expect((await call('GET', '/staged-deletions', undefined)).total).toBe(4);

    const before = t.peer.requestLog.length;
    const users = await call('POST', '/staged-deletions/reject', { objectType: 'user' });
    expect(users).toMatchObject({ remaining: 1, released: false });
    expect(users.results.map((r: { objectId: string }) => r.objectId).sort()).toEqual([1, 3, 4].map(userId));
    const group = await call('POST', '/staged-deletions/reject', { objectIds: [groupId(1)] });
    expect(group).toMatchObject({ remaining: 0, released: true });
    expect(t.peer.requestLog.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
    await t.h.waitFor(appId, (s) => s.quarantine === null, 'the hold to end');
    active = await activeAt();
    expect([1, 3, 4].map((i) => active.get(upn(i)))).toEqual([true, true, true]);
    expect((await t.peer.groups()).map((g) => g.displayName)).toEqual(['Group 01']);

    const audit = await read(await t.api.app.request(`/api/v1/audit?resource=app:${appId}`, send('GET')));
    expect(audit.items.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['provisioning.approveStagedDeletions', 'provisioning.rejectStagedDeletions']),
    );
  });

  it('refuses a selection that is not one: a bad type or too many ids', async () => {
    const badType = await t.api.app.request(
      `/api/v1/apps/${appId}/staged-deletions/reject`,
      send('POST', { objectType: 'device' }),
    );
    expect(badType.status).toBe(400);
    const tooMany = await t.api.app.request(
      `/api/v1/apps/${appId}/staged-deletions/approve`,
      send('POST', { objectIds: Array.from({ length: 101 }, (_, i) => `u${i}`) }),
    );
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify((await read(tooMany)).error)).toContain('objectIds');
  });
});
