// Journey: what changes during an app's life — its mappings and scope (while a cycle is in flight),
// its target URL and token, the app itself (deleted mid-cycle), a second app on the same target,
// and people: renamed, unassigned and reassigned, soft-deleted and restored, hard-deleted.
// One `npm start` on a fresh Postgres database; the scimmy peer is the target.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/net.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import {
  createApp,
  OneProcessFerry,
  person,
  startProvisioning,
  startFerryOnPostgres,
  type FerryApi,
  type Json,
} from './harness.ts';
import { Gate, startHookProxy, startTokenProxy, usersByName, type HookProxy } from './targets.ts';

let closeFerry: (() => Promise<void>) | undefined;
let peer: ScimPeer;
let ferry: OneProcessFerry;
let api: FerryApi;
const closers: (() => Promise<void>)[] = [];
const gates: Gate[] = [];

beforeAll(async () => {
  peer = await startScimmyPeer();
  ({ ferry, api, close: closeFerry } = await startFerryOnPostgres('changes'));
});
afterAll(async () => {
  for (const gate of gates) gate.open();
  await closeFerry?.();
  for (const close of closers) await close();
  await peer?.close();
});

async function gatedProxy(): Promise<{ proxy: HookProxy; gate: Gate }> {
  const gate = new Gate();
  gates.push(gate);
  const proxy = await startHookProxy(peer.baseUrl, gate.pass);
  closers.push(() => proxy.close());
  return { proxy, gate };
}

const account = async (userId: string, domain: string) => (await usersByName(peer)).get(`${userId}@${domain}`);
const accountsIn = async (domain: string) =>
  [...(await usersByName(peer)).values()].filter((u) => String(u.userName).endsWith(`@${domain}`));

/**
 * An app on `target` for exactly these directory users (assigned): the journeys share one directory,
 * so no app sees another journey's people.
 */
async function appFor(
  target: { url: string; token: string },
  ids: string[],
  options: Parameters<typeof createApp>[2] = {},
) {
  const appId = await createApp(api, target, { ...options, settings: { scope: 'assigned', ...options.settings } });
  for (const id of ids) await api.ok('POST', `/apps/${appId}/assignments`, { principalId: id });
  return appId;
}

/** Directory users `<id>@<domain>` for one journey. */
async function importPeople(domain: string, ids: string[]): Promise<void> {
  await api.ok('POST', '/directory/import', { users: ids.map((id) => person(id, domain)) });
}

