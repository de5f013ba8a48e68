// Step 4, processing: what to do with the object — from the mapping and the link: its hash says
// whether anything changed, its last exported values what (one PATCH, no read). The account is read
// from the target only for a link without values (made before Ferry kept them) and for a group whose
// members changed. Logged as the processing step.
import { checkConnectorLimitations } from '../../engine/config/index.ts';
import { FerryError } from '../../engine/errors.ts';
import { planObject, type Plan } from '../../engine/planning/index.ts';
import type { ScimResource } from '../../engine/types.ts';
import type { LinkRecord } from '../../store/index.ts';
import type { Desired } from './desired.ts';
import type { TypeSetup } from './import.ts';
import { matchAtTarget } from './match.ts';
import { membersChanged, type LinkHashes } from './members.ts';
import type { ObjectContext, ObjectOutcome, SourceObject } from './types.ts';
import type { OutcomeWriter } from './writer.ts';

/** The link as planning sees it: its resource hash only (a group's member hash is kept apart). */
export function planningLink(link: LinkRecord | null, hashes: LinkHashes): LinkRecord | null {
  return link ? { ...link, exportedHash: hashes.resource } : null;
}

/** An object gone from the directory or out of scope: no mapping, no match; only linked objects need anything. */
export function decideRemoval(
  ctx: ObjectContext,
  source: SourceObject,
  setup: TypeSetup,
  planLink: LinkRecord | null,
  out: OutcomeWriter,
): Plan {
  const hardDeleted = source.object === null;
  const plan = planObject({
    objectType: source.type,
    source: hardDeleted ? 'hardDeleted' : 'present',
    inScope: false,
    link: planLink && planLink.targetId ? planLink : null,
    target: undefined,
    desired: null,
    settings: setup.settings,
    deletionGuard: ctx.holdDeletions,
  });
  out.planned = plan.action;
  out.step('matching', 'Skipped', {
    detail: out.targetId ? `linked to target id ${out.targetId}` : 'not linked: nothing to match',
  });
  out.step('processing', plan.action === 'Skip' ? 'Skipped' : 'Success', { action: plan.action, reason: plan.reason });
  return plan;
}

/**
 * An in-scope object whose mapping fails, or which the app's connector cannot hold, ends here:
 * returns its outcome, or null when the object goes on.
 */
export function refuseMapping(
  ctx: ObjectContext,
  desired: Desired,
  linked: boolean,
  out: OutcomeWriter,
): ObjectOutcome | null {
  const primary = linked ? desired.forUpdate() : desired.forCreate();
  const mappingErrors = [...primary.errors];
  if (mappingErrors.length > 0) {
    out.step('processing', 'Failure', { mappingErrors: mappingErrors.map((e) => `${e.target}: ${e.message}`) });
    out.planned = 'Other';
    return out.finish(
      'Other',
      'failed',
      { kind: 'none' },
      { errorCode: mappingErrors[0].code, errorMessage: mappingErrors[0].message },
    );
  }
  const limitation = checkConnectorLimitations(ctx.runtime.config, primary.resource);
  if (!limitation.ok) {
    out.step('processing', 'Skipped', { reason: limitation.message });
    return out.finish(
      'Skip',
      'done',
      { kind: 'none' },
      { errorCode: limitation.code, errorMessage: limitation.message },
    );
  }
  return null;
}

export interface Decision {
  plan: Plan;
  /** The account as read from the target (or matched); null when not read or not there. */
  current: ScimResource | null;
  /** Still linked: false when the linked account was gone and the object was matched again. */
  linked: boolean;
  /** A group whose member set may have changed. */
  membersDirty: boolean;
}

export interface DecideInput {
  setup: TypeSetup;
  desired: Desired;
  link: LinkRecord | null;
  hashes: LinkHashes;
  linked: boolean;
  /** The matched account (null: none), or undefined for a linked object (not read). */
  target: ScimResource | null | undefined;
}

/** Plans an in-scope object, reading its account first when the plan needs it; records the processing step. */
export async function decide(
  ctx: ObjectContext,
  source: SourceObject,
  input: DecideInput,
  out: OutcomeWriter,
): Promise<Decision> {
  const { setup, desired, hashes } = input;
  const planLink = planningLink(input.link, hashes);
  const client = ctx.runtime.client;
  let linked = input.linked;
  const planFor = (target: ScimResource | null | undefined): Plan =>
    planObject({
      objectType: source.type,
      source: 'present',
      inScope: true,
      link: linked ? planLink : null,
      target,
      desired: target === null ? desired.forCreate() : desired.forUpdate(),
      settings: setup.settings,
    });

  let plan = planFor(input.target);
  const membersDirty = source.type === 'group' && setup.compiled.membersMapping !== null && ctx.checkMembers !== false;
  let current: ScimResource | null = input.target ?? null;
  // A group whose members may differ is read whole (its members are diffed against the target's).
  if (plan.needsTarget || (membersDirty && linked && membersChanged(ctx, source.id, hashes))) {
    try {
      current = await client.get(setup.resourceType, out.targetId as string);
      out.operations++;
    } catch (error) {
      if (!(error instanceof FerryError) || error.kind !== 'notFound') throw error;
      // The linked account is gone from the target: match again, create if still missing.
      out.step('matching', 'Warning', { detail: `linked target id ${out.targetId} no longer exists; matching again` });
      linked = false;
      out.targetId = null;
      current = await matchAtTarget(ctx, source, setup.resourceType, desired.candidates(), out);
    }
    plan = planFor(current);
  }
  if (source.type === 'group' && membersDirty && !linked && current !== null && current.id) {
    // Matched through a listing without members: read the group whole before diffing members.
    current = await client.get(setup.resourceType, current.id);
    out.operations++;
  }
  out.planned = plan.action;
  out.step('processing', 'Success', { action: plan.action, reason: plan.reason });
  return { plan, current, linked, membersDirty };
}
