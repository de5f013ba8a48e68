import { describe, expect, it } from 'vitest';
import { buildMembershipIndex, MembershipIndexBuilder } from '../../../engine/scoping/index.ts';
import type { Membership } from '../../../engine/types.ts';

/** A directory with users in several groups and groups nested in others (a cycle included). */
function directory(): Membership[] {
  const memberships: Membership[] = [];
  for (let u = 0; u < 6000; u++)
    for (const g of [u % 40, (u * 7) % 40, 40 + (u % 3)])
      memberships.push({ groupId: `g${g}`, memberId: `u${u}`, memberType: 'user' });
  for (let g = 0; g < 40; g++)
    memberships.push({ groupId: `g${(g + 1) % 40}`, memberId: `g${g}`, memberType: 'group' });
  return memberships;
}

describe('membership index', () => {
  it('answers each id’s groups and each group’s members as the memberships say, in their order', () => {
    const memberships = directory();
    const builder = new MembershipIndexBuilder();
    // Added a page at a time, as the worker reads them.
    for (let i = 0; i < memberships.length; i += 1000) for (const m of memberships.slice(i, i + 1000)) builder.add(m);
    const index = builder.build();
    const groupsOf = new Map<string, string[]>();
    const membersOf = new Map<string, { users: string[]; groups: string[] }>();
    for (const m of memberships) {
      groupsOf.set(m.memberId, [...(groupsOf.get(m.memberId) ?? []), m.groupId]);
      const members = membersOf.get(m.groupId) ?? { users: [], groups: [] };
      (m.memberType === 'group' ? members.groups : members.users).push(m.memberId);
      membersOf.set(m.groupId, members);
    }
    for (const [id, groups] of groupsOf) expect(index.groupsOf(id)).toEqual(groups);
    for (const [id, members] of membersOf) expect(index.membersOf(id)).toEqual(members);
  });

  it('knows nothing of ids no membership names, and of users as groups', () => {
    const index = buildMembershipIndex([{ groupId: 'g1', memberId: 'u1', memberType: 'user' }]);
    expect(index.groupsOf('nobody')).toEqual([]);
    expect(index.groupsOf('g1')).toEqual([]);
    expect(index.membersOf('nobody')).toBeUndefined();
    expect(index.membersOf('u1')).toBeUndefined();
    expect(index.membersOf('g1')).toEqual({ users: ['u1'], groups: [] });
  });

  it('takes no memberships once built', () => {
    const builder = new MembershipIndexBuilder();
    builder.build();
    expect(() => builder.add({ groupId: 'g1', memberId: 'u1', memberType: 'user' })).toThrow(/after build/);
  });
});
