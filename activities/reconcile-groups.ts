// The groups part of a reconcile pass, after the users: the target's groups read 200 at a time with
// `excludedAttributes=members` (a listing of big groups with their members would be huge), compared
// with the group links (engine/planning/groupDrift.ts). A linked group whose displayName or other
// exported attribute was edited gets ONE PATCH of the last exported values; its members are compared
// with the ones Ferry last exported (the linked, active users of the group, when they still hash to
// what the link recorded) and put back with member PATCHes, added and removed in chunks of the group's
// `memberChunkSize` as a cycle writes them. Orphan groups are reported only: Ferry has no policy to
// adopt or disable a group (groups have no `active`, and deleting one is not a repair).
//
// Requests per group, beyond the listing (one request per 200 groups):
// - 0 for an orphan group, a group whose link holds no exported values or whose member list is not
//   known (the directory's members changed since the last export: the next cycle reads and fixes it),
//   and for any group when the app does not map `members`;
// - 0 more when the target ignored `excludedAttributes` and the listing carried the members;
// - else 1 GET /Groups/{id} for its members;
// - repair mode, only for a drifted group: 1 PATCH for its attributes if they changed, plus
//   ceil(added / memberChunkSize) + ceil(removed / memberChunkSize) member PATCHes.
// A linked group deleted in the target is created again through the pipeline: its POST plus the
// member PATCHes of a new group.
import { DEFAULT_MEMBER_CHUNK_SIZE } from '../engine/config/schema.ts';
import { FerryError } from '../engine/errors.ts';
import { exportedMemberIds, groupDrift, targetMemberIds, type GroupDrift } from '../engine/planning/index.ts';
import { flattenGroupUsers } from '../engine/scoping/groupClosure.ts';
import type { ProvisioningLogEntry, ScimResource } from '../engine/types.ts';
import type { ListPage } from '../scim/types.ts';
import type { DriftFinding, LinkRecord } from '../store/index.ts';
import type { AppRuntime } from './app-runtime.ts';
import { loadDirectoryContext } from './cycle-context.ts';
import { ClaimLostError } from './errors.ts';
import { assertClaimHeld, releaseClaims } from './object-locks.ts';
import { linkedTargetId } from './pipeline/desired.ts';
import { claim, finding, RECONCILE_PAGE_SIZE, repairLogEntry, type Pass } from './reconcile.ts';

type TargetGroup = ScimResource & { id: string };

/** Members compared for one group: what Ferry last exported and what the target has. */
type MembersInput = { exported: string[]; target: string[]; chunkSize: number } | null;

/** Whether the app provisions groups (its group type is configured and enabled). */
export function groupsProvisioned(runtime: AppRuntime): boolean {
  return Boolean(runtime.compiled.group && runtime.config.objectTypes.group?.enabled !== false);
}

const chunkSizeOf = (pass: Pass): number =>
  pass.runtime.config.objectTypes.group?.memberChunkSize ?? DEFAULT_MEMBER_CHUNK_SIZE;

const groupName = (group: ScimResource): string | null =>
  typeof group.displayName === 'string' ? group.displayName : null;

/** One listing page of the target's groups, without their members. */
export function listGroupsPage(pass: Pass, startIndex: number): Promise<ListPage> {
  return pass.runtime.client.list('Groups', {
    startIndex,
    count: RECONCILE_PAGE_SIZE,
    excludedAttributes: ['members'],
  });
}

/**
 * One page of target groups: remembered as seen, compared (members read where needed), edits
 * repaired in repair mode. The pass beats after each group, so a page of slow repairs keeps the
 * activity's heartbeat going (the position stays the page's: a retry compares the page again).
 */
export async function compareGroupPage(pass: Pass, groups: readonly ScimResource[]): Promise<void> {
  const { store } = pass.s;
  const withId = groups.filter((g): g is TargetGroup => typeof g.id === 'string' && g.id !== '');
  const ids = withId.map((g) => g.id);
  await store.reconcile.markSeen(pass.record.id, ids, 'group');
  const links = await store.links.getByTargetIds(pass.record.appId, 'group', ids);
  const exported = await exportedMembersOfPage(pass, [...links.values()]);
  const findings: DriftFinding[] = [];
  for (const group of withId) {
    const link = links.get(group.id) ?? null;
    const displayName = groupName(group);
    if (!link) {
      findings.push(finding(pass, 'orphan', group.id, { objectType: 'group', displayName }));
      continue;
    }
    const members = await membersInput(pass, group, exported.get(link.sourceId) ?? null);
    const drift = groupDrift({ link, group, members });
    pass.beat();
    if (drift.kind !== 'edited') continue;
    const fields: Partial<DriftFinding> = {
      objectType: 'group',
      sourceId: link.sourceId,
      displayName,
      attributes: drift.attributes,
    };
    const repaired = pass.record.mode === 'repair' ? await repairGroup(pass, link, group, members) : {};
    findings.push(finding(pass, 'edited', group.id, { ...fields, ...repaired }));
    pass.beat();
  }
  await store.reconcile.recordFindings(findings);
}

