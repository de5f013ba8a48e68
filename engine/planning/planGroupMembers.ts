// Group members: the desired members are the group's users with nested
// groups flattened (cycles tolerated), kept only when linked and in scope; compared with the
// target's current members they give add/remove PATCH requests in chunks.
import { flattenGroupUsers, type MembershipIndex } from '../scoping/groupClosure.ts';
import type { PatchOperation } from '../types.ts';

export interface GroupMembersInput {
  /** Source id of the group. */
  groupId: string;
  memberships: MembershipIndex;
  /** Source user id → target id when the user is linked and in scope, else null. */
  resolveMember: (userId: string) => string | null;
  /** Target ids of the target group's current members (null or undefined: a new, empty group). */
  currentMemberIds?: readonly string[] | null;
  /** Members per PATCH request. */
  chunkSize: number;
}

export interface GroupMembersPlan {
  desiredMemberIds: string[];
  add: string[];
  remove: string[];
  /** Source users of the group that are not linked or not in scope (not sent). */
  unresolvedUserIds: string[];
  /** One entry per PATCH request, in order: adds first, then removes. */
  requests: PatchOperation[][];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

export function planGroupMembers(input: GroupMembersInput): GroupMembersPlan {
  if (!Number.isInteger(input.chunkSize) || input.chunkSize < 1)
    throw new RangeError('chunkSize must be a positive integer');
  const desired = new Set<string>();
  const unresolvedUserIds: string[] = [];
  for (const userId of flattenGroupUsers(input.memberships, input.groupId)) {
    const targetId = input.resolveMember(userId);
    if (targetId === null) unresolvedUserIds.push(userId);
    else desired.add(targetId);
  }
  const current = new Set(input.currentMemberIds ?? []);
  const add = [...desired].filter((id) => !current.has(id)).sort();
  const remove = [...current].filter((id) => !desired.has(id)).sort();
  const requests = memberPatchRequests(add, remove, input.chunkSize);
  return { desiredMemberIds: [...desired].sort(), add, remove, unresolvedUserIds: unresolvedUserIds.sort(), requests };
}

/** The member PATCH requests, `chunkSize` members each: adds first, then removes. */
export function memberPatchRequests(
  add: readonly string[],
  remove: readonly string[],
  chunkSize: number,
): PatchOperation[][] {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError('chunkSize must be a positive integer');
  return [
    ...chunks(add, chunkSize).map((ids) => [
      { op: 'add' as const, path: 'members', value: ids.map((value) => ({ value })) },
    ]),
    ...chunks(remove, chunkSize).map((ids) => [
      { op: 'remove' as const, path: 'members', value: ids.map((value) => ({ value })) },
    ]),
  ];
}

/** The member writes of one pass over a group: at most `budget` requests of the plan. */
export interface MemberPass {
  add: string[];
  remove: string[];
  /** Requests this pass sends. */
  requests: number;
  /** Nothing of the plan is left after this pass. */
  complete: boolean;
}

/**
 * The part of a member plan one pass may send within `budget` requests: adds first, then removes,
 * in the plan's chunks. A group too big for one pass is finished by later passes, each of which plans
 * again from what the target then holds, so the chunks an earlier pass sent are not sent again.
 */
export function memberPassWithin(
  plan: Pick<GroupMembersPlan, 'add' | 'remove'>,
  chunkSize: number,
  budget: number,
): MemberPass {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError('chunkSize must be a positive integer');
  const allowed = Math.max(1, Math.floor(budget));
  const addChunks = Math.ceil(plan.add.length / chunkSize);
  const removeChunks = Math.ceil(plan.remove.length / chunkSize);
  const addNow = Math.min(addChunks, allowed);
  const removeNow = Math.min(removeChunks, allowed - addNow);
  return {
    add: plan.add.slice(0, addNow * chunkSize),
    remove: plan.remove.slice(0, removeNow * chunkSize),
    requests: addNow + removeNow,
    complete: addNow === addChunks && removeNow === removeChunks,
  };
}

/**
 * A group's member writes over the passes of one cycle, kept on its work item between passes (counts
 * only, no member ids): what the group needed added and removed, and what was left after the last pass.
 */
export interface MemberProgress {
  passes: number;
  /** Members the group needed added (removed) this cycle: the first pass's plan, plus any later growth. */
  toAdd: number;
  toRemove: number;
  /** Of those, not yet written after the last pass. */
  leftAdd: number;
  leftRemove: number;
}

/**
 * The progress after one more pass: `plan` is this pass's plan (from what the target holds now),
 * `written` what this pass got through (a failed pass: the chunks before the failure). A later plan
 * bigger than what was left means members joined meanwhile: they count too. A smaller one means part
 * of the rest was written already, by an attempt lost with its worker before it could record them: the
 * totals stay, so those count once. (Members who left the group between two passes of one cycle are
 * then still counted as planned: telling them apart would need the member ids.)
 */
export function nextMemberProgress(
  before: MemberProgress | null,
  plan: { add: number; remove: number },
  written: { added: number; removed: number },
): MemberProgress {
  return {
    passes: (before?.passes ?? 0) + 1,
    toAdd: before ? before.toAdd + Math.max(0, plan.add - before.leftAdd) : plan.add,
    toRemove: before ? before.toRemove + Math.max(0, plan.remove - before.leftRemove) : plan.remove,
    leftAdd: plan.add - written.added,
    leftRemove: plan.remove - written.removed,
  };
}

/** The group's result so far, as its log entry tells it: members added and removed, and what is left. */
export function memberResult(progress: MemberProgress): { added: number; removed: number; left: number } {
  return {
    added: progress.toAdd - progress.leftAdd,
    removed: progress.toRemove - progress.leftRemove,
    left: progress.leftAdd + progress.leftRemove,
  };
}
