// One object of one app through the real API: explained without a write or a request to the target,
// and retried now — one object or all the failed ones — through the real job (the on-demand Update
// on the in-repo Temporal service, the real worker and activities) against a third-party SCIM peer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The API first: @hono/zod-openapi extends zod before the engine's schemas are made.
import { read, send } from './helpers.ts';
import { refusingCreates } from '../../activities/helpers.ts';
import { appConfig, groupId, upn, userId } from '../../provisioning/fixtures.ts';
import { genericScimTemplate } from '../../../gallery/index.ts';
import { provisionedApp, startJobApi, type JobApi } from './job-api.ts';

const shape = { users: 8, groups: 1 };
/** userNames the target refuses to create (400) while listed. */
const refused = new Set([upn(3), upn(4), upn(5)]);

describe('objects of an app: explain and retry', () => {
  let t: JobApi;
  let appId: string;

  beforeAll(async () => {
    t = await startJobApi({ deps: { createScimClient: refusingCreates((userName) => refused.has(userName)) } });
    // Outside every group: not assigned, so out of scope.
    await t.h.store.directory.createUser({ id: 'loner', userPrincipalName: 'loner@contoso.com', displayName: 'Loner' });
    const noContractors = {
      title: 'no contractors',
      clauses: [{ attribute: 'department', operator: 'NOT EQUALS' as const, value: 'Contractors' }],
    };
    appId = await provisionedApp(t, shape, {
      objectTypes: {
        ...appConfig('').objectTypes,
        user: { mappings: genericScimTemplate.objectTypes.user.mappings, scopingFilters: [noContractors] },
      },
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  const explain = async (objectId: string, query = '') => {
    const res = await t.api.app.request(`/api/v1/apps/${appId}/objects/${objectId}${query}`, send('GET'));
    expect(res.status).toBe(200);
    return read(res);
  };
  const titleAt = async (i: number) => (await t.peer.users()).find((u) => u.userName === upn(i))?.title;

  it('explains a provisioned user: link, scope with each clause, mapping, matching key, log — and sends nothing', async () => {
    const before = t.peer.requestLog.length;
    const body = await explain(userId(1), '?logs=5');
    expect(t.peer.requestLog.length).toBe(before);
    const link = await t.h.store.links.get(appId, 'user', userId(1));
    expect(body).toMatchObject({ objectType: 'user', objectId: userId(1), inDirectory: true });
    expect(body.link).toMatchObject({ targetId: link?.targetId, active: true, escrow: null });
    expect(body.link.exportedValues).toMatchObject({ userName: upn(1), title: 'Engineer' });
    expect(body.scope.inScope).toBe(true);
    expect(body.scope.checks.map((c: { check: string }) => c.check)).toEqual([
      'active',
      'assigned',
      'role',
      'scopingFilters',
    ]);
    expect(body.scope.filters[0].clauses[0]).toMatchObject({
      attribute: 'department',
      operator: 'NOT EQUALS',
      seen: 'Engineering',
      passed: true,
    });
    expect(body.mapping.inputs).toEqual(expect.arrayContaining([{ attribute: 'userPrincipalName', value: upn(1) }]));
    expect(body.mapping.outputs).toEqual(
      expect.arrayContaining([expect.objectContaining({ target: 'userName', value: upn(1), matchingPrecedence: 1 })]),
    );
    expect(body.matching).toMatchObject({ linked: true, targetId: link?.targetId });
    expect(body.matching.candidates[0]).toMatchObject({ attribute: 'userName', filter: `userName eq "${upn(1)}"` });
    expect(body.next).toMatchObject({ action: 'Skip', reason: 'unchanged since the last export', operations: [] });
    expect(body.logs).toHaveLength(1);
    expect(body.logs[0]).toMatchObject({ action: 'Create', status: 'Success', sourceId: userId(1) });
  });

  it('shows the exact PATCH the next export sends for a change, and the cycle sends just that', async () => {
    await t.h.store.directory.patchUser(userId(1), { jobTitle: 'Director' });
    const before = t.peer.requestLog.length;
    const { next } = await explain(userId(1));
    expect(t.peer.requestLog.length).toBe(before);
    expect(next).toMatchObject({
      action: 'Update',
      readsTargetFirst: false,
      operations: [{ op: 'replace', path: 'title', value: 'Director' }],
      modifiedAttributes: [{ name: 'title', oldValue: 'Engineer', newValue: 'Director' }],
    });
    expect((await t.api.app.request(`/api/v1/apps/${appId}/provisioning/run`, send('POST'))).status).toBe(202);
    await t.h.waitForCycle(appId, 2);
    expect(await titleAt(1)).toBe('Director');
    const logs = (await explain(userId(1))).logs;
    expect(logs[0]).toMatchObject({ action: 'Update', modifiedAttributes: next.modifiedAttributes });
  });

  it('explains an object out of scope, one filtered out, and one Ferry does not know', async () => {
    const loner = await explain('loner');
    expect(loner.scope.inScope).toBe(false);
    expect(loner.scope.checks.find((c: { check: string }) => c.check === 'assigned')).toMatchObject({ passed: false });
    expect(loner.next).toMatchObject({ action: 'Skip', reason: 'out of scope and not provisioned' });
    expect(loner.link).toBeNull();

    await t.h.store.directory.patchUser(userId(2), { department: 'Contractors' });
    const filtered = await explain(userId(2));
    expect(filtered.scope.filters[0].clauses[0]).toMatchObject({ seen: 'Contractors', passed: false });
    expect(filtered.next).toMatchObject({
      action: 'Disable',
      operations: [{ op: 'replace', path: 'active', value: false }],
    });

    const group = await explain(groupId(1));
    expect(group).toMatchObject({ objectType: 'group', matching: { linked: true } });
    expect(group.matching.candidates[0]).toMatchObject({ attribute: 'displayName', value: 'Group 01' });
    expect(group.next).toMatchObject({ action: 'Skip', reason: 'unchanged since the last export' });

    const res = await t.api.app.request(`/api/v1/apps/${appId}/objects/nobody`, send('GET'));
    expect(res.status).toBe(404);
    expect((await read(res)).error.code).toBe('not_found');
  });

  it('shows an escrowed user; retrying it now provisions it, clears its escrow and is audited', async () => {
    const escrowed = await explain(userId(3));
    expect(escrowed.link.escrow).toMatchObject({ lastErrorCode: 'BadRequest', givenUp: false });
    expect(escrowed.link.escrow.failureCount).toBeGreaterThan(0);
    expect(escrowed.next).toMatchObject({ action: 'Create', dependsOnMatch: true });

    refused.delete(upn(3));
    const res = await t.api.app.request(
      `/api/v1/apps/${appId}/objects/${userId(3)}/retry`,
      send('POST', undefined, { 'X-Request-Id': 'req-retry-3' }),
    );
    expect(res.status).toBe(200);
    expect(await read(res)).toMatchObject({ objectId: userId(3), action: 'Create', status: 'Success' });
    expect((await t.peer.users()).some((u) => u.userName === upn(3))).toBe(true);
    const after = await explain(userId(3));
    expect(after.link.escrow).toBeNull();
    expect(after.logs[0]).toMatchObject({ action: 'Create', status: 'Success', onDemand: true });

    const audit = await read(
      await t.api.app.request(`/api/v1/audit?resource=app:${appId}/object:${userId(3)}`, send('GET')),
    );
    expect(audit.items[0]).toMatchObject({
      action: 'provisioning.retry',
      requestId: 'req-retry-3',
      outcome: 'success',
    });
  });

  it('retries all failed objects, by error code and a few at a time, saying what remains', async () => {
    refused.clear();
    const retry = (body?: unknown) => t.api.app.request(`/api/v1/apps/${appId}/retry`, send('POST', body));

    const other = await read(await retry({ errorCode: 'TooManyRequests' }));
    expect(other).toEqual({ retried: [], succeeded: 0, failed: 0, remaining: 0 });

    const first = await read(await retry({ errorCode: 'BadRequest', limit: 1 }));
    expect(first).toMatchObject({ succeeded: 1, failed: 0, remaining: 1 });
    expect(first.retried).toEqual([
      { objectType: 'user', objectId: expect.any(String), action: 'Create', status: 'Success', errorCode: null },
    ]);

    const rest = await read(await retry());
    expect(rest).toMatchObject({ succeeded: 1, failed: 0, remaining: 0 });
    const retriedIds = [...first.retried, ...rest.retried].map((r: { objectId: string }) => r.objectId).sort();
    expect(retriedIds).toEqual([userId(4), userId(5)]);
    const names = new Set((await t.peer.users()).map((u) => u.userName));
    expect(names.has(upn(4)) && names.has(upn(5))).toBe(true);

    const bad = await retry({ limit: 1000 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify((await read(bad)).error)).toContain('limit');
  });
});
