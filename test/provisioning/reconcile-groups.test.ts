// Group drift, end to end: the real Ferry worker on the in-repo Temporal service, a scimmy peer as
// the target, and the API's POST /apps/{id}/reconcile and GET /apps/{id}/drift. A cycle provisions
// three groups with their members; then someone renames one in the target, removes a member from it
// and adds a stranger, deletes another and creates a group Ferry never made. A pass in report mode
// lists each of those with its object type and writes nothing; a pass in repair mode puts the name
// and members back, creates the deleted group again with its members, leaves the orphan group alone,
// and writes each repair to the provisioning log.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// First: the API's modules extend zod with OpenAPI before engine/config builds its schemas.
import {
  provisionedThenStopped,
  type ReconcileApi,
  reconcileThroughApi,
  targetRequest,
  USER_SCHEMA,
} from './reconcile-fixture.ts';
import { createFerryActivities } from '../../activities/index.ts';
import type { ScimResource } from '../../engine/types.ts';
import { auth } from '../api/helpers.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { createApp, seedDirectory, userId } from './fixtures.ts';
import { startProvisioningHarness, type ProvisioningHarness } from './harness.ts';

const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** The directory's groups: id, name, direct user members (1-based user numbers). */
const GROUPS = [
  { id: 'g-eng', displayName: 'Engineering', users: [1, 2, 3] },
  { id: 'g-sales', displayName: 'Sales', users: [4, 5] },
  { id: 'g-support', displayName: 'Support', users: [6] },
];

interface Finding {
  kind: string;
  objectType: string;
  sourceId: string | null;
  targetId: string;
  displayName: string | null;
  attributes: { name: string; oldValue: unknown; newValue: unknown }[];
  outcome: string;
  logId: string | null;
}
interface DriftAnswer {
  pass: { id: string; mode: string; status: string; counts: Record<string, number> } | null;
  items: Finding[];
}

