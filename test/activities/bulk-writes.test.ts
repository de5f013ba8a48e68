// SCIM Bulk in cycles: with the app's `bulk` on and a target advertising /Bulk, a cycle's creates,
// updates and disables go in /Bulk requests of at most the target's maxOperations; each object's
// link and log entry come from its own operation's answer; a target that advertises Bulk but has
// none gets single requests.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CycleSummary } from '../../activities/types.ts';
import { startScimTarget, type ScimTarget, type ScimTargetWrite } from '../../dev/scim-target/index.ts';
import { genericScimTemplate } from '../../gallery/index.ts';
import type { ProvisioningLogEntry } from '../../engine/types.ts';
import { createApp, expectedState, seedDirectory, targetState } from '../provisioning/fixtures.ts';
import { openActivityTestbed, runCycleDirect, type ActivityTestbed } from './helpers.ts';

const name = (i: number) => `bulk${String(i).padStart(4, '0')}@contoso.com`;
const sourceId = (i: number) => `bu${String(i).padStart(4, '0')}`;

type Refuse = (write: ScimTargetWrite) => { status: number; scimType?: string; detail: string } | null;

describe('SCIM Bulk in cycles (dev target)', () => {
  let t: ActivityTestbed;
  let target: ScimTarget;
  let refuse: Refuse = () => null;
  let appId: string;
  let cycles = 0;

  beforeAll(async () => {
    t = await openActivityTestbed('bulkwrites');
    target = await startScimTarget({ bulk: { maxOperations: 100 }, refuse: (write) => refuse(write) });
    await t.store.directory.bulkUpsertUsers(
      Array.from({ length: 250 }, (_, n) => ({
        id: sourceId(n + 1),
        userPrincipalName: name(n + 1),
        displayName: `Bulk ${n + 1}`,
        jobTitle: 'Engineer',
      })),
    );
    appId = await createApp(t.store, target, {
      assignGroups: false,
      overrides: {
        bulk: true,
        scope: 'all',
        objectTypes: { user: { mappings: genericScimTemplate.objectTypes.user.mappings } },
      },
    });
  });
  afterAll(async () => {
    await target?.close();
    await t?.close();
  });
  afterEach(() => {
    refuse = () => null;
  });

  async function cycle(kind: 'initial' | 'incremental'): Promise<CycleSummary> {
    const app = await t.store.apps.require(appId);
    return runCycleDirect(t.handle.activities, {
      appId,
      cycleNumber: ++cycles,
      kind,
      watermark: app.watermark,
      batchSize: 1000,
    });
  }

  /** The target's requests of `run`, by route. */
  async function routesOf(run: () => Promise<unknown>): Promise<Record<string, number>> {
    const before = target.stats().byRoute;
    await run();
    const after = target.stats().byRoute;
    return Object.fromEntries(
      Object.entries(after)
        .map(([route, n]) => [route, n - (before[route] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    );
  }

  const writes = (routes: Record<string, number>) =>
    Object.fromEntries(Object.entries(routes).filter(([route]) => !route.startsWith('GET ')));

  async function logOf(summary: CycleSummary, i: number): Promise<ProvisioningLogEntry> {
    const { items } = await t.store.logs.query({ appId, cycleId: summary.cycleId, objectId: sourceId(i), limit: 5 });
    expect(items).toHaveLength(1);
    return items[0];
  }

  const exportStep = (entry: ProvisioningLogEntry) => entry.steps.find((step) => step.name === 'export');

  it('creates 250 users in 3 Bulk requests (maxOperations 100), one refused user failing alone', async () => {
    refuse = (write) =>
      write.method === 'POST' && write.resource?.userName === name(7)
        ? { status: 400, scimType: 'invalidValue', detail: 'userName is not acceptable here' }
        : null;
    let summary: CycleSummary | undefined;
    const routes = await routesOf(async () => (summary = await cycle('initial')));
    expect(writes(routes)).toEqual({ 'POST /Bulk': 3 });
    // Reads: the capabilities and the target's listing for matching; nothing per object.
    expect(routes['GET /Users/{id}']).toBeUndefined();
    expect(target.stats().bulkOperations).toBe(250);
    expect(Object.values(routes).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3 + 3);
    expect(summary?.counts).toMatchObject({ created: 249, failed: 1 });

    const users = target.users();
    expect(users).toHaveLength(249);
    const links = await t.store.links.getMany(
      appId,
      'user',
      Array.from({ length: 250 }, (_, n) => sourceId(n + 1)),
    );
    // Every link points at the account its own operation created.
    for (const user of users) {
      const i = Number(String(user.userName).slice(4, 8));
      expect(links.get(sourceId(i))?.targetId).toBe(user.id);
    }
    const created = await logOf(summary as CycleSummary, 1);
    expect(created).toMatchObject({ action: 'Create', status: 'Success', targetId: links.get(sourceId(1))?.targetId });
    expect(exportStep(created)?.details).toMatchObject({ request: 'POST /Users', via: 'Bulk' });

    // The refused one: classified as the single POST would be (400 → permanent BadRequest), escrowed.
    const refused = await logOf(summary as CycleSummary, 7);
    expect(refused).toMatchObject({ action: 'Create', status: 'Failure', errorCode: 'BadRequest' });
    expect(refused.errorMessage).toContain('userName is not acceptable here');
    const link = links.get(sourceId(7));
    expect(link?.targetId ?? null).toBeNull();
    expect(link).toMatchObject({ failureCount: 1, lastErrorCode: 'BadRequest' });
  });

  it('sends updates and disables of an incremental cycle in one Bulk request; a 409 fails only its object', async () => {
    for (const i of [1, 2, 3]) await t.store.directory.patchUser(sourceId(i), { jobTitle: 'Director' });
    await t.store.directory.softDeleteUser(sourceId(4));
    const conflicted = (await t.store.links.get(appId, 'user', sourceId(2)))?.targetId;
    refuse = (write) =>
      write.method === 'PATCH' && write.id === conflicted
        ? { status: 409, scimType: 'uniqueness', detail: 'title clashes' }
        : null;
    let summary: CycleSummary | undefined;
    const routes = await routesOf(async () => (summary = await cycle('incremental')));
    // The refused create of user 7 is due again (escrow) and refused again: in the same request.
    expect(writes(routes)).toEqual({ 'POST /Bulk': 1 });
    expect(summary?.counts).toMatchObject({ updated: 2, disabled: 1 });

    const byName = new Map(target.users().map((u) => [u.userName, u]));
    expect(byName.get(name(1))?.title).toBe('Director');
    expect(byName.get(name(3))?.title).toBe('Director');
    expect(byName.get(name(2))?.title).toBe('Engineer');
    expect(byName.get(name(4))?.active).toBe(false);

    const conflict = await logOf(summary as CycleSummary, 2);
    expect(conflict).toMatchObject({ action: 'Update', status: 'Failure', errorCode: 'Conflict' });
    expect((await t.store.links.get(appId, 'user', sourceId(2)))?.lastErrorCode).toBe('Conflict');
    const disabled = await logOf(summary as CycleSummary, 4);
    expect(disabled).toMatchObject({ action: 'Disable', status: 'Success' });
    expect(exportStep(disabled)?.details).toMatchObject({ active: false, via: 'Bulk' });
  });
});

describe('SCIM Bulk at a target that stops after an error', () => {
  let t: ActivityTestbed;
  let target: ScimTarget;
  let refused = 0;

  beforeAll(async () => {
    t = await openActivityTestbed('bulkstop');
    // Stops every Bulk request at its first error, whatever failOnErrors Ferry sends; refuses the first POST.
    target = await startScimTarget({
      bulk: { maxOperations: 100, stopAfterErrors: 1 },
      refuse: (write) => (write.method === 'POST' && refused++ === 0 ? { status: 400, detail: 'refused once' } : null),
    });
  });
  afterAll(async () => {
    await target?.close();
    await t?.close();
  });

  it('fails the operations the target did not run as transient, and the next cycle creates them', async () => {
    await t.store.directory.bulkUpsertUsers(
      Array.from({ length: 20 }, (_, n) => ({ id: sourceId(n + 1), userPrincipalName: name(n + 1) })),
    );
    const appId = await createApp(t.store, target, {
      assignGroups: false,
      overrides: {
        bulk: true,
        scope: 'all',
        objectTypes: { user: { mappings: genericScimTemplate.objectTypes.user.mappings } },
      },
    });
    const first = await runCycleDirect(t.handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
    });
    expect(target.stats().byRoute['POST /Bulk']).toBe(1);
    expect(target.users()).toHaveLength(0);
    const { items } = await t.store.logs.query({ appId, cycleId: first.cycleId, limit: 50 });
    const codes = items.map((entry) => entry.errorCode).sort();
    // One refused (permanent), nineteen never run (transient, retried).
    expect(codes).toEqual(['BadRequest', ...Array<string>(19).fill('ServiceUnavailable')]);
    expect(items.find((entry) => entry.errorCode === 'ServiceUnavailable')?.errorMessage).toContain(
      'stopped the Bulk request',
    );

    const app = await t.store.apps.require(appId);
    const second = await runCycleDirect(t.handle.activities, {
      appId,
      cycleNumber: 2,
      kind: 'incremental',
      watermark: app.watermark,
    });
    // The refused one is retried too (the target takes it this time).
    expect(second.counts).toMatchObject({ created: 20, failed: 0 });
    expect(target.users()).toHaveLength(20);
  });
});

describe('SCIM Bulk fallback', () => {
  let t: ActivityTestbed;
  let target: ScimTarget;

  beforeAll(async () => {
    t = await openActivityTestbed('bulkfallback');
    target = await startScimTarget({ bulk: { maxOperations: 100, unavailable: true } });
  });
  afterAll(async () => {
    await target?.close();
    await t?.close();
  });

  it('sends single requests when the target advertises Bulk but answers 501, and does not ask again', async () => {
    await t.store.directory.bulkUpsertUsers(
      Array.from({ length: 30 }, (_, n) => ({ id: sourceId(n + 1), userPrincipalName: name(n + 1) })),
    );
    const appId = await createApp(t.store, target, {
      assignGroups: false,
      overrides: {
        bulk: true,
        scope: 'all',
        objectTypes: { user: { mappings: genericScimTemplate.objectTypes.user.mappings } },
      },
    });
    const first = await runCycleDirect(t.handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
    });
    expect(first.counts).toMatchObject({ created: 30, failed: 0 });
    await t.store.directory.patchUser(sourceId(1), { jobTitle: 'Director' });
    const app = await t.store.apps.require(appId);
    const second = await runCycleDirect(t.handle.activities, {
      appId,
      cycleNumber: 2,
      kind: 'incremental',
      watermark: app.watermark,
    });
    expect(second.counts).toMatchObject({ updated: 1, failed: 0 });
    const routes = target.stats().byRoute;
    expect(routes['POST /Bulk']).toBe(1);
    expect(routes['POST /Users']).toBe(30);
    expect(routes['PATCH /Users/{id}']).toBe(1);
    expect(target.users()).toHaveLength(30);
  });
});

describe('SCIM Bulk against scimmy', () => {
  let t: ActivityTestbed;

  beforeAll(async () => {
    t = await openActivityTestbed('bulkscimmy');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('provisions users with managers and nested groups through /Bulk to the same end state', async () => {
    const shape = { users: 120, groups: 6 };
    await seedDirectory(t.store, shape);
    const appId = await createApp(t.store, t.peer, { shape, overrides: { bulk: true } });
    const summary = await runCycleDirect(t.handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
      batchSize: 500,
    });
    expect(summary.status).toBe('succeeded');
    expect(summary.counts.failed).toBe(0);
    const state = targetState(await t.peer.users(), await t.peer.groups());
    const expected = expectedState(shape);
    expect(state.users.size).toBe(shape.users);
    for (const [userName, facts] of expected.users) {
      expect(state.users.get(userName), userName).toMatchObject(facts);
    }
    expect(state.groups.size).toBe(shape.groups);
    for (const [group, members] of expected.groups) expect(state.groups.get(group), group).toEqual(members);
    const posts = t.peer.requestLog.filter((entry) => entry.method === 'POST');
    expect(posts.filter((entry) => entry.path.endsWith('/Users'))).toHaveLength(0);
    // 120 creates at maxOperations 100, the managers left for the references pass, the groups.
    expect(posts.filter((entry) => entry.path.endsWith('/Bulk')).length).toBeLessThanOrEqual(5);
  });
});
