// Group membership as an index, walked with a visited set so nested groups that contain each
// other (cycles happen in real directories) terminate instead of looping.
import type { Membership } from '../types.ts';

/** A group's direct members, ids only: its users and its nested groups apart. */
export interface GroupMembers {
  readonly users: readonly string[];
  readonly groups: readonly string[];
}

export interface MembershipIndex {
  /** memberId → ids of the groups it is a direct member of. */
  readonly parentsOf: ReadonlyMap<string, readonly string[]>;
  /** groupId → its direct members. */
  readonly membersOf: ReadonlyMap<string, GroupMembers>;
}

export function buildMembershipIndex(memberships: Iterable<Membership>): MembershipIndex {
  const builder = new MembershipIndexBuilder();
  for (const membership of memberships) builder.add(membership);
  return builder.build();
}

/**
 * Builds a MembershipIndex from memberships added one at a time (e.g. page by page as they are read).
 * Each id is kept once however many memberships name it, and a membership is two array slots (the
 * group's member, the member's group), no object of its own: a directory of a million memberships
 * repeats a group's id in every one of its members' rows.
 */
export class MembershipIndexBuilder {
  private ids: Map<string, string> | null = new Map();
  private readonly parentsOf = new Map<string, string[]>();
  private readonly membersOf = new Map<string, { users: string[]; groups: string[] }>();

  private id(value: string): string {
    if (!this.ids) throw new Error('MembershipIndexBuilder: add after build');
    const known = this.ids.get(value);
    if (known !== undefined) return known;
    this.ids.set(value, value);
    return value;
  }

  add(membership: Membership): void {
    const groupId = this.id(membership.groupId);
    const memberId = this.id(membership.memberId);
    const parents = this.parentsOf.get(memberId);
    if (parents) parents.push(groupId);
    else this.parentsOf.set(memberId, [groupId]);
    let members = this.membersOf.get(groupId);
    if (!members) this.membersOf.set(groupId, (members = { users: [], groups: [] }));
    (membership.memberType === 'group' ? members.groups : members.users).push(memberId);
  }

  /** The index; the builder takes no more memberships after it. */
  build(): MembershipIndex {
    this.ids = null;
    return { parentsOf: this.parentsOf, membersOf: this.membersOf };
  }
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
    const members = index.membersOf.get(queue.pop() as string);
    if (!members) continue;
    for (const userId of members.users) users.add(userId);
    for (const nested of members.groups) {
      if (seenGroups.has(nested)) continue;
      seenGroups.add(nested);
      queue.push(nested);
    }
  }
  return users;
}

/** The groups nested below a group, at any depth (excluding itself; cycles tolerated). */
export function descendantGroups(index: MembershipIndex, groupId: string): Set<string> {
  const seen = new Set<string>([groupId]);
  const queue = [groupId];
  while (queue.length > 0) {
    for (const nested of index.membersOf.get(queue.pop() as string)?.groups ?? []) {
      if (seen.has(nested)) continue;
      seen.add(nested);
      queue.push(nested);
    }
  }
  seen.delete(groupId);
  return seen;
}
