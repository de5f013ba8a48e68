// A group's members at the target: nested groups flattened to linked, in-scope users, added and
// removed in chunks, logged as a referenceResolution step. The group's link hashes its resource
// and its member set (`resource|members`), so unchanged members are not read again.
import { DEFAULT_MEMBER_CHUNK_SIZE } from '../../engine/config/schema.ts';
import {
  memberSetHash,
  planGroupMembers,
  splitLinkHash,
  targetMemberIds,
  type Plan,
} from '../../engine/planning/index.ts';
import type { ScimResource } from '../../engine/types.ts';
import type { LinkRecord } from '../../store/index.ts';
import { claimBeforeWrite } from './claim.ts';
import { linkedTargetId } from './desired.ts';
import type { TypeSetup } from './import.ts';
import type { ObjectContext, SourceObject } from './types.ts';
import type { OutcomeWriter } from './writer.ts';

/** A link's exported hash split in its parts; a user's hash is all resource. */
export interface LinkHashes {
  resource: string | null;
  members: string | null;
}

/** Group links hash the resource and the member set: `resource|members`. */
export function linkHashes(source: SourceObject, link: LinkRecord | null): LinkHashes {
  return splitLinkHash(source.type, link?.exportedHash ?? null);
}

const membersHash = memberSetHash;
const memberIdsOf = (resource: ScimResource): string[] => targetMemberIds(resource) ?? [];

/** Whether the group's desired member set differs from the one its link last exported. */
export function membersChanged(ctx: ObjectContext, groupId: string, hashes: LinkHashes): boolean {
  const plan = planGroupMembers({
    groupId,
    memberships: ctx.directory.memberships,
    resolveMember: linkedTargetId(ctx),
    currentMemberIds: [],
    chunkSize: 1000,
  });
  return hashes.members !== membersHash(plan.desiredMemberIds);
}

export interface MembersExport {
  /** The member part of the link's hash (null: the type has no members mapping). */
  hash: string | null;
  /** Members were added or removed. */
  changed: boolean;
}

/**
 * Brings the group's members at the target in line. `current` is the group as read from the target
 * (null when not read); `membersDirty` false means the member set cannot have changed.
 */
export async function exportMembers(
  ctx: ObjectContext,
  source: SourceObject,
  setup: TypeSetup,
  input: { plan: Plan; current: ScimResource | null; membersDirty: boolean; hashes: LinkHashes },
  out: OutcomeWriter,
): Promise<MembersExport> {
  const { plan, current, membersDirty, hashes } = input;
  const targetId = out.targetId;
  if (source.type !== 'group' || !setup.compiled.membersMapping || !targetId) return { hash: null, changed: false };
  if (!membersDirty) return { hash: hashes.members, changed: false };
  const chunkSize = ctx.runtime.config.objectTypes.group?.memberChunkSize ?? DEFAULT_MEMBER_CHUNK_SIZE;
  const client = ctx.runtime.client;
  const memberPlan = planGroupMembers({
    groupId: source.id,
    memberships: ctx.directory.memberships,
    resolveMember: linkedTargetId(ctx),
    currentMemberIds: plan.action === 'Create' && current === null ? [] : current ? memberIdsOf(current) : null,
    chunkSize,
  });
  const desiredMembersHash = membersHash(memberPlan.desiredMemberIds);
  // A linked group whose members did not change was not fetched (current null): nothing to send.
  if (current === null && plan.action !== 'Create') return { hash: desiredMembersHash, changed: false };
  if (memberPlan.add.length > 0 || memberPlan.remove.length > 0) await claimBeforeWrite(ctx, out);
  if (memberPlan.add.length > 0) {
    await client.addMembers(targetId, memberPlan.add, chunkSize);
    out.operations += Math.ceil(memberPlan.add.length / chunkSize);
    out.modified.push({ name: 'members (added)', oldValue: null, newValue: memberPlan.add });
  }
  if (memberPlan.remove.length > 0) {
    await client.removeMembers(targetId, memberPlan.remove, chunkSize);
    out.operations += Math.ceil(memberPlan.remove.length / chunkSize);
    out.modified.push({ name: 'members (removed)', oldValue: memberPlan.remove, newValue: null });
  }
  out.step('referenceResolution', 'Success', {
    members: memberPlan.desiredMemberIds.length,
    added: memberPlan.add.length,
    removed: memberPlan.remove.length,
    ...(memberPlan.unresolvedUserIds.length > 0 ? { notProvisionedUsers: memberPlan.unresolvedUserIds.length } : {}),
  });
  return { hash: desiredMembersHash, changed: memberPlan.add.length > 0 || memberPlan.remove.length > 0 };
}