describe('reconcile passes: groups', () => {
  let h: ProvisioningHarness;
  let peer: ScimPeer;
  let appId: string;
  let api: ReconcileApi;
  let eng: ScimResource;
  let sales: ScimResource;
  let orphanGroup: ScimResource;
  let stranger: ScimResource;
  /** Target ids of the users, by user number. */
  const accounts = new Map<number, string>();

  /** A request straight to the target, as someone editing it by hand. */
  const target = (method: string, path: string, body?: unknown) => targetRequest(peer, method, path, body);
  const groupNamed = async (name: string) => (await peer.groups()).filter((g) => g.displayName === name);
  const memberIds = (group: ScimResource | undefined) =>
    ((group?.members as { value: string }[] | undefined) ?? []).map((m) => m.value).sort();
  const idsOf = (...users: number[]) => users.map((i) => accounts.get(i) as string).sort();

  const reconcile = (body: Record<string, unknown>) => reconcileThroughApi(h, api, peer, appId, body);
  const drift = async (query = ''): Promise<DriftAnswer> => {
    const res = await api.request(`/api/v1/apps/${appId}/drift${query}`, { headers: auth() });
    expect(res.status).toBe(200);
    return (await res.json()) as DriftAnswer;
  };
  const groupFindings = async () => {
    const answer = await drift('?objectType=group');
    return { answer, byKind: Object.fromEntries(answer.items.map((f) => [f.kind, f])) };
  };

  beforeAll(async () => {
    h = await startProvisioningHarness();
    peer = await startScimmyPeer();
    await seedDirectory(h.store, { users: 8, groups: 0 });
    await h.store.directory.bulkUpsertGroups(GROUPS.map(({ id, displayName }) => ({ id, displayName })));
    await h.store.directory.importMembers(
      GROUPS.flatMap((g) => g.users.map((i) => ({ groupId: g.id, memberId: userId(i), memberType: 'user' as const }))),
    );
    appId = await createApp(h.store, peer, { assignGroups: false });
    for (const g of GROUPS) await h.store.assignments.assign(appId, g.id, 'User');
    api = await provisionedThenStopped(h, appId);

    for (const u of await peer.users()) {
      const i = Number(/^user(\d+)@/.exec(String(u.userName))?.[1]);
      if (i) accounts.set(i, u.id as string);
    }
    [eng] = await groupNamed('Engineering');
    [sales] = await groupNamed('Sales');
    expect(memberIds(eng)).toEqual(idsOf(1, 2, 3));
    expect(memberIds(sales)).toEqual(idsOf(4, 5));

    stranger = (await target('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'stranger@contoso.com',
      active: true,
    })) as ScimResource;
    // Renamed, user 2 taken out and the stranger put in, by hand.
    await target('PATCH', `/Groups/${eng.id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'Engineering (renamed)' },
        { op: 'remove', path: `members[value eq "${accounts.get(2)}"]` },
        { op: 'add', path: 'members', value: [{ value: stranger.id }] },
      ],
    });
    await target('DELETE', `/Groups/${sales.id}`);
    orphanGroup = (await target('POST', '/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Visitors',
      members: [{ value: stranger.id }],
    })) as ScimResource;
    expect(memberIds((await groupNamed('Engineering (renamed)'))[0])).toEqual([...idsOf(1, 3), stranger.id].sort());
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await peer?.close();
  });

  it('report mode lists the renamed group with its member drift, the deleted group and the orphan group, and writes nothing', async () => {
    const { pass, requests } = await reconcile({ mode: 'report' });
    expect(requests.filter((r) => r.method !== 'GET')).toEqual([]);
    // Groups are listed without members; each linked group whose exported members are known costs one GET.
    const groupListings = requests.filter((r) => /\/Groups\?/.test(r.path));
    expect(groupListings.length).toBe(1);
    expect(decodeURIComponent(groupListings[0].path)).toContain('excludedAttributes=members');
    const groupReads = requests.filter((r) => /\/Groups\/[^/?]+$/.test(r.path)).map((r) => r.path.split('/').pop());
    expect(groupReads.sort()).toEqual([eng.id, (await groupNamed('Support'))[0].id].sort());

    const { answer, byKind } = await groupFindings();
    expect(answer.pass).toMatchObject({ id: pass.id, status: 'completed' });
    expect(answer.pass?.counts).toMatchObject({
      'group.edited': 1,
      'group.deleted': 1,
      'group.orphan': 1,
      'group.reported': 3,
      groups: 3,
    });
    expect(answer.items.every((f) => f.objectType === 'group')).toBe(true);
    expect(byKind.edited).toMatchObject({
      sourceId: 'g-eng',
      targetId: eng.id,
      displayName: 'Engineering (renamed)',
      outcome: 'reported',
    });
    expect(byKind.edited.attributes).toEqual([
      { name: 'displayName', oldValue: 'Engineering (renamed)', newValue: 'Engineering' },
      { name: 'members (added)', oldValue: null, newValue: idsOf(2) },
      { name: 'members (removed)', oldValue: [stranger.id], newValue: null },
    ]);
    expect(byKind.deleted).toMatchObject({ sourceId: 'g-sales', targetId: sales.id, outcome: 'reported' });
    expect(byKind.orphan).toMatchObject({
      sourceId: null,
      targetId: orphanGroup.id,
      displayName: 'Visitors',
      outcome: 'reported',
    });
    // The stranger account is a user orphan in the same pass.
    const users = await drift('?objectType=user');
    expect(users.items.map((f) => [f.kind, f.targetId])).toEqual([['orphan', stranger.id]]);
    expect(await groupNamed('Sales')).toEqual([]);
  });

  it('repair mode puts the name and members back, re-creates the deleted group with its members, and logs both', async () => {
    const { pass, requests } = await reconcile({ mode: 'repair' });
    expect(pass.mode).toBe('repair');
    const writes = requests.filter((r) => r.method !== 'GET');
    // The renamed group: one PATCH of its name, one member add, one member remove. The deleted one:
    // its POST, then its members added.
    expect(writes.filter((r) => r.path.endsWith(`/Groups/${eng.id}`)).map((r) => r.method)).toEqual([
      'PATCH',
      'PATCH',
      'PATCH',
    ]);
    expect(writes.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual([expect.stringMatching(/\/Groups$/)]);
    expect(requests.some((r) => r.path.includes(orphanGroup.id as string))).toBe(false);

    const [restored] = await groupNamed('Engineering');
    expect(restored?.id).toBe(eng.id);
    expect(memberIds(restored)).toEqual(idsOf(1, 2, 3));
    const [recreated] = await groupNamed('Sales');
    expect(recreated?.id).toBeTruthy();
    expect(recreated?.id).not.toBe(sales.id);
    expect(memberIds(recreated)).toEqual(idsOf(4, 5));
    expect((await h.store.links.get(appId, 'group', 'g-sales'))?.targetId).toBe(recreated?.id);
    expect(memberIds((await groupNamed('Visitors'))[0])).toEqual([stranger.id]);

    const { byKind } = await groupFindings();
    expect(byKind.edited.outcome).toBe('repaired');
    expect(byKind.deleted.outcome).toBe('recreated');
    expect(byKind.orphan.outcome).toBe('reported');
    const repair = await h.store.logs.get(byKind.edited.logId as string);
    expect(repair).toMatchObject({
      objectType: 'group',
      action: 'Update',
      status: 'Success',
      sourceId: 'g-eng',
      targetId: eng.id,
    });
    expect(repair?.modifiedAttributes.map((a) => a.name)).toEqual([
      'displayName',
      'members (added)',
      'members (removed)',
    ]);
    const recreate = await h.store.logs.get(byKind.deleted.logId as string);
    expect(recreate).toMatchObject({
      objectType: 'group',
      action: 'Create',
      status: 'Success',
      sourceId: 'g-sales',
      targetId: recreated?.id,
    });
  });

  it('a pass after the repair finds only the orphans, and the object type filter keeps one type', async () => {
    await reconcile({ mode: 'report' });
    const all = await drift();
    expect(all.items.map((f) => [f.objectType, f.kind, f.targetId])).toEqual([
      ['user', 'orphan', stranger.id],
      ['group', 'orphan', orphanGroup.id],
    ]);
    expect((await drift('?objectType=group&kind=orphan')).items.map((f) => f.targetId)).toEqual([orphanGroup.id]);
    const bad = await api.request(`/api/v1/apps/${appId}/drift?objectType=device`, { headers: auth() });
    expect(bad.status).toBe(400);
  });

  it('a retried attempt resumes in the groups phase from the page its last heartbeat named', async () => {
    const pass = await h.store.reconcile.createPass({ id: 'resumed-groups', appId, mode: 'report' });
    // The earlier attempt read the users and the first group, then heartbeat its position and died.
    const first = (await target('GET', '/Groups?startIndex=1&count=1')) as unknown as { Resources: ScimResource[] };
    await h.store.reconcile.markSeen(pass.id, [first.Resources[0].id as string], 'group');
    await h.store.reconcile.markSeen(pass.id, [...accounts.values(), stranger.id as string], 'user');
    const handle = createFerryActivities({ store: h.store, allowInsecureLoopback: true });
    const env = new MockActivityEnvironment({ heartbeatDetails: { phase: 'groups', startIndex: 2 } });
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const before = peer.requestLog.length;
    try {
      const summary = (await env.run(handle.activities.reconcileApp, { appId, passId: pass.id })) as {
        counts: Record<string, number>;
      };
      expect(summary.counts.deleted ?? 0).toBe(0);
      expect(summary.counts).toMatchObject({ groups: 4 });
    } finally {
      await handle.close();
    }
    const listings = peer.requestLog
      .slice(before)
      .filter((r) => r.method === 'GET' && /\/(Users|Groups)\?/.test(r.path));
    expect(listings.map((r) => new URL(r.path, 'http://x').searchParams.get('startIndex'))).toEqual(['2']);
    expect(listings[0].path).toContain('/Groups?');
    expect(beats.at(-1)).toEqual({ phase: 'deletedGroups', after: null });
  });
});
