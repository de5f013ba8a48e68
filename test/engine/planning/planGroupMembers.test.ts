import { describe, expect, it } from 'vitest';
import { planGroupMembers } from '../../../engine/planning/index.ts';
import { buildMembershipIndex } from '../../../engine/scoping/index.ts';
import type { Membership } from '../../../engine/types.ts';

const m = (groupId: string, memberId: string, memberType: 'user' | 'group' = 'user'): Membership => ({
  groupId,
  memberId,
  memberType,
});

describe('planGroupMembers', () => {
  const memberships = buildMembershipIndex([
    m('g', 'u1'),
    m('g', 'u2'),
    m('g', 'nested', 'group'),
    m('nested', 'u3'),
    m('nested', 'u4'),
    m('nested', 'g', 'group'), // cycle
  ]);
  // u4 is not linked or not in scope.
  const linked: Record<string, string> = { u1: 't1', u2: 't2', u3: 't3' };
  const resolveMember = (id: string) => linked[id] ?? null;

  it('flattens nested groups to linked, in-scope users and adds them to a new group', () => {
    const plan = planGroupMembers({ groupId: 'g', memberships, resolveMember, currentMemberIds: null, chunkSize: 100 });
    expect(plan.desiredMemberIds).toEqual(['t1', 't2', 't3']);
    expect(plan.unresolvedUserIds).toEqual(['u4']);
    expect(plan.requests).toEqual([
      [{ op: 'add', path: 'members', value: [{ value: 't1' }, { value: 't2' }, { value: 't3' }] }],
    ]);
  });

  it('adds the missing and removes the extra members in chunks', () => {
    const plan = planGroupMembers({
      groupId: 'g',
      memberships,
      resolveMember,
      currentMemberIds: ['t1', 'x1', 'x2', 'x3'],
      chunkSize: 2,
    });
    expect(plan.add).toEqual(['t2', 't3']);
    expect(plan.remove).toEqual(['x1', 'x2', 'x3']);
    expect(plan.requests).toEqual([
      [{ op: 'add', path: 'members', value: [{ value: 't2' }, { value: 't3' }] }],
      [{ op: 'remove', path: 'members', value: [{ value: 'x1' }, { value: 'x2' }] }],
      [{ op: 'remove', path: 'members', value: [{ value: 'x3' }] }],
    ]);
  });

  it('sends nothing when the members already match', () => {
    const plan = planGroupMembers({
      groupId: 'g',
      memberships,
      resolveMember,
      currentMemberIds: ['t3', 't2', 't1'],
      chunkSize: 10,
    });
    expect(plan.requests).toEqual([]);
  });

  it('refuses a chunk size below one', () => {
    expect(() => planGroupMembers({ groupId: 'g', memberships, resolveMember, chunkSize: 0 })).toThrow(RangeError);
  });
});
