import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../engine/errors.ts';
import { ancestorGroups, flattenGroupUsers } from '../../engine/scoping/index.ts';
import { NestingCycleError } from '../../store/errors.ts';
import { storeBackends, useStore } from '../support/postgres.ts';

const uid = () => randomUUID();

describe.each(storeBackends)('directory on $name', (backend) => {
  const ctx = useStore(backend);

  it('appends one change per directory write, in order, with what was written', async () => {
    const { directory, changes } = ctx.store;
    const before = await changes.latestSeq();
    const user = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com`, department: 'Sales' });
    const group = await directory.createGroup({ displayName: 'Sales team' });
    await directory.patchUser(user.id, { jobTitle: 'Lead' });
    await directory.addMember(group.id, user.id);
    await directory.removeMember(group.id, user.id);
    await directory.softDeleteUser(user.id);
    await directory.restoreUser(user.id);
    await directory.hardDeleteUser(user.id);

    const log = await changes.changesSince(before);
    expect(log.map((c) => [c.op, c.objectType, c.objectId])).toEqual([
      ['upsert', 'user', user.id],
      ['upsert', 'group', group.id],
      ['upsert', 'user', user.id],
      ['memberAdd', 'group', group.id],
      ['memberRemove', 'group', group.id],
      ['softDelete', 'user', user.id],
      ['restore', 'user', user.id],
      ['hardDelete', 'user', user.id],
    ]);
    expect(log[3].detail).toEqual({ memberId: user.id, memberType: 'user' });
    expect(await changes.latestSeq()).toBe(log[log.length - 1].seq);
  });

  it("an app's scope of assigned objects loads only the memberships of its assigned groups and the groups nested below them", async () => {
    const { directory, apps, assignments } = ctx.store;
    const app = await apps.create({ name: 'Scoped', template: 'generic-scim', configuration: {} });
    const assigned = await directory.createGroup({ displayName: 'Assigned' });
    const nested = await directory.createGroup({ displayName: 'Nested' });
    const elsewhere = await directory.createGroup({ displayName: 'Elsewhere' });
    const inside = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com` });
    const outside = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com` });
    await directory.addMember(assigned.id, nested.id);
    await directory.addMember(nested.id, inside.id);
    await directory.addMember(elsewhere.id, outside.id);
    await directory.addMember(elsewhere.id, assigned.id);
    await assignments.assign(app.id, assigned.id);
    await assignments.assign(app.id, outside.id);

    const pairs = (rows: { groupId: string; memberId: string }[]) =>
      rows.map((r) => `${r.groupId}>${r.memberId}`).sort();
    expect(pairs(await directory.membershipsForScope(app.id, 'assigned'))).toEqual(
      [`${assigned.id}>${nested.id}`, `${nested.id}>${inside.id}`].sort(),
    );
    const all = pairs(await directory.membershipsForScope(app.id, 'all'));
    expect(all).toEqual(expect.arrayContaining([`${elsewhere.id}>${outside.id}`, `${elsewhere.id}>${assigned.id}`]));
    expect(all.length).toBeGreaterThanOrEqual(4);
  });

  it('hands the memberships of a scope over page by page, the same ones one read gives, also inside a transaction', async () => {
    const { directory, apps, assignments } = ctx.store;
    const app = await apps.create({ name: 'Paged', template: 'generic-scim', configuration: {} });
    const top = await directory.createGroup({ displayName: 'Top' });
    const below = await directory.createGroup({ displayName: 'Below' });
    await directory.addMember(top.id, below.id);
    for (let i = 0; i < 5; i++) {
      const user = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com` });
      await directory.addMember(i % 2 ? top.id : below.id, user.id);
    }
    await assignments.assign(app.id, top.id);
    const pairs = (rows: { groupId: string; memberId: string; memberType: string }[]) =>
      rows.map((r) => `${r.groupId}>${r.memberId}:${r.memberType}`).sort();
    for (const scope of ['assigned', 'all'] as const) {
      const pages: number[] = [];
      const paged: { groupId: string; memberId: string; memberType: string }[] = [];
      const count = await directory.forEachMembershipPage(
        app.id,
        scope,
        (page) => {
          pages.push(page.length);
          paged.push(...page);
        },
        2,
      );
      const whole = await directory.membershipsForScope(app.id, scope);
      expect(pairs(paged)).toEqual(pairs(whole));
      expect(count).toBe(whole.length);
      expect(Math.max(...pages)).toBe(2);
      if (scope === 'assigned') expect(count).toBe(6);
    }
    const inTx = await ctx.store.transaction(async (tx) => {
      const rows: { groupId: string; memberId: string; memberType: string }[] = [];
      await tx.directory.forEachMembershipPage(app.id, 'assigned', (page) => rows.push(...page), 4);
      return rows;
    });
    expect(pairs(inTx)).toEqual(pairs(await directory.membershipsForScope(app.id, 'assigned')));
  });

  it('loads only the memberships walks from a few objects need, and those walks answer as the whole index does', async () => {
    const { directory, apps, assignments } = ctx.store;
    const app = await apps.create({ name: 'Around', template: 'generic-scim', configuration: {} });
    const group = async (name: string) => (await directory.createGroup({ displayName: name })).id;
    const user = async () => (await directory.createUser({ userPrincipalName: `${uid()}@contoso.com` })).id;
    const [top, middle, team, other] = [
      await group('Top'),
      await group('Middle'),
      await group('Team'),
      await group('Other'),
    ];
    const [alice, bob, carol] = [await user(), await user(), await user()];
    await directory.addMember(top, middle);
    await directory.addMember(middle, team);
    await directory.addMember(team, alice);
    await directory.addMember(team, bob);
    await directory.addMember(middle, carol);
    await directory.addMember(other, carol);
    await directory.addMember(other, bob);
    await assignments.assign(app.id, top);

    for (const scope of ['assigned', 'all'] as const) {
      const whole = await directory.membershipIndex(app.id, scope);
      const around = await directory.membershipIndexAround(app.id, scope, { up: [team, alice, bob], down: [team] });
      for (const id of [team, alice, bob])
        expect(new Set(ancestorGroups(around, id))).toEqual(new Set(ancestorGroups(whole, id)));
      expect(flattenGroupUsers(around, team)).toEqual(flattenGroupUsers(whole, team));
      // Carol is in none of the walks: her memberships are not loaded.
      expect(around.groupsOf(carol)).toEqual([]);
      expect(whole.groupsOf(carol).length).toBe(scope === 'all' ? 2 : 1);
    }
  });

  it('appends no change when the transaction around the write rolls back', async () => {
    const { changes, directory } = ctx.store;
    const before = await changes.latestSeq();
    const upn = `${uid()}@contoso.com`;
    await expect(
      ctx.store.transaction(async (tx) => {
        await tx.directory.createUser({ userPrincipalName: upn });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await directory.getUserByPrincipalName(upn)).toBeNull();
    expect(await changes.changesSince(before)).toEqual([]);
  });

  it('commits the write and its change together inside a caller transaction', async () => {
    const before = await ctx.store.changes.latestSeq();
    const id = await ctx.store.transaction(async (tx) => {
      const u = await tx.directory.createUser({ userPrincipalName: `${uid()}@contoso.com` });
      await tx.directory.patchUser(u.id, { city: 'Oslo' });
      return u.id;
    });
    const log = await ctx.store.changes.changesSince(before);
    expect(log.map((c) => c.objectId)).toEqual([id, id]);
    expect((await ctx.store.directory.getUser(id))?.city).toBe('Oslo');
  });

  it('keeps the watermark monotonic under concurrent writers: seqs are visible in order, without holes', async () => {
    const { changes } = ctx.store;
    const before = await changes.latestSeq();
    const seen: number[] = [];
    const holes: number[] = [];
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        const latest = await changes.latestSeq();
        seen.push(latest);
        // Everything up to the watermark must already be visible: a cycle that saved `latest` would otherwise skip a change.
        const visible = await changes.changesSince(before, 1000, latest);
        if (visible.length !== latest - before) holes.push(latest);
      }
    })();
    // Writers that stay in their transaction a little after writing, so commits could overtake each other.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ctx.store.transaction(async (tx) => {
          await tx.directory.createUser({ userPrincipalName: `${uid()}@contoso.com` });
          await new Promise((r) => setTimeout(r, (i * 7) % 15));
        }),
      ),
    );
    stop = true;
    await reader;
    expect(holes).toEqual([]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
    const log = await changes.changesSince(before);
    expect(log).toHaveLength(20);
    expect(log.map((c) => c.seq)).toEqual([...log.map((c) => c.seq)].sort((a, b) => a - b));
  });

  it('stores every Entra attribute of a user and reads it back', async () => {
    const input = {
      id: uid(),
      userPrincipalName: `${uid()}@contoso.com`,
      mail: 'ada@contoso.com',
      mailNickname: 'ada',
      displayName: 'Ada Lovelace',
      givenName: 'Ada',
      surname: 'Lovelace',
      accountEnabled: false,
      jobTitle: 'Engineer',
      department: 'R&D',
      companyName: 'Contoso',
      employeeId: 'E-1',
      mobilePhone: '+47 555 0000',
      businessPhones: ['+47 1', '+47 2'],
      officeLocation: 'B1',
      city: 'Bergen',
      country: 'NO',
      managerId: uid(),
      extensions: { extension_costCenter: 'CC-7', extension_labels: ['a', 'ø'] },
      deletedDateTime: null,
    };
    await ctx.store.directory.createUser(input);
    expect(await ctx.store.directory.getUser(input.id)).toEqual(input);
  });

  it('patch changes only the given attributes; replace clears the others', async () => {
    const { directory } = ctx.store;
    const u = await directory.createUser({
      userPrincipalName: `${uid()}@contoso.com`,
      department: 'Sales',
      city: 'Oslo',
    });
    expect(await directory.patchUser(u.id, { city: 'Bergen' })).toMatchObject({ department: 'Sales', city: 'Bergen' });
    const replaced = await directory.replaceUser(u.id, { userPrincipalName: u.userPrincipalName, jobTitle: 'CEO' });
    expect(replaced).toMatchObject({ department: null, city: null, jobTitle: 'CEO', accountEnabled: true });
  });

  it('rejects a second user with the same userPrincipalName, whatever the case', async () => {
    const upn = `${uid()}@contoso.com`;
    await ctx.store.directory.createUser({ userPrincipalName: upn });
    await expect(ctx.store.directory.createUser({ userPrincipalName: upn.toUpperCase() })).rejects.toBeInstanceOf(
      ConflictError,
    );
  });

  it('soft delete keeps the user and its memberships (restorable); hard delete removes them and says so in the log', async () => {
    const { directory, changes } = ctx.store;
    const u = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com` });
    const g = await directory.createGroup({ displayName: 'G' });
    await directory.addMember(g.id, u.id);

    const deleted = await directory.softDeleteUser(u.id);
    expect(deleted.deletedDateTime).not.toBeNull();
    expect((await directory.getUser(u.id))?.deletedDateTime).toBe(deleted.deletedDateTime);
    expect(await directory.groupsOf(u.id)).toEqual([g.id]);
    const listed = await directory.listUsers({ limit: 1000 });
    expect(listed.items.some((x) => x.id === u.id)).toBe(false);
    const bin = await directory.listUsers({ limit: 1000, deleted: 'only' });
    expect(bin.items.map((x) => x.id)).toContain(u.id);
    expect((await directory.restoreUser(u.id)).deletedDateTime).toBeNull();

    const before = await changes.latestSeq();
    await directory.hardDeleteUser(u.id);
    expect(await directory.getUser(u.id)).toBeNull();
    expect(await directory.membersOf(g.id)).toEqual([]);
    expect((await changes.changesSince(before)).map((c) => c.op)).toEqual(['memberRemove', 'hardDelete']);
    await expect(directory.hardDeleteUser(u.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('restoring a user or group that is not in the recycle bin changes nothing and appends no change', async () => {
    const { directory, changes } = ctx.store;
    const u = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com`, city: 'Oslo' });
    const g = await directory.createGroup({ displayName: 'Not deleted' });
    const before = await changes.latestSeq();

    expect(await directory.restoreUser(u.id)).toEqual(await directory.getUser(u.id));
    expect((await directory.restoreGroup(g.id)).deletedDateTime).toBeNull();
    expect(await changes.changesSince(before)).toEqual([]);

    await directory.softDeleteGroup(g.id);
    await directory.restoreGroup(g.id);
    expect((await changes.changesSince(before)).map((c) => c.op)).toEqual(['softDelete', 'restore']);
  });

  it('restoring an unknown id is a not-found error', async () => {
    const { directory } = ctx.store;
    await expect(directory.restoreUser(uid())).rejects.toBeInstanceOf(NotFoundError);
    await expect(directory.restoreGroup(uid())).rejects.toBeInstanceOf(NotFoundError);
  });

  it('hard-deleting a manager clears the manager of each report and logs a change for each, in the same transaction', async () => {
    const { directory, changes } = ctx.store;
    const boss = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com` });
    const a = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com`, managerId: boss.id });
    const b = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com`, managerId: boss.id });
    const other = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com`, managerId: a.id });
    const before = await changes.latestSeq();

    await directory.hardDeleteUser(boss.id);

    expect((await directory.getUser(a.id))?.managerId).toBeNull();
    expect((await directory.getUser(b.id))?.managerId).toBeNull();
    expect((await directory.getUser(other.id))?.managerId).toBe(a.id);
    const log = await changes.changesSince(before);
    expect(log.filter((c) => c.op === 'upsert').map((c) => c.objectId)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(log.map((c) => c.op)).toEqual(['upsert', 'upsert', 'hardDelete']);
  });

  it('a failed hard delete leaves the reports with their manager', async () => {
    const { directory, changes } = ctx.store;
    const boss = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com` });
    const report = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com`, managerId: boss.id });
    const before = await changes.latestSeq();
    await expect(
      ctx.store.transaction(async (tx) => {
        await tx.directory.hardDeleteUser(boss.id);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await directory.getUser(report.id))?.managerId).toBe(boss.id);
    expect(await changes.changesSince(before)).toEqual([]);
  });

  it('flattens nested groups, tolerating a cycle in the nesting', async () => {
    const { directory } = ctx.store;
    const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((displayName) => directory.createGroup({ displayName })));
    const [u1, u2, u3] = await Promise.all(
      [1, 2, 3].map(() => directory.createUser({ userPrincipalName: `${uid()}@contoso.com` })),
    );
    await directory.addMember(a.id, u1.id);
    await directory.addMember(a.id, b.id);
    await directory.addMember(b.id, u2.id);
    await directory.addMember(b.id, c.id);
    await directory.addMember(c.id, u3.id);
    // A → B → C → A, as data written before cycles were refused may hold it.
    await ctx.store.db.execute(
      sql`insert into directory_memberships (group_id, member_id, member_type) values (${c.id}, ${a.id}, 'group')`,
    );

    const usersOfA = (await directory.transitiveMembersOf(a.id, 'user')).map((m) => m.memberId).sort();
    expect(usersOfA).toEqual([u1.id, u2.id, u3.id].sort());
    expect((await directory.groupsOfUser(u3.id)).sort()).toEqual([a.id, b.id, c.id].sort());
    expect(await directory.groupsOfUser(u3.id, { transitive: false })).toEqual([c.id]);
    expect(await directory.addMember(a.id, u1.id)).toBe(false);
  });

  it('refuses a membership that would make the group nesting cyclic, naming the cycle', async () => {
    const { directory, changes } = ctx.store;
    const [a, b, c] = await Promise.all(
      ['A', 'B', 'C'].map((name) => directory.createGroup({ id: `${name}-${uid()}`, displayName: name })),
    );
    await directory.addMember(a.id, b.id);
    await directory.addMember(b.id, c.id);
    const before = await changes.latestSeq();
    const refused = await directory.addMember(c.id, a.id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NestingCycleError);
    expect((refused as NestingCycleError).cycle).toEqual([c.id, a.id, b.id, c.id]);
    expect((refused as Error).message).toContain(`${c.id} → ${a.id} → ${b.id} → ${c.id}`);
    await expect(directory.addMember(b.id, a.id)).rejects.toBeInstanceOf(NestingCycleError);
    await expect(directory.addMember(a.id, a.id)).rejects.toBeInstanceOf(NestingCycleError);
    await expect(
      directory.bulkAddMembers([{ groupId: c.id, memberId: a.id, memberType: 'group' }]),
    ).rejects.toBeInstanceOf(NestingCycleError);
    expect(await directory.membersOf(c.id)).toEqual([]);
    expect(await changes.changesSince(before)).toEqual([]);
    // A diamond is no cycle.
    await directory.addMember(a.id, c.id);
    expect((await directory.membersOf(a.id)).map((m) => m.memberId).sort()).toEqual([b.id, c.id].sort());
  });

  it('refuses a cycle made of two memberships written at the same time from both ends', async () => {
    const { directory } = ctx.store;
    for (let round = 0; round < 5; round++) {
      const [a, b] = await Promise.all(['A', 'B'].map((displayName) => directory.createGroup({ displayName })));
      const outcomes = await Promise.allSettled([directory.addMember(a.id, b.id), directory.addMember(b.id, a.id)]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.find((o) => o.status === 'rejected')?.reason).toBeInstanceOf(NestingCycleError);
    }
  });

  it('an import of memberships adds the acyclic ones and names each refused one with its cycle', async () => {
    const { directory } = ctx.store;
    const [a, b, c] = await Promise.all(
      ['A', 'B', 'C'].map((name) => directory.createGroup({ id: `${name}-${uid()}`, displayName: name })),
    );
    const result = await directory.importMembers([
      { groupId: a.id, memberId: b.id, memberType: 'group' },
      { groupId: b.id, memberId: c.id, memberType: 'group' },
      { groupId: c.id, memberId: a.id, memberType: 'group' },
      { groupId: a.id, memberId: c.id, memberType: 'group' },
    ]);
    expect(result.added).toBe(3);
    expect(result.refused).toEqual([{ index: 2, cycle: [c.id, a.id, b.id, c.id] }]);
    expect(await directory.membersOf(c.id)).toEqual([]);
  });

  it('removes many memberships at once, logging each removed one once, in the order given', async () => {
    const { directory, changes } = ctx.store;
    const [a, b] = await Promise.all(['A', 'B'].map((name) => directory.createGroup({ displayName: name })));
    const u = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com` });
    await directory.bulkAddMembers([
      { groupId: a.id, memberId: u.id, memberType: 'user' },
      { groupId: a.id, memberId: b.id, memberType: 'group' },
      { groupId: b.id, memberId: u.id, memberType: 'user' },
    ]);
    expect([...(await directory.membersOfGroups([a.id, b.id, uid()])).keys()].sort()).toEqual([a.id, b.id].sort());
    const before = await changes.latestSeq();
    const removed = await directory.removeMembers([
      { groupId: b.id, memberId: u.id },
      { groupId: a.id, memberId: uid() },
      { groupId: a.id, memberId: b.id },
      { groupId: b.id, memberId: u.id },
    ]);
    expect(removed).toBe(2);
    expect((await changes.changesSince(before)).map((c) => [c.op, c.objectId, c.detail])).toEqual([
      ['memberRemove', b.id, { memberId: u.id, memberType: 'user' }],
      ['memberRemove', a.id, { memberId: b.id, memberType: 'group' }],
    ]);
    const left = await directory.membersOfGroups([a.id, b.id]);
    expect(left.get(a.id)).toEqual([{ groupId: a.id, memberId: u.id, memberType: 'user' }]);
    expect(left.has(b.id)).toBe(false);
  });

  it('refuses members and groups that do not exist', async () => {
    const g = await ctx.store.directory.createGroup({ displayName: 'G' });
    await expect(ctx.store.directory.addMember(g.id, uid())).rejects.toBeInstanceOf(NotFoundError);
    await expect(ctx.store.directory.addMember(uid(), g.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('pages through users with a cursor, each user once', async () => {
    const prefix = uid().slice(0, 8);
    const ids = Array.from({ length: 25 }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
    await ctx.store.directory.bulkUpsertUsers(ids.map((id) => ({ id, userPrincipalName: `${id}@contoso.com` })));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await ctx.store.directory.listUsers({ cursor, limit: 7 });
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.map((u) => u.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.filter((id) => id.startsWith(prefix))).toEqual(ids);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('bulk upsert creates then replaces, appending one change per user', async () => {
    const { directory, changes } = ctx.store;
    const before = await changes.latestSeq();
    const users = Array.from({ length: 2500 }, (_, i) => ({
      id: uid(),
      userPrincipalName: `${uid()}@contoso.com`,
      department: `D${i % 7}`,
    }));
    expect(await directory.bulkUpsertUsers(users, 1000)).toBe(2500);
    await directory.bulkUpsertUsers([{ ...users[0], department: 'Moved' }]);
    expect((await directory.getUser(users[0].id))?.department).toBe('Moved');
    expect((await directory.getUser(users[2499].id))?.department).toBe(`D${2499 % 7}`);
    expect(await changes.changesSince(before, 10_000)).toHaveLength(2501);
  });
});