/**
 * Per linked group of the page (by source id), the member target ids Ferry last exported to it;
 * absent when not known or the app does not map members.
 */
async function exportedMembersOfPage(pass: Pass, links: readonly LinkRecord[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const compiled = pass.runtime.compiled.group;
  if (!compiled?.membersMapping || links.length === 0) return out;
  pass.directory ??= await loadDirectoryContext(pass.s.store, pass.runtime);
  const { memberships } = pass.directory;
  const userIds = new Set<string>();
  for (const link of links) for (const id of flattenGroupUsers(memberships, link.sourceId)) userIds.add(id);
  const userLinks =
    userIds.size > 0 ? await pass.s.store.links.targetsOf(pass.record.appId, 'user', [...userIds]) : new Map();
  const resolveMember = linkedTargetId({ userLinks });
  for (const link of links) {
    const ids = exportedMemberIds({
      groupId: link.sourceId,
      exportedHash: link.exportedHash,
      memberships,
      resolveMember,
    });
    if (ids) out.set(link.sourceId, ids);
  }
  return out;
}

/** The members to compare: those of the listing when the target sent them anyway, else one GET. */
async function membersInput(pass: Pass, group: TargetGroup, exported: string[] | null): Promise<MembersInput> {
  if (exported === null) return null;
  let target = targetMemberIds(group);
  if (target === null) {
    try {
      target = targetMemberIds(await pass.runtime.client.get('Groups', group.id)) ?? [];
    } catch (error) {
      // Gone since the listing (the next pass finds it deleted), or a transient failure the client
      // already retried: its members are not compared this time.
      if (error instanceof FerryError && error.kind !== 'configuration') return null;
      throw error;
    }
  }
  return { exported, target, chunkSize: chunkSizeOf(pass) };
}

/**
 * Puts the group back as last exported, holding its lock: one PATCH of its attributes, then the
 * member PATCHes (adds first, chunked). Decided again under the lock with the link as it is then.
 */
async function repairGroup(
  pass: Pass,
  link: LinkRecord,
  group: TargetGroup,
  members: MembersInput,
): Promise<Partial<DriftFinding>> {
  const { store } = pass.s;
  const { appId } = pass.record;
  if (!(await claim(pass, 'group', link.sourceId))) return { outcome: 'busy' };
  const started = Date.now();
  try {
    const fresh = await store.links.get(appId, 'group', link.sourceId);
    if (!fresh || fresh.targetId !== link.targetId) return { outcome: 'busy' };
    // A cycle that exported the group meanwhile changed its hash: its members are its business now.
    const drift = groupDrift({
      link: fresh,
      group,
      members: fresh.exportedHash === link.exportedHash ? members : null,
    });
    if (drift.kind !== 'edited') return { outcome: 'reported' };
    const client = pass.runtime.client;
    const chunkSize = chunkSizeOf(pass);
    let failure: FerryError | null = null;
    let requests = 0;
    try {
      await assertClaimHeld(store, appId, 'group', link.sourceId, pass.holder);
      if (drift.operations.length > 0) {
        await client.patch('Groups', group.id, drift.operations);
        requests += 1;
      }
      if (drift.members && drift.members.add.length > 0) {
        await client.addMembers(group.id, drift.members.add, chunkSize);
        requests += Math.ceil(drift.members.add.length / chunkSize);
      }
      if (drift.members && drift.members.remove.length > 0) {
        await client.removeMembers(group.id, drift.members.remove, chunkSize);
        requests += Math.ceil(drift.members.remove.length / chunkSize);
      }
    } catch (error) {
      if (error instanceof ClaimLostError) return { outcome: 'busy' };
      if (!(error instanceof FerryError) || error.kind === 'configuration') throw error;
      failure = error;
    }
    const entry = groupLogEntry(pass, fresh, group, drift, { failure, requests, durationMs: Date.now() - started });
    await store.logs.insert([entry]);
    return failure
      ? { outcome: 'failed', errorCode: failure.code, errorMessage: failure.message, logId: entry.id }
      : { outcome: 'repaired', logId: entry.id };
  } finally {
    await releaseClaims(store, appId, 'group', [link.sourceId], pass.holder);
  }
}

function groupLogEntry(
  pass: Pass,
  link: LinkRecord,
  group: TargetGroup,
  drift: Extract<GroupDrift, { kind: 'edited' }>,
  sent: { failure: FerryError | null; requests: number; durationMs: number },
): ProvisioningLogEntry {
  return repairLogEntry(pass, link, {
    objectType: 'group',
    displayName: groupName(group),
    detail: 'drift repair: the group was edited in the target; its last exported values and members are put back',
    exported: {
      requests: sent.requests,
      attributes: drift.operations.length,
      membersAdded: drift.members?.add.length ?? 0,
      membersRemoved: drift.members?.remove.length ?? 0,
    },
    modifiedAttributes: drift.attributes,
    failure: sent.failure,
    durationMs: sent.durationMs,
  });
}
