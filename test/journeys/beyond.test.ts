// Journey: three capabilities past the basics, on one `npm start` (Postgres) with scimmy peers as
// the targets — SCIM Bulk (an app sending its writes in /Bulk requests), reconcile of groups (a group
// changed by hand in the target, found and repaired by a pass) and two sources feeding one person
// with attribute precedence (an identity provider over SCIM inbound and an HR export uploaded as CSV).
// Then Ferry is stopped with SIGTERM and started again, and each carries on: further changes and a
// disable still go in /Bulk, and the losing source still does not override the winning one. Last, the
// identity provider deletes the person HR still provides and creates them again (a bug this journey found).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScimResource } from '../../engine/types.ts';
import { createScimClient, type ScimClient } from '../../scim/client.ts';
import { until } from '../support/net.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import {
  API_KEY,
  createApp,
  OneProcessFerry,
  person,
  startProvisioning,
  startFerryOnPostgres,
  type FerryApi,
  type Json,
} from './harness.ts';
import { seedUser, startHookProxy, usersByName, type HookProxy } from './targets.ts';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** Cycles run when the journey asks (a day's cadence, no push): each one's requests are the journey's to count. */
const QUIET = { cycleIntervalMinutes: 24 * 60, pushChanges: false, reconcileIntervalHours: 0 };

let closeFerry: (() => Promise<void>) | undefined;
let ferry: OneProcessFerry;
let api: FerryApi;
/** One scimmy peer per capability, so each one's accounts and requests are its own. */
let bulkPeer: ScimPeer;
let groupPeer: ScimPeer;
let precedencePeer: ScimPeer;
let bulkProxy: HookProxy;
let idp: ScimClient | undefined;

/** What reached the Bulk app's target, request by request (through the hook proxy). */
interface Sent {
  method: string;
  path: string;
  /** For POST /Bulk: its operations' methods and paths. */
  operations: { method: string; path: string }[];
}
const sent: Sent[] = [];

beforeAll(async () => {
  [bulkPeer, groupPeer, precedencePeer] = await Promise.all([startScimmyPeer(), startScimmyPeer(), startScimmyPeer()]);
  bulkProxy = await startHookProxy(bulkPeer.baseUrl, async (request) => {
    const bulk = request.method === 'POST' && /\/Bulk$/.test(request.path);
    const operations = bulk
      ? (JSON.parse(request.body.toString()) as { Operations: { method: string; path: string }[] }).Operations
      : [];
    sent.push({ method: request.method, path: request.path, operations });
  });
  ({ ferry, api, close: closeFerry } = await startFerryOnPostgres('beyond'));
});
afterAll(async () => {
  await idp?.close();
  await closeFerry?.();
  await bulkProxy?.close();
  for (const peer of [bulkPeer, groupPeer, precedencePeer]) await peer?.close();
});

/** Writes are what a cycle sends besides reads: POST, PUT, PATCH, DELETE. */
const writesOf = (requests: Sent[]) => requests.filter((r) => r.method !== 'GET');

/** Runs a cycle of the Bulk app and answers it with the requests that reached the target meanwhile. */
async function bulkCycle(appId: string): Promise<{ cycle: Json; requests: Sent[] }> {
  const before = sent.length;
  const cycle = await api.runCycle(appId);
  return { cycle, requests: sent.slice(before) };
}

/** The export step of the cycle's log entry for `sourceId`. */
async function exportOf(appId: string, cycleId: string, sourceId: string): Promise<Json> {
  const entries = await api.logs(appId, `cycleId=${cycleId}&objectId=${encodeURIComponent(sourceId)}`);
  expect(entries, `log entries of ${sourceId}`).toHaveLength(1);
  return { entry: entries[0], export: entries[0].steps.find((s: Json) => s.name === 'export') };
}

describe('SCIM Bulk, group reconcile and source precedence (npm start on Postgres), across a restart', () => {
  const BULK = 'bulk.example';
  const bulkIds = Array.from({ length: 60 }, (_, i) => `bk${String(i).padStart(2, '0')}`);
  let bulkApp: string;

  it('with bulk on, 60 users reach a Bulk-capable target in a handful of requests, each account exact and logged as sent via Bulk', async () => {
    const imported = await api.ok('POST', '/directory/import', {
      users: bulkIds.map((id) => person(id, BULK, { jobTitle: 'Engineer' })),
    });
    expect(imported.errors).toEqual([]);
    bulkApp = await createApp(
      api,
      { url: bulkProxy.baseUrl, token: bulkPeer.token },
      { name: 'Bulk app', settings: { scope: 'assigned', bulk: true, ...QUIET } },
    );
    for (const id of bulkIds) await api.ok('POST', `/apps/${bulkApp}/assignments`, { principalId: id });

    const before = sent.length;
    const cycle = await startProvisioning(api, bulkApp);
    expect(cycle).toMatchObject({ kind: 'initial', status: 'succeeded' });
    expect(cycle.counts).toMatchObject({ created: 60 });
    const requests = sent.slice(before);

    // Every write went in /Bulk, each user's create exactly once.
    const writes = writesOf(requests);
    expect(writes.every((r) => r.method === 'POST' && r.path.endsWith('/Bulk'))).toBe(true);
    const operations = writes.flatMap((r) => r.operations);
    expect(operations).toHaveLength(60);
    expect(operations.every((op) => op.method === 'POST' && op.path === '/Users')).toBe(true);
    // Far fewer requests than users: capabilities, the listing for matching, the Bulk requests.
    expect(requests.length).toBeLessThanOrEqual(12);

    const accounts = await usersByName(bulkPeer);
    expect(accounts.size).toBe(60);
    for (const id of bulkIds) {
      const given = id.charAt(0).toUpperCase() + id.slice(1);
      expect(accounts.get(`${id}@${BULK}`), id).toMatchObject({
        userName: `${id}@${BULK}`,
        active: true,
        displayName: `${given} Journey`,
        title: 'Engineer',
        name: { givenName: given, familyName: 'Journey' },
        emails: [expect.objectContaining({ type: 'work', value: `${id}@${BULK}` })],
      });
    }
    const logs = await api.logs(bulkApp, `cycleId=${cycle.id}`);
    const creates = logs.filter((e: Json) => e.action === 'Create');
    expect(creates.map((e: Json) => e.sourceId).sort()).toEqual(bulkIds);
    for (const entry of creates) {
      expect(entry.status).toBe('Success');
      expect(entry.targetId).toBe(accounts.get(`${entry.sourceId}@${BULK}`)?.id);
      const step = entry.steps.find((s: Json) => s.name === 'export');
      expect(step?.details, entry.sourceId).toMatchObject({ request: 'POST /Users', via: 'Bulk' });
    }
  });

  it('a change to a few users goes to the target in one Bulk request', async () => {
    const changed = ['bk03', 'bk17', 'bk42'];
    for (const id of changed) await api.ok('PATCH', `/directory/users/${id}`, { jobTitle: 'Team Lead' });
    const { cycle, requests } = await bulkCycle(bulkApp);
    expect(cycle).toMatchObject({ kind: 'incremental', status: 'succeeded' });
    expect(cycle.counts).toMatchObject({ updated: 3 });

    const writes = writesOf(requests);
    expect(writes.map((r) => `${r.method} ${r.path.replace(/^.*\/scim\/v2/, '')}`)).toEqual(['POST /Bulk']);
    const accounts = await usersByName(bulkPeer);
    expect(writes[0].operations.map((op) => op.method)).toEqual(['PATCH', 'PATCH', 'PATCH']);
    expect(writes[0].operations.map((op) => op.path).sort()).toEqual(
      changed.map((id) => `/Users/${accounts.get(`${id}@${BULK}`)?.id}`).sort(),
    );
    for (const id of bulkIds) {
      expect(accounts.get(`${id}@${BULK}`)?.title, id).toBe(changed.includes(id) ? 'Team Lead' : 'Engineer');
    }
    for (const id of changed) {
      const { entry, export: step } = await exportOf(bulkApp, cycle.id, id);
      expect(entry).toMatchObject({ action: 'Update', status: 'Success' });
      expect(step?.details).toMatchObject({ via: 'Bulk' });
    }
  });

  const GROUPS = 'groups.example';
  let groupApp: string;
  /** Target account ids by directory user id. */
  const groupAccounts = new Map<string, string>();

  /** A request straight to the target, as its admin editing it by hand. */
  const byHand = async (method: string, route: string, body: unknown) => {
    const res = await fetch(`${groupPeer.baseUrl}${route}`, {
      method,
      headers: { Authorization: `Bearer ${groupPeer.token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify(body),
    });
    expect(res.status, `${method} ${route}`).toBeLessThan(300);
  };
  const targetGroups = async () => new Map((await groupPeer.groups()).map((g) => [g.displayName as string, g]));
  const memberIds = (group: ScimResource | undefined) =>
    ((group?.members as { value: string }[] | undefined) ?? []).map((m) => m.value).sort();
  const accountIds = (...ids: string[]) => ids.map((id) => groupAccounts.get(id)!).sort();

  /** POST …/reconcile (202), then the pass's group findings once it has finished. */
  async function reconcile(body: Record<string, unknown>): Promise<Json> {
    const started = await api.ok('POST', `/apps/${groupApp}/reconcile`, body, [202]);
    let drift: Json = null;
    await until(
      async () => {
        drift = await api.ok('GET', `/apps/${groupApp}/drift?objectType=group&passId=${started.id}`);
        return drift.pass?.status !== 'running';
      },
      'the reconcile pass to finish',
      { timeoutMs: 120_000, pollMs: 250 },
    );
    return { started, drift };
  }

  it('a group renamed, a member taken out and a stranger put in by hand in the target are found by a reconcile pass and repaired', async () => {
    const users = ['gia', 'gus', 'gwen', 'gil'];
    const imported = await api.ok('POST', '/directory/import', {
      users: users.map((id) => person(id, GROUPS)),
      groups: [
        { id: 'grp-eng', displayName: 'Journey Engineering' },
        { id: 'grp-ops', displayName: 'Journey Operations' },
      ],
      memberships: [
        ...['gia', 'gus', 'gwen'].map((memberId) => ({ groupId: 'grp-eng', memberId })),
        { groupId: 'grp-ops', memberId: 'gil' },
      ],
    });
    expect(imported.errors).toEqual([]);
    groupApp = await createApp(
      api,
      { url: groupPeer.baseUrl, token: groupPeer.token },
      { name: 'Groups app', settings: { scope: 'assigned', driftRepair: 'repair', bulk: true, ...QUIET } },
    );
    expect((await api.ok('GET', `/apps/${groupApp}`)).settings.driftRepair).toBe('repair');
    for (const group of ['grp-eng', 'grp-ops']) {
      await api.ok('POST', `/apps/${groupApp}/assignments`, { principalId: group });
    }
    const groupCycle = await startProvisioning(api, groupApp);
    expect(groupCycle.status).toBe('succeeded');
    // Users and groups are created in /Bulk requests; a group's members are added by its own PATCH.
    const groupLogs = await api.logs(groupApp, `cycleId=${groupCycle.id}`);
    const groupCreates = groupLogs.filter((e: Json) => e.objectType === 'group' && e.action === 'Create');
    expect(groupCreates.map((e: Json) => e.sourceId).sort()).toEqual(['grp-eng', 'grp-ops']);
    for (const entry of groupCreates) {
      expect(entry.steps.find((step: Json) => step.name === 'export')?.details).toMatchObject({ via: 'Bulk' });
    }
    for (const [name, account] of await usersByName(groupPeer)) groupAccounts.set(name.split('@')[0], account.id!);
    let groups = await targetGroups();
    const eng = groups.get('Journey Engineering')!;
    expect(memberIds(eng)).toEqual(accountIds('gia', 'gus', 'gwen'));
    expect(memberIds(groups.get('Journey Operations'))).toEqual(accountIds('gil'));

    // In the target, by hand: renamed, gus taken out, a stranger put in.
    const stranger = await seedUser(groupPeer, { userName: `stranger@${GROUPS}`, active: true });
    await byHand('PATCH', `/Groups/${eng.id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'Journey Engineering (old)' },
        { op: 'remove', path: `members[value eq "${groupAccounts.get('gus')}"]` },
        { op: 'add', path: 'members', value: [{ value: stranger.id }] },
      ],
    });
    expect(memberIds((await targetGroups()).get('Journey Engineering (old)'))).toEqual(
      [...accountIds('gia', 'gwen'), stranger.id].sort(),
    );

    // The app's setting says repair: a pass without a mode repairs.
    const { started, drift } = await reconcile({});
    expect(started.mode).toBe('repair');
    expect(drift.pass).toMatchObject({ status: 'completed', mode: 'repair' });
    expect(drift.pass.counts).toMatchObject({ 'group.edited': 1, 'group.repaired': 1, groups: 2 });
    expect(drift.items).toHaveLength(1);
    const [finding] = drift.items;
    expect(finding).toMatchObject({
      kind: 'edited',
      objectType: 'group',
      sourceId: 'grp-eng',
      targetId: eng.id,
      outcome: 'repaired',
    });
    expect(finding.attributes).toEqual([
      { name: 'displayName', oldValue: 'Journey Engineering (old)', newValue: 'Journey Engineering' },
      { name: 'members (added)', oldValue: null, newValue: accountIds('gus') },
      { name: 'members (removed)', oldValue: [stranger.id], newValue: null },
    ]);
    expect(finding.logId).toEqual(expect.any(String));

    // The target has the group back as Ferry exported it; the other group and the stranger's account are untouched.
    groups = await targetGroups();
    expect([...groups.keys()].sort()).toEqual(['Journey Engineering', 'Journey Operations']);
    expect(groups.get('Journey Engineering')?.id).toBe(eng.id);
    expect(memberIds(groups.get('Journey Engineering'))).toEqual(accountIds('gia', 'gus', 'gwen'));
    expect(memberIds(groups.get('Journey Operations'))).toEqual(accountIds('gil'));
    expect((await usersByName(groupPeer)).get(`stranger@${GROUPS}`)).toMatchObject({ id: stranger.id, active: true });
    const repairLog = (await api.logs(groupApp, `objectId=grp-eng`)).find((e: Json) => e.id === finding.logId);
    expect(repairLog).toMatchObject({ objectType: 'group', action: 'Update', status: 'Success' });

    // Nothing is left to find: the next pass (report only) sees no group drift.
    const again = await reconcile({ mode: 'report' });
    expect(again.drift.pass).toMatchObject({ status: 'completed', mode: 'report' });
    expect(again.drift.items).toEqual([]);
  });

  const PREC = 'precedence.example';
  let precedenceApp: string;
  let hrSource: string;
  let idpSource: string;
  let personId: string;
  let idpToken: string;

  /** Uploads the HR export (one row: the person) and waits for its import to reach the directory. */
  async function uploadHr(title: string, department: string): Promise<void> {
    const csv = ['emp,email,title,dept', `e-lin,lin@${PREC},${title},${department}`].join('\n');
    const res = await fetch(`${api.url}/api/v1/sources/${hrSource}/snapshots`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'text/csv' },
      body: csv,
    });
    expect(res.status, await res.clone().text()).toBe(202);
    await until(async () => (await directoryPerson()).jobTitle === title, 'the HR import to reach the directory', {
      timeoutMs: 120_000,
      pollMs: 250,
    });
  }
  const directoryPerson = async (): Promise<Json> => api.ok('GET', `/directory/users/${encodeURIComponent(personId)}`);
  const account = async () => (await usersByName(precedencePeer)).get(`lin@${PREC}`);
  /** The identity provider's PATCH of its user, Entra's way. */
  async function idpPatch(operations: unknown[]): Promise<void> {
    const res = await fetch(`${api.url}/scim/v2/Users/${encodeURIComponent(personId)}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${idpToken}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ schemas: [PATCH_OP], Operations: operations }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  }

  it('two sources feed one person: the HR export’s job title and department win over the identity provider’s and reach the account', async () => {
    const scim = await api.ok('POST', '/sources', { type: 'scim', name: 'Entra ID', precedence: 50 });
    idpSource = scim.id;
    idpToken = scim.token;
    idp = createScimClient({
      baseUrl: scim.scimUrl,
      auth: { type: 'bearer', token: scim.token },
      allowInsecureLoopback: true,
    });
    const pushed = await idp.create('Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
      userName: `lin@${PREC}`,
      externalId: 'entra-lin',
      active: true,
      displayName: 'Lin Journey',
      title: 'Contractor',
      name: { givenName: 'Lin', familyName: 'Journey' },
      emails: [{ value: `lin@${PREC}`, type: 'work', primary: true }],
      [ENTERPRISE]: { department: 'Unknown' },
    } as ScimResource);
    personId = pushed.id!;

    const hr = await api.ok('POST', '/sources', {
      type: 'csv',
      name: 'HR export',
      origin: 'upload',
      joinOn: 'userPrincipalName',
      precedence: 10,
      columns: { id: 'emp', userPrincipalName: 'email', jobTitle: 'title', department: 'dept' },
    });
    hrSource = hr.id;
    await uploadHr('Engineer', 'Research');
    // The identity provider writes its title again, after HR: the rank decides, not the order.
    await idpPatch([{ op: 'Replace', path: 'title', value: 'Contractor' }]);

    const lin = await directoryPerson();
    expect(lin).toMatchObject({
      id: personId,
      displayName: 'Lin Journey',
      jobTitle: 'Engineer',
      department: 'Research',
      attributeSources: { jobTitle: hrSource, department: hrSource, displayName: idpSource },
    });
    expect([...lin.sources].sort()).toEqual([hrSource, idpSource].sort());

    precedenceApp = await createApp(
      api,
      { url: precedencePeer.baseUrl, token: precedencePeer.token },
      { name: 'Precedence app', settings: { scope: 'assigned', ...QUIET } },
    );
    await api.ok('POST', `/apps/${precedenceApp}/assignments`, { principalId: personId });
    expect((await startProvisioning(api, precedenceApp)).status).toBe('succeeded');
    expect(await account()).toMatchObject({
      displayName: 'Lin Journey',
      title: 'Engineer',
      [ENTERPRISE]: expect.objectContaining({ department: 'Research' }),
    });
    // The losing values stay with the identity provider's record, not in the account.
    expect(JSON.stringify(await account())).not.toMatch(/Contractor|Unknown/);
  });

  it('after SIGTERM and npm start: further changes and a disable still go via Bulk; the losing source does not override the winning one, and the winning source does', async () => {
    const cyclesBefore = {
      bulk: (await api.cycles(bulkApp)).length,
      precedence: (await api.cycles(precedenceApp)).length,
    };
    await ferry.stop('SIGTERM');
    const restartedAt = Date.now();
    await ferry.start();
    // The in-repo Temporal service starts empty: each job is made again and begins with a cycle. Changes
    // made while it runs could be split between it and the next one; wait for it first.
    await api.cycleFinishedAfter(bulkApp, restartedAt, 'the bulk app’s first cycle after the restart');
    await api.cycleFinishedAfter(precedenceApp, restartedAt, 'the precedence app’s first cycle after the restart');

    // Bulk, after the restart: two users changed and one gone to the recycle bin, in one /Bulk request.
    const changed = ['bk05', 'bk58'];
    for (const id of changed) await api.ok('PATCH', `/directory/users/${id}`, { jobTitle: 'Architect' });
    await api.ok('DELETE', '/directory/users/bk59');
    const { cycle, requests } = await bulkCycle(bulkApp);
    expect(cycle).toMatchObject({ status: 'succeeded' });
    expect(cycle.counts).toMatchObject({ updated: 2, disabled: 1 });
    expect((await api.cycles(bulkApp)).length).toBeGreaterThan(cyclesBefore.bulk);
    const writes = writesOf(requests);
    expect(writes.map((r) => r.path.replace(/^.*\/scim\/v2/, ''))).toEqual(['/Bulk']);
    expect(writes[0].operations.map((op) => op.method)).toEqual(['PATCH', 'PATCH', 'PATCH']);
    const bulkAccounts = await usersByName(bulkPeer);
    expect(bulkAccounts.size).toBe(60);
    for (const id of changed) {
      expect(bulkAccounts.get(`${id}@${BULK}`)).toMatchObject({ title: 'Architect', active: true });
      expect((await exportOf(bulkApp, cycle.id, id)).export?.details).toMatchObject({ via: 'Bulk' });
    }
    expect(bulkAccounts.get(`bk59@${BULK}`)?.active).toBe(false);
    const disabled = await exportOf(bulkApp, cycle.id, 'bk59');
    expect(disabled.entry).toMatchObject({ action: 'Disable', status: 'Success' });
    expect(disabled.export?.details).toMatchObject({ active: false, via: 'Bulk' });
    expect(bulkAccounts.get(`bk03@${BULK}`)?.title).toBe('Team Lead');

    // The identity provider changes the title (it loses it to HR) and the display name (it wins it).
    await idpPatch([
      { op: 'Replace', path: 'title', value: 'Senior Contractor' },
      { op: 'Replace', path: 'displayName', value: 'Lin Journey-Smith' },
    ]);
    expect(await directoryPerson()).toMatchObject({ displayName: 'Lin Journey-Smith', jobTitle: 'Engineer' });
    expect((await api.runCycle(precedenceApp)).status).toBe('succeeded');
    expect(await account()).toMatchObject({ displayName: 'Lin Journey-Smith', title: 'Engineer' });

    // HR changes the title: it wins.
    await uploadHr('Principal Engineer', 'Research');
    expect((await api.runCycle(precedenceApp)).status).toBe('succeeded');
    expect(await account()).toMatchObject({
      displayName: 'Lin Journey-Smith',
      title: 'Principal Engineer',
      [ENTERPRISE]: expect.objectContaining({ department: 'Research' }),
    });
    expect((await api.cycles(precedenceApp)).length).toBeGreaterThan(cyclesBefore.precedence);
    const runs = await api.ok('GET', `/sources/${hrSource}/runs`);
    expect(runs.items[0]).toMatchObject({ status: 'succeeded' });
  });

  it('the identity provider deletes the person the HR export still provides: the account stays active; created again, the person is the identity provider’s again', async () => {
    const before = await account();
    expect(
      (
        await fetch(`${api.url}/scim/v2/Users/${encodeURIComponent(personId)}`, {
          method: 'DELETE',
          headers: { Authorization: `Bearer ${idpToken}` },
        })
      ).status,
    ).toBe(204);
    expect(await directoryPerson()).toMatchObject({ deletedDateTime: null, jobTitle: 'Principal Engineer' });
    expect((await api.runCycle(precedenceApp)).status).toBe('succeeded');
    expect(await account()).toMatchObject({ id: before?.id, active: true, title: 'Principal Engineer' });

    // Assigned again in the identity provider: it looks the userName up (not its own any more), then creates it.
    expect(await idp!.findBy('Users', 'userName', `lin@${PREC}`)).toEqual([]);
    const again = await idp!.create('Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: `lin@${PREC}`,
      externalId: 'entra-lin',
      active: true,
      displayName: 'Lin Journey-Smith',
      title: 'Contractor',
    } as ScimResource);
    expect(again.id).toBe(personId);
    expect(await directoryPerson()).toMatchObject({
      displayName: 'Lin Journey-Smith',
      jobTitle: 'Principal Engineer',
      attributeSources: { displayName: idpSource, jobTitle: hrSource },
    });
    expect((await api.runCycle(precedenceApp)).status).toBe('succeeded');
    expect(await usersByName(precedencePeer)).toHaveProperty('size', 1);
    expect(await account()).toMatchObject({
      id: before?.id,
      active: true,
      displayName: 'Lin Journey-Smith',
      title: 'Principal Engineer',
    });
  });
});
