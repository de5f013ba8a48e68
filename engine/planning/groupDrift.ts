// Drift of a group: how a target group differs from what Ferry last exported to it, in its own
// attributes (displayName and the other mapped ones, compared as for accounts) and in its members.
//
// Ferry does not keep a group's exported member list, only its hash in the link (`resource|members`).
// The member list Ferry last exported is known when the directory's current one (flattened, linked
// and active users, as a cycle computes it) hashes to that: then it is exactly what was exported. When
// the hashes differ the directory changed since the last export; the next cycle reads the group and
// sends the difference anyway, so a pass leaves those members alone rather than guess.
import { hashResource } from '../hash.ts';
import type { MembershipIndex } from '../scoping/groupClosure.ts';
import type { ModifiedAttribute, PatchOperation, ScimResource } from '../types.ts';
import { accountDrift, type DriftLink } from './accountDrift.ts';
import { splitLinkHash } from './exportedValues.ts';
import { memberPatchRequests, planGroupMembers } from './planGroupMembers.ts';

/** The member part of a group link's hash: the target ids of the members, sorted. */
export function memberSetHash(targetIds: readonly string[]): string {
  return hashResource([...targetIds].sort());
}

/** Target ids of a group's members as the target returned them; null when the resource has no `members`. */
export function targetMemberIds(group: ScimResource): string[] | null {
  const members = group.members;
  if (!Array.isArray(members)) return null;
  return members
    .map((m) => (m && typeof m === 'object' ? (m as { value?: unknown }).value : undefined))
    .filter((v): v is string => typeof v === 'string');
}

export interface ExportedMembersInput {
  /** Source id of the group. */
  groupId: string;
  /** The link's full hash (`resource|members`); a group without a member part has no known members. */
  exportedHash: string | null;
  memberships: MembershipIndex;
  /** Source user id → target id when the user is linked and active, else null (as cycles resolve members). */
  resolveMember: (userId: string) => string | null;
}

/**
 * The member target ids Ferry last exported to the group, sorted; null when not known (no member
 * hash in the link, or the directory's member list changed since: the next cycle's business).
 */
export function exportedMemberIds(input: ExportedMembersInput): string[] | null {
  const { members } = splitLinkHash('group', input.exportedHash);
  if (members === null) return null;
  const { desiredMemberIds } = planGroupMembers({
    groupId: input.groupId,
    memberships: input.memberships,
    resolveMember: input.resolveMember,
    currentMemberIds: [],
    chunkSize: 1,
  });
  return memberSetHash(desiredMemberIds) === members ? desiredMemberIds : null;
}

export interface MembersDrift {
  /** Exported members the target no longer has: added back. */
  add: string[];
  /** Members the target has that Ferry did not export (strangers, or people Ferry removed): removed. */
  remove: string[];
  /** The member PATCH requests that restore the exported list, adds first, `chunkSize` members each. */
  requests: PatchOperation[][];
}

export type GroupDrift =
  /** As Ferry last exported it (as far as is known). */
  | { kind: 'inStep' }
  /**
   * Edited in the target: `attributes` old = the target's, new = last exported (members as
   * `members (added)` / `members (removed)`, the ids the repair adds and removes); `operations` the
   * ONE PATCH of the group's own attributes (empty when only members drifted); `members` null when
   * they are in step or not compared.
   */
  | {
      kind: 'edited';
      attributes: ModifiedAttribute[];
      operations: PatchOperation[];
      members: MembersDrift | null;
    }
  | { kind: 'deleted' }
  | { kind: 'orphan' }
  /** Linked, but nothing exported is known (a link from before Ferry kept values): nothing to compare. */
  | { kind: 'unknown' };

export interface GroupDriftInput {
  /** The link whose target id the group has (null: none). */
  link: DriftLink | null;
  /** The group as the target returned it (null: the target does not have it). */
  group: ScimResource | null;
  /** The members compared: what Ferry last exported and what the target has; null: not compared. */
  members: { exported: readonly string[]; target: readonly string[]; chunkSize: number } | null;
}

/** Classifies one group, its attributes and (when given) its members. */
export function groupDrift(input: GroupDriftInput): GroupDrift {
  const { link, group } = input;
  if (link === null || link.targetId === null) return group === null ? { kind: 'inStep' } : { kind: 'orphan' };
  if (group === null) return { kind: 'deleted' };
  // Groups have no `active`: an inactive link adds nothing to compare (accountDrift would add active=false).
  const own = accountDrift({ ...link, active: true }, group);
  const members = input.members ? membersDrift(input.members) : null;
  if (own.kind === 'unknown' && members === null) return { kind: 'unknown' };
  const attributes: ModifiedAttribute[] = own.kind === 'edited' ? [...own.attributes] : [];
  const operations = own.kind === 'edited' ? own.operations : [];
  if (members && members.add.length > 0)
    attributes.push({ name: 'members (added)', oldValue: null, newValue: members.add });
  if (members && members.remove.length > 0)
    attributes.push({ name: 'members (removed)', oldValue: members.remove, newValue: null });
  if (attributes.length === 0) return { kind: 'inStep' };
  return {
    kind: 'edited',
    attributes,
    operations,
    members: members && members.requests.length > 0 ? members : null,
  };
}

/** The member changes that bring the target's list back to the exported one. */
export function membersDrift(input: {
  exported: readonly string[];
  target: readonly string[];
  chunkSize: number;
}): MembersDrift {
  const exported = new Set(input.exported);
  const target = new Set(input.target);
  const add = [...exported].filter((id) => !target.has(id)).sort();
  const remove = [...target].filter((id) => !exported.has(id)).sort();
  // Chunked as a cycle's member writes are (the group's memberChunkSize).
  return { add, remove, requests: memberPatchRequests(add, remove, input.chunkSize) };
}
