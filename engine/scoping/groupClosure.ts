// Group membership as an index, walked with a visited set so nested groups that contain each
// other (cycles happen in real directories) terminate instead of looping.
import type { Membership } from '../types.ts';

/** A group's direct members, ids only: its users and its nested groups apart. */
export interface GroupMembers {
  readonly users: readonly string[];
  readonly groups: readonly string[];
}

export interface MembershipIndex {
  /** Ids of the groups the object is a direct member of (empty when none). */
  groupsOf(memberId: string): readonly string[];
  /** A group's direct members; undefined when it has none. */
  membersOf(groupId: string): GroupMembers | undefined;
}

export function buildMembershipIndex(memberships: Iterable<Membership>): MembershipIndex {
  const builder = new MembershipIndexBuilder();
  for (const membership of memberships) builder.add(membership);
  return builder.build();
}

const NO_IDS: readonly string[] = Object.freeze([]);

/**
 * Builds a MembershipIndex from memberships added one at a time (e.g. page by page as they are read).
 * Each id is kept once and numbered; a membership is a few 32-bit slots, no object or string of its
 * own: the built index keeps, per direction, one offset per id and one number per membership (a
 * million memberships are ~8 MB of typed arrays, where maps of string arrays took ~35 MB).
 */
export class MembershipIndexBuilder {
  private numbers: Map<string, number> | null = new Map();
  private readonly ids: string[] = [];
  /** Per membership: group number, member number, and 1 when the member is a group. */
  private edges = new Int32Array(3 * 4096);
  private count = 0;

  private number(id: string): number {
    if (!this.numbers) throw new Error('MembershipIndexBuilder: add after build');
    let n = this.numbers.get(id);
    if (n === undefined) {
      n = this.ids.length;
      this.numbers.set(id, n);
      this.ids.push(id);
    }
    return n;
  }

  add(membership: Membership): void {
    const slot = 3 * this.count;
    if (slot + 3 > this.edges.length) {
      const grown = new Int32Array(this.edges.length * 2);
      grown.set(this.edges);
      this.edges = grown;
    }
    this.edges[slot] = this.number(membership.groupId);
    this.edges[slot + 1] = this.number(membership.memberId);
    this.edges[slot + 2] = membership.memberType === 'group' ? 1 : 0;
    this.count++;
  }

  /** The index; the builder takes no more memberships after it. */
  build(): MembershipIndex {
    const numbers = this.numbers;
    if (!numbers) throw new Error('MembershipIndexBuilder: built twice');
    this.numbers = null;
    const { edges, count, ids } = this;
    const size = ids.length;
    // Offsets (compressed rows): a group's members are members[memberStart[g] .. memberStart[g + 1]),
    // users before nested groups, split at usersEnd[g]; a member's groups likewise in `parents`.
    const memberStart = new Int32Array(size + 1);
    const parentStart = new Int32Array(size + 1);
    const nestedCount = new Int32Array(size);
    for (let e = 0; e < count; e++) {
      memberStart[edges[3 * e] + 1]++;
      parentStart[edges[3 * e + 1] + 1]++;
      if (edges[3 * e + 2] === 1) nestedCount[edges[3 * e]]++;
    }
    for (let n = 0; n < size; n++) {
      memberStart[n + 1] += memberStart[n];
      parentStart[n + 1] += parentStart[n];
    }
    const members = new Int32Array(count);
    const parents = new Int32Array(count);
    const usersEnd = new Int32Array(size);
    const nextUser = new Int32Array(size);
    const nextGroup = new Int32Array(size);
    const nextParent = new Int32Array(size);
    for (let n = 0; n < size; n++) {
      usersEnd[n] = memberStart[n + 1] - nestedCount[n];
      nextUser[n] = memberStart[n];
      nextGroup[n] = usersEnd[n];
      nextParent[n] = parentStart[n];
    }
    // Filled in the order the memberships came, so walks answer in that order.
    for (let e = 0; e < count; e++) {
      const group = edges[3 * e];
      const member = edges[3 * e + 1];
      if (edges[3 * e + 2] === 1) members[nextGroup[group]++] = member;
      else members[nextUser[group]++] = member;
      parents[nextParent[member]++] = group;
    }
    this.edges = new Int32Array(0);
    this.count = 0;
    return new CompactMembershipIndex(ids, numbers, { memberStart, usersEnd, members, parentStart, parents });
  }
}

interface Rows {
  memberStart: Int32Array;
  usersEnd: Int32Array;
  members: Int32Array;
  parentStart: Int32Array;
  parents: Int32Array;
}

class CompactMembershipIndex implements MembershipIndex {
  constructor(
    private readonly ids: readonly string[],
    private readonly numbers: ReadonlyMap<string, number>,
    private readonly rows: Rows,
  ) {}

  private idsOf(list: Int32Array, from: number, to: number): string[] {
    const out = new Array<string>(to - from);
    for (let i = from; i < to; i++) out[i - from] = this.ids[list[i]];
    return out;
  }

  groupsOf(memberId: string): readonly string[] {
    const n = this.numbers.get(memberId);
    if (n === undefined) return NO_IDS;
    const { parentStart, parents } = this.rows;
    return parentStart[n] === parentStart[n + 1] ? NO_IDS : this.idsOf(parents, parentStart[n], parentStart[n + 1]);
  }

  membersOf(groupId: string): GroupMembers | undefined {
    const n = this.numbers.get(groupId);
    if (n === undefined) return undefined;
    const { memberStart, usersEnd, members } = this.rows;
    if (memberStart[n] === memberStart[n + 1]) return undefined;
    return {
      users: this.idsOf(members, memberStart[n], usersEnd[n]),
      groups: this.idsOf(members, usersEnd[n], memberStart[n + 1]),
    };
  }
}

/** Every group the object belongs to, directly or through nested groups (excluding itself). */
export function ancestorGroups(index: MembershipIndex, memberId: string): string[] {
  const direct = index.groupsOf(memberId);
  if (direct.length === 0) return [];
  const seen = new Set<string>([memberId]);
  const result: string[] = [];
  const queue = [...direct];
  while (queue.length > 0) {
    const groupId = queue.pop() as string;
    if (seen.has(groupId)) continue;
    seen.add(groupId);
    result.push(groupId);
    for (const parent of index.groupsOf(groupId)) if (!seen.has(parent)) queue.push(parent);
  }
  return result;
}

/** The users of a group with nested groups flattened (Ferry flattens; Entra does not). */
export function flattenGroupUsers(index: MembershipIndex, groupId: string): Set<string> {
  const users = new Set<string>();
  const seenGroups = new Set<string>([groupId]);
  const queue = [groupId];
  while (queue.length > 0) {
    const members = index.membersOf(queue.pop() as string);
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
    for (const nested of index.membersOf(queue.pop() as string)?.groups ?? []) {
      if (seen.has(nested)) continue;
      seen.add(nested);
      queue.push(nested);
    }
  }
  seen.delete(groupId);
  return seen;
}
