// A group's members at the target: nested groups flattened to linked, in-scope users, added and
// removed in chunks, logged as a referenceResolution step. The group's link hashes its resource
// and its member set (`resource|members`), so unchanged members are not read again.
import { DEFAULT_MEMBER_CHUNK_SIZE } from '../../engine/config/schema.ts';
import {
  memberPassWithin,
  memberResult,
  memberSetHash,
  nextMemberProgress,
  planGroupMembers,
  splitLinkHash,
  targetMemberIds,
  type MemberPass,
  type MemberProgress,
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

/**
 * The member step's details: the group's result over every pass of this cycle so far (members added
 * and removed; `passes` and `left` when it took several passes or some are still to write).
 */
function memberStepDetails(members: number, progress: MemberProgress): Record<string, number> {
  const { added, removed, left } = memberResult(progress);
  return {
    members,
    added,
    removed,
    ...(progress.passes > 1 ? { passes: progress.passes } : {}),
    ...(left > 0 ? { left } : {}),
  };
}

/** Sends one pass's member writes; `written` counts the members of each chunk the target took. */
async function writeMemberPass(
  ctx: ObjectContext,
  out: OutcomeWriter,
  input: { targetId: string; pass: MemberPass; chunkSize: number },
  written: { added: number; removed: number },
): Promise<void> {
  const { targetId, pass, chunkSize } = input;
  const client = ctx.runtime.client;
  if (pass.add.length > 0) {
    await client.addMembers(targetId, pass.add, chunkSize, (n) => (written.added += n));
    written.added = pass.add.length;
    out.operations += Math.ceil(pass.add.length / chunkSize);
    out.modified.push({ name: 'members (added)', oldValue: null, newValue: pass.add });
  }
  if (pass.remove.length > 0) {
    await client.removeMembers(targetId, pass.remove, chunkSize, (n) => (written.removed += n));
    written.removed = pass.remove.length;
    out.operations += Math.ceil(pass.remove.length / chunkSize);
    out.modified.push({ name: 'members (removed)', oldValue: pass.remove, newValue: null });
  }
}

export interface MembersExport {
  /** The member part of the link's hash (null: the type has no members mapping). */
  hash: string | null;
  /** Members were added or removed. */
  changed: boolean;
  /** More member writes are left for a later pass (the request budget ran out). */
  partial: boolean;
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
  if (source.type !== 'group' || !setup.compiled.membersMapping || !targetId)
    return { hash: null, changed: false, partial: false };
  if (!membersDirty) return { hash: hashes.members, changed: false, partial: false };
  const chunkSize = ctx.runtime.config.objectTypes.group?.memberChunkSize ?? DEFAULT_MEMBER_CHUNK_SIZE;
  const memberPlan = planGroupMembers({
    groupId: source.id,
    memberships: ctx.directory.memberships,
    resolveMember: linkedTargetId(ctx),
    currentMemberIds: plan.action === 'Create' && current === null ? [] : current ? memberIdsOf(current) : null,
    chunkSize,
  });
  const desiredMembersHash = membersHash(memberPlan.desiredMemberIds);
  // A linked group whose members did not change was not fetched (current null): nothing to send.
  if (current === null && plan.action !== 'Create') return { hash: desiredMembersHash, changed: false, partial: false };
  // One pass sends at most the budget's requests; the rest is planned again, from what the target
  // then holds, by the next pass over the group.
  const pass = memberPassWithin(memberPlan, chunkSize, ctx.memberRequestBudget ?? Number.POSITIVE_INFINITY);
  const written = { added: 0, removed: 0 };
  const recordStep = (status: 'Success' | 'Failure') => {
    out.memberProgress = nextMemberProgress(
      ctx.memberProgress ?? null,
      { add: memberPlan.add.length, remove: memberPlan.remove.length },
      written,
    );
    out.step('referenceResolution', status, {
      ...memberStepDetails(memberPlan.desiredMemberIds.length, out.memberProgress),
      ...(memberPlan.unresolvedUserIds.length > 0 ? { notProvisionedUsers: memberPlan.unresolvedUserIds.length } : {}),
    });
  };
  if (pass.add.length > 0 || pass.remove.length > 0) await claimBeforeWrite(ctx, out);
  try {
    await writeMemberPass(ctx, out, { targetId, pass, chunkSize }, written);
  } catch (error) {
    // The failure's log entry tells what the group's writes got through before it.
    recordStep('Failure');
    throw error;
  }
  recordStep('Success');
  return {
    // A partial pass records no member hash: the next pass sees the members as changed and reads them.
    hash: pass.complete ? desiredMembersHash : '',
    changed: pass.add.length > 0 || pass.remove.length > 0,
    partial: !pass.complete,
  };
}
