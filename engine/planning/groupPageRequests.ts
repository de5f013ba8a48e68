// Pages of groups are sized in requests, not objects: one group with 50,000 members costs 500
// member PATCHes at 100 members each, so a page of such groups could outlast the activity's timeout
// at the app's rate limit however few groups it holds.
import { flattenGroupUsers, type MembershipIndex } from '../scoping/groupClosure.ts';

/** The most requests one group can cost: its own write, plus its (flattened) members in chunks. */
export function groupRequestEstimate(index: MembershipIndex, groupId: string, memberChunkSize: number): number {
  return 1 + Math.ceil(flattenGroupUsers(index, groupId).size / Math.max(1, memberChunkSize));
}

/**
 * How many of these groups, in order, fit in `budget` requests at most (always at least one, so a
 * single group bigger than the budget still gets a page of its own).
 */
export function groupsWithinRequests(
  groupIds: readonly string[],
  index: MembershipIndex,
  memberChunkSize: number,
  budget: number,
): number {
  let requests = 0;
  for (let n = 0; n < groupIds.length; n++) {
    requests += groupRequestEstimate(index, groupIds[n], memberChunkSize);
    if (requests > budget && n > 0) return n;
  }
  return groupIds.length;
}