describe('changes during an app’s life (npm start on Postgres)', () => {
  it('with FERRY_ALLOW_INSECURE_LOOPBACK=1, an app on a plain-http loopback target needs no setting of its own', async () => {
    const created = await api.call('POST', '/apps', {
      name: 'Loopback by environment',
      template: 'generic-scim',
      target: { url: peer.baseUrl, token: peer.token },
    });
    expect(created.status, created.text).toBe(201);
    expect(await api.ok('POST', `/apps/${created.json.id}/test-connection`)).toEqual({ ok: true });
    await api.ok('DELETE', `/apps/${created.json.id}`);
  });

  it('a mapping changed while a cycle is in flight applies to every account once that cycle ends', async () => {
    const domain = 'mapping.example';
    const ids = ['mia', 'max'];
    await importPeople(domain, ids);
    for (const id of ids) await api.ok('PATCH', `/directory/users/${id}`, { jobTitle: 'Pilot', department: 'Air' });
    const { proxy, gate } = await gatedProxy();
    const appId = await appFor({ url: proxy.baseUrl, token: peer.token }, ids);
    expect((await startProvisioning(api, appId)).status).toBe('succeeded');
    expect((await account('mia', domain))?.title).toBe('Pilot');

    // A cycle is held at the target; meanwhile `title` is remapped to the department.
    await api.ok('PATCH', '/directory/users/max', { givenName: 'Maximilian' });
    gate.close();
    await api.ok('POST', `/apps/${appId}/provisioning/run`, undefined, [202]);
    await until(() => gate.held > 0, 'the cycle to reach the target', { timeoutMs: 60_000 });
    const gallery = await api.ok('GET', '/gallery');
    const mappings = gallery.items
      .find((t: Json) => t.id === 'generic-scim')
      .objectTypes.user.mappings.map((m: Json) => (m.target === 'title' ? { ...m, source: 'department' } : m));
    const since = Date.now();
    await api.ok('PATCH', `/apps/${appId}`, { mappings: { user: mappings } });
    gate.open();
    // The change makes the next cycle initial; once it has ended, every account has the new mapping
    // (accounts are exported side by side: one of them may get it a moment before the other).
    const initialAfterChange = async () =>
      (await api.cycles(appId)).find((c: Json) => c.kind === 'initial' && Date.parse(c.startedAt) >= since);
    await until(
      async () => (await initialAfterChange())?.status === 'succeeded',
      'the initial cycle after the change',
      {
        timeoutMs: 90_000,
        pollMs: 250,
      },
    );
    expect((await account('mia', domain))?.title).toBe('Air');
    expect((await account('max', domain))?.title).toBe('Air');
    expect((await account('max', domain))?.name).toMatchObject({ givenName: 'Maximilian' });
  });

  it('a scope widened while a cycle is in flight provisions the newly included users', async () => {
    const domain = 'scope.example';
    await importPeople(domain, ['sol', 'sam']);
    const { proxy, gate } = await gatedProxy();
    const appId = await createApp(api, { url: proxy.baseUrl, token: peer.token }, { settings: { scope: 'assigned' } });
    await api.ok('POST', `/apps/${appId}/assignments`, { principalId: 'sol' });
    expect((await startProvisioning(api, appId)).status).toBe('succeeded');
    expect((await accountsIn(domain)).map((u) => u.userName)).toEqual([`sol@${domain}`]);

    await api.ok('PATCH', '/directory/users/sol', { jobTitle: 'held' });
    gate.close();
    await api.ok('POST', `/apps/${appId}/provisioning/run`, undefined, [202]);
    await until(() => gate.held > 0, 'the cycle to reach the target', { timeoutMs: 60_000 });
    await api.ok('PATCH', `/apps/${appId}`, { settings: { scope: 'all' } });
    gate.open();
    // `all` is the whole directory: sam (never assigned) is provisioned now.
    await until(async () => (await account('sam', domain)) !== undefined, 'sam to be provisioned', {
      timeoutMs: 90_000,
      pollMs: 250,
    });
    await api.ok('DELETE', `/apps/${appId}`);
  });

  it('after the target URL changes and the token is rotated, the next cycle uses the new ones', async () => {
    const domain = 'rotate.example';
    await importPeople(domain, ['rae']);
    const before = await startTokenProxy(peer, 'token-one-0123456789');
    const after = await startTokenProxy(peer, 'token-two-0123456789');
    closers.push(before.close, after.close);
    const appId = await appFor({ url: before.baseUrl, token: 'token-one-0123456789' }, ['rae']);
    expect((await startProvisioning(api, appId)).status).toBe('succeeded');
    expect(await account('rae', domain)).toBeDefined();

    // The app moved: a new URL that only accepts the new token.
    await api.ok('PATCH', `/apps/${appId}`, { target: { url: after.baseUrl, token: 'token-two-0123456789' } });
    before.state.accept = 'token-retired';
    const oldRequests = before.state.requests;
    await api.ok('PATCH', '/directory/users/rae', { jobTitle: 'Moved' });
    const cycle = await api.runCycle(appId);
    expect(cycle.status).toBe('succeeded');
    expect((await account('rae', domain))?.title).toBe('Moved');
    expect(before.state.requests).toBe(oldRequests);
    // The secret never comes back.
    const app = await api.ok('GET', `/apps/${appId}`);
    expect(JSON.stringify(app)).not.toContain('token-two');
  });

  it('an app deleted while its cycle is in flight sends nothing more to the target', async () => {
    const domain = 'deleted.example';
    await importPeople(domain, ['dot', 'dan']);
    const { proxy, gate } = await gatedProxy();
    const appId = await appFor({ url: proxy.baseUrl, token: peer.token }, ['dot', 'dan']);
    expect((await startProvisioning(api, appId)).status).toBe('succeeded');
    await api.ok('PATCH', '/directory/users/dot', { jobTitle: 'never sent' });
    gate.close();
    await api.ok('POST', `/apps/${appId}/provisioning/run`, undefined, [202]);
    await until(() => gate.held > 0, 'the cycle to reach the target', { timeoutMs: 60_000 });
    expect((await api.call('DELETE', `/apps/${appId}`)).status).toBe(204);
    expect((await api.call('GET', `/apps/${appId}`)).status).toBe(404);
    const heldThen = proxy.requests;
    gate.open();
    // Another app's whole cycle later, the deleted app has sent nothing new.
    const other = await appFor({ url: peer.baseUrl, token: peer.token }, ['dan']);
    expect((await startProvisioning(api, other)).status).toBe('succeeded');
    await api.runCycle(other);
    expect(proxy.requests).toBe(heldThen);
    expect((await account('dot', domain))?.title).not.toBe('never sent');
    expect(ferry.process?.running).toBe(true);
  });

  it('two apps on the same target share one account per person, without duplicates', async () => {
    const domain = 'shared.example';
    await importPeople(domain, ['ann', 'bo', 'cid']);
    const first = await appFor({ url: peer.baseUrl, token: peer.token }, ['ann', 'bo'], { name: 'First' });
    const second = await appFor({ url: peer.baseUrl, token: peer.token }, ['bo', 'cid'], { name: 'Second' });
    await Promise.all([startProvisioning(api, first), startProvisioning(api, second)]);
    const accounts = await accountsIn(domain);
    expect(accounts.map((u) => u.userName).sort()).toEqual(['ann', 'bo', 'cid'].map((id) => `${id}@${domain}`));
    // Both apps point at the same account for bo.
    const bo = (await account('bo', domain))!;
    for (const appId of [first, second]) {
      const logs = await api.logs(appId, 'objectId=bo');
      expect(logs.some((e: Json) => e.targetId === bo.id && e.status !== 'Failure')).toBe(true);
    }
  });

  it('a renamed userPrincipalName renames the same target account instead of creating another', async () => {
    const domain = 'rename.example';
    await importPeople(domain, ['ren']);
    const appId = await appFor({ url: peer.baseUrl, token: peer.token }, ['ren']);
    expect((await startProvisioning(api, appId)).status).toBe('succeeded');
    const original = (await account('ren', domain))!;
    await api.ok('PATCH', '/directory/users/ren', { userPrincipalName: `renamed@${domain}` });
    expect((await api.runCycle(appId)).status).toBe('succeeded');
    const accounts = await accountsIn(domain);
    expect(accounts.map((u) => [u.id, u.userName])).toEqual([[original.id, `renamed@${domain}`]]);
  });

  it('an unassigned user is disabled, not deleted, and re-enabled when assigned again', async () => {
    const domain = 'assign.example';
    await importPeople(domain, ['una']);
    const appId = await appFor({ url: peer.baseUrl, token: peer.token }, ['una']);
    expect((await startProvisioning(api, appId)).status).toBe('succeeded');
    const id = (await account('una', domain))!.id;
    await api.ok('DELETE', `/apps/${appId}/assignments/una`);
    expect((await api.runCycle(appId)).status).toBe('succeeded');
    expect(await account('una', domain)).toMatchObject({ id, active: false });
    await api.ok('POST', `/apps/${appId}/assignments`, { principalId: 'una' });
    expect((await api.runCycle(appId)).status).toBe('succeeded');
    expect(await account('una', domain)).toMatchObject({ id, active: true });
  });

  it('a soft-deleted user is disabled and re-enabled when restored; a hard delete then deletes the account', async () => {
    const domain = 'delete.example';
    await importPeople(domain, ['sid', 'hal']);
    const appId = await appFor({ url: peer.baseUrl, token: peer.token }, ['sid', 'hal']);
    expect((await startProvisioning(api, appId)).status).toBe('succeeded');
    const sid = (await account('sid', domain))!.id;

    await api.ok('DELETE', '/directory/users/sid');
    expect((await api.runCycle(appId)).status).toBe('succeeded');
    expect(await account('sid', domain)).toMatchObject({ id: sid, active: false });
    await api.ok('POST', '/directory/users/sid/restore');
    expect((await api.runCycle(appId)).status).toBe('succeeded');
    expect(await account('sid', domain)).toMatchObject({ id: sid, active: true });

    // hal: disabled first (soft delete), then removed for good.
    await api.ok('DELETE', '/directory/users/hal');
    expect((await api.runCycle(appId)).status).toBe('succeeded');
    expect(await account('hal', domain)).toMatchObject({ active: false });
    await api.ok('DELETE', '/directory/users/hal?permanent=true');
    const cycle = await api.runCycle(appId);
    expect(cycle.status).toBe('succeeded');
    expect(await account('hal', domain)).toBeUndefined();
    const logs = await api.logs(appId, `cycleId=${cycle.id}`);
    expect(logs.map((e: Json) => [e.sourceId, e.action, e.status])).toEqual([['hal', 'Delete', 'Success']]);
  });
});
