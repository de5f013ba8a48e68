// One object through the provisioning pipeline: import → scope → match → decide → export, the
// steps its provisioning log entry names, each in its own file under pipeline/. Used by cycle
// batches and by on-demand provisioning. It performs the SCIM requests and RETURNS what must be
// written (link change, log entry, work outcome); the caller writes it in one transaction.
import type { ScimResource } from '../engine/types.ts';
import type { LinkRecord } from '../store/index.ts';
import { logOwnCreate, matchedOwnCreate } from './own-create.ts';
import { decide, decideRemoval, planningLink, refuseMapping } from './pipeline/decide.ts';
import { Desired } from './pipeline/desired.ts';
import { createdAttributes, escrowEnded, exportDecision, exportFailure, exportRemoval } from './pipeline/export.ts';
import { importObject } from './pipeline/import.ts';
import { matchAtTarget } from './pipeline/match.ts';
import { exportMembers, linkHashes } from './pipeline/members.ts';
import { unresolvedReferences } from './pipeline/references.ts';
import { scopeObject } from './pipeline/scope.ts';
import type { ObjectContext, ObjectOutcome, SourceObject } from './pipeline/types.ts';
import { OutcomeWriter } from './pipeline/writer.ts';

export { CycleStop } from './errors.ts';
export { bulkWritesFor, type BulkWrites } from './pipeline/bulk-writes.ts';
export { pendingMatchCandidates } from './pipeline/match.ts';
export { resolveReferences } from './pipeline/references.ts';
export type { LinkWrite, ObjectContext, ObjectOutcome, SourceObject, WorkStatusOutcome } from './pipeline/types.ts';
export { displayName } from './pipeline/writer.ts';

/** Runs the pipeline for one object. Throws CycleStop for configuration failures; other Ferry errors become escrow. */
export async function provisionObject(
  ctx: ObjectContext,
  source: SourceObject,
  link: LinkRecord | null,
): Promise<ObjectOutcome> {
  const out = new OutcomeWriter(ctx, source, link);
  try {
    return await run(ctx, source, link, out);
  } catch (error) {
    return exportFailure(error, ctx, link, out);
  }
}

async function run(
  ctx: ObjectContext,
  source: SourceObject,
  link: LinkRecord | null,
  out: OutcomeWriter,
): Promise<ObjectOutcome> {
  // 1. import
  const setup = importObject(ctx, source, out);
  if (!setup) return out.finish('Skip', 'done', { kind: 'none' });

  // 2. scoping
  const inScope = scopeObject(ctx, source, out);
  const desired = new Desired(ctx, source, setup.compiled);
  const hashes = linkHashes(source, link);

  // Out of scope or gone: no mapping, no match; only linked objects need anything.
  if (source.object === null || !inScope) {
    const removal = decideRemoval(ctx, source, setup, planningLink(link, hashes), out);
    return exportRemoval(ctx, source, setup, link, removal, out);
  }

  // In scope: the mapping decides what the target should hold.
  const wasLinked = link !== null && link.targetId !== null;
  const refused = refuseMapping(ctx, desired, wasLinked, out);
  if (refused) return refused;

  // 3. matching
  let target: ScimResource | null | undefined;
  if (wasLinked) out.step('matching', 'Success', { detail: `linked to target id ${link?.targetId}` });
  else target = await matchAtTarget(ctx, source, setup.resourceType, desired.candidates(), out);

  // 4. processing (the decision, from the link's hash and values; the target is read only when they cannot tell)
  const input = { setup, desired, link, hashes, linked: wasLinked, target };
  const decided = await decide(ctx, source, input, out);

  // 5. export
  const { decision, exported } = await exportDecision(ctx, source, input, decided, out);
  let action = exported.action;
  if (action === 'Skip' && out.targetId === null) return out.finish('Skip', 'done', escrowEnded(ctx, source, link));
  if (matchedOwnCreate(link, decision.linked, out.matching) && (action === 'Skip' || action === 'Update')) {
    action = 'Create';
    logOwnCreate(out, out.targetId as string, link, createdAttributes(source, setup, desired));
  }
  const members = await exportMembers(
    ctx,
    source,
    setup,
    { plan: decision.plan, current: exported.current, membersDirty: decision.membersDirty, hashes },
    out,
  );
  if (members.changed && action === 'Skip') action = 'Update';
  const unresolvedPaths = unresolvedReferences(desired, decision.plan, out);

  const exportedHash =
    source.type === 'group' ? `${exported.resourceHash}|${members.hash ?? ''}` : exported.resourceHash;
  return out.finish(
    action,
    members.partial ? 'partial' : unresolvedPaths.length > 0 ? 'pendingRefs' : 'done',
    {
      kind: 'upsert',
      link: {
        appId: ctx.runtime.app.id,
        objectType: source.type,
        sourceId: source.id,
        targetId: out.targetId,
        exportedHash,
        exportedValues: exported.resourceValues,
        active: true,
        failureCount: 0,
        firstFailedAt: null,
        nextRetryAt: null,
        lastError: null,
        lastErrorCode: null,
        createRequestedAt: null,
      },
    },
    { unresolvedPaths },
  );
}
