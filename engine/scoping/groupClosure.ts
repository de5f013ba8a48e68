// Group membership as an index, walked with a visited set so nested groups that contain each
// other (cycles happen in real directories) terminate instead of looping.
import type { Membership } from '../types.ts';

export interface MembershipIndex {
  /** memberId → ids of the groups it is a direct member of. */
  readonly parentsOf: ReadonlyMap<string, readonly string[]>;
  /** groupId → its direct members. */
  readonly membersOf: ReadonlyMap<string, readonly Membership[]>;
}

export function buildMembershipIndex(memberships: Iterable<Membership>): MembershipIndex {
  const parentsOf = new Map<string, string[]>();
  const membersOf = new Map<string, Membership[]>();
  for (const membership of memberships) {
    const parents = parentsOf.get(membership.memberId);
    if (parents) parents.push(membership.groupId);
    else parentsOf.set(membership.memberId, [membership.groupId]);
    const members = membersOf.get(membership.groupId);
    if (members) members.push(membership);
    else membersOf.set(membership.groupId, [membership]);
  }
  return { parentsOf, membersOf };
}

/** Every group the object belongs to, directly or through nested groups (excluding itself). */
export function ancestorGroups(index: MembershipIndex, memberId: string): string[] {
  const direct = index.parentsOf.get(memberId);
  if (!direct) return [];
  const seen = new Set<string>([memberId]);
  const result: string[] = [];
  const queue = [...direct];
  while (queue.length > 0) {
    const groupId = queue.pop() as string;
    if (seen.has(groupId)) continue;
    seen.add(groupId);
    result.push(groupId);
    const parents = index.parentsOf.get(groupId);
    if (parents) for (const parent of parents) if (!seen.has(parent)) queue.push(parent);
  }
  return result;
}

/** The users of a group with nested groups flattened (Ferry flattens; Entra does not). */
export function flattenGroupUsers(index: MembershipIndex, groupId: string): Set<string> {
  const users = new Set<string>();
  const seenGroups = new Set<string>([groupId]);
  const queue = [groupId];
  while (queue.length > 0) {
    const current = queue.pop() as string;
    for (const member of index.membersOf.get(current) ?? []) {
      if (member.memberType === 'user') users.add(member.memberId);
      else if (!seenGroups.has(member.memberId)) {
        seenGroups.add(member.memberId);
        queue.push(member.memberId);
      }
    }
  }
  return users;
}
