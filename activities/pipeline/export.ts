// Step 5, export: the requests that carry out the decision — create (or adopt), update, disable,
// delete — and the export step of a failure: escrow on the engine's schedule, or the whole cycle
// stopped when the target rejects the app itself.
import { FerryError } from '../../engine/errors.ts';
import { planObject, type Plan } from '../../engine/planning/index.ts';
import { nextEscrowRetry } from '../../engine/policies/escrow.ts';
import type { ExportedValues, ModifiedAttribute, ProvisioningAction, ScimResource } from '../../engine/types.ts';
import type { LinkRecord } from '../../store/index.ts';
import { CycleStop } from '../errors.ts';
import { decide, type DecideInput, type Decision } from './decide.ts';
import { matchAtTarget } from './match.ts';
import type { Desired } from './desired.ts';
import type { TypeSetup } from './import.ts';
import { patchTarget } from './bulk-writes.ts';
import { claimBeforeCreate, claimBeforeWrite } from './claim.ts';
import type { LinkWrite, ObjectContext, ObjectOutcome, SourceObject } from './types.ts';
import type { OutcomeWriter } from './writer.ts';

export interface ChangeExport {
  /** The action taken (an adopted create is still a Create). */
  action: ProvisioningAction;
  /** The resource part of the link's new hash. */
  resourceHash: string | null;
  /** The values to keep in the link (what the account now holds for the mapped paths). */
  resourceValues: ExportedValues | null;
  /** The account as it stands at the target, when known (null after a plain create: it was just made). */
  current: ScimResource | null;
}

/** Sends the create or update an in-scope object's decision calls for, and records the export step. */
export async function exportChange(
  ctx: ObjectContext,
  source: SourceObject,
  setup: TypeSetup,
  desired: Desired,
  decision: Decision,
  out: OutcomeWriter,
): Promise<ChangeExport> {
  const { plan } = decision;
  const client = ctx.runtime.client;
  const T = setup.resourceType;
  let current = decision.current;
  let resourceHash = plan.desiredHash;
  let resourceValues = plan.exportedValues;
  if (plan.action === 'Create') {
    const body = plan.resource as ScimResource;
    out.bodies.push(body);
    // The intent is durable before the POST: if the outcome is lost (crash), the next attempt knows
    // the account is ours.
    await claimBeforeCreate(ctx, source, out);
    const match = desired.candidates().map((c) => ({ attribute: c.attribute, value: c.value }));
    const created = ctx.bulk
      ? await ctx.bulk.create(T, body, match)
      : { ...(await client.createOrAdopt(T, body, match)), bulk: false };
    out.operations++;
    out.targetId = created.resource.id ?? null;
    out.modified.push(...plan.modifiedAttributes);
    if (created.adopted) {
      // Someone (or a lost response) created it already: bring the adopted account up to date.
      current = created.resource;
      const again = planObject({
        objectType: source.type,
        source: 'present',
        inScope: true,
        link: null,
        target: current,
        desired: desired.forUpdate(),
        settings: setup.settings,
      });
      out.step('export', 'Warning', { detail: `adopted existing target resource ${out.targetId}` });
      if (again.action === 'Update') {
        await client.patch(T, out.targetId as string, again.operations);
        out.operations++;
        out.bodies.push(again.operations);
      }
      resourceHash = again.desiredHash ?? resourceHash;
      resourceValues = again.exportedValues ?? resourceValues;
    } else {
      current = null;
      out.step('export', 'Success', { request: `POST /${T}`, targetId: out.targetId, ...viaBulk(created.bulk) });
    }
  } else if (plan.action === 'Update') {
    out.bodies.push(plan.operations);
    await claimBeforeWrite(ctx, out);
    const bulk = await patchTarget(ctx, T, out.targetId as string, plan.operations);
    out.operations++;
    out.modified.push(...plan.modifiedAttributes);
    out.step('export', 'Success', {
      request: `PATCH /${T}/${out.targetId}`,
      operations: plan.operations.length,
      ...viaBulk(bulk),
    });
  }
  return { action: plan.action, resourceHash, resourceValues, current };
}

/** The export step's mark of a write sent inside a `/Bulk` request. */
function viaBulk(bulk: boolean): { via?: 'Bulk' } {
  return bulk ? { via: 'Bulk' } : {};
}

/**
 * Exports the decision; an update computed from the link's values (no read) whose account is gone
 * from the target (404) matches the object again and exports the new decision (a create when it is
 * still missing), as a read of the linked account would have.
 */
export async function exportDecision(
  ctx: ObjectContext,
  source: SourceObject,
  input: DecideInput,
  decision: Decision,
  out: OutcomeWriter,
): Promise<{ decision: Decision; exported: ChangeExport }> {
  try {
    return { decision, exported: await exportChange(ctx, source, input.setup, input.desired, decision, out) };
  } catch (error) {
    const gone = error instanceof FerryError && error.kind === 'notFound';
    if (!gone || decision.plan.action !== 'Update' || decision.current !== null || !decision.linked) throw error;
    out.operations++;
    out.step('matching', 'Warning', { detail: `linked target id ${out.targetId} no longer exists; matching again` });
    out.targetId = null;
    const target = await matchAtTarget(ctx, source, input.setup.resourceType, input.desired.candidates(), out);
    const again = await decide(ctx, source, { ...input, linked: false, target }, out);
    return { decision: again, exported: await exportChange(ctx, source, input.setup, input.desired, again, out) };
  }
}

/** What Ferry's create sets (for the log of a create whose outcome an earlier attempt lost). */
export function createdAttributes(source: SourceObject, setup: TypeSetup, desired: Desired): ModifiedAttribute[] {
  return planObject({
    objectType: source.type,
    source: 'present',
    inScope: true,
    link: null,
    target: null,
    desired: desired.forCreate(),
    settings: setup.settings,
  }).modifiedAttributes;
}

/** Sends the disable or delete of an object gone or out of scope (or holds it back), and records the export step. */
export async function exportRemoval(
  ctx: ObjectContext,
  source: SourceObject,
  setup: TypeSetup,
  link: LinkRecord | null,
  removal: Plan,
  out: OutcomeWriter,
): Promise<ObjectOutcome> {
  const client = ctx.runtime.client;
  const T = setup.resourceType;
  if (removal.action === 'StagedDelete') {
    return out.finish('StagedDelete', 'staged', { kind: 'none' });
  }
  if (removal.action === 'Disable') {
    out.bodies.push(removal.operations);
    await claimBeforeWrite(ctx, out);
    let bulk: boolean;
    try {
      bulk = await patchTarget(ctx, T, removal.targetId as string, removal.operations);
      out.operations++;
    } catch (error) {
      if (!(error instanceof FerryError) || error.kind !== 'notFound') throw error;
      out.operations++;
      out.step('export', 'Warning', { detail: `target ${removal.targetId} is already gone` });
      return out.finish('Disable', 'done', { kind: 'delete' });
    }
    out.modified.push(...removal.modifiedAttributes);
    out.step('export', 'Success', { request: `PATCH /${T}/${removal.targetId}`, active: false, ...viaBulk(bulk) });
    return out.finish('Disable', 'done', {
      kind: 'upsert',
      link: {
        appId: ctx.runtime.app.id,
        objectType: source.type,
        sourceId: source.id,
        active: false,
        failureCount: 0,
        nextRetryAt: null,
        firstFailedAt: null,
        lastError: null,
        lastErrorCode: null,
      },
    });
  }
  if (removal.action === 'Delete') {
    await claimBeforeWrite(ctx, out);
    await client.delete(T, removal.targetId as string);
    out.operations++;
    out.step('export', 'Success', { request: `DELETE /${T}/${removal.targetId}` });
    return out.finish('Delete', 'done', { kind: 'delete' });
  }
  return out.finish('Skip', 'done', escrowEnded(ctx, source, link));
}

/**
 * The link write of an object skipped with nothing to send: an escrowed one leaves escrow (else it
 * would be staged again by every cycle, its retry never failing nor succeeding); others need none.
 */
export function escrowEnded(ctx: ObjectContext, source: SourceObject, link: LinkRecord | null): LinkWrite {
  if (!link || link.failureCount === 0) return { kind: 'none' };
  return {
    kind: 'upsert',
    link: {
      appId: ctx.runtime.app.id,
      objectType: source.type,
      sourceId: source.id,
      failureCount: 0,
      nextRetryAt: null,
      firstFailedAt: null,
      lastError: null,
      lastErrorCode: null,
    },
  };
}

/**
 * A Ferry error on the way: a configuration failure stops the cycle (CycleStop); any other fails
 * the object, escrowed for a retry on the engine's schedule (or given up on). Anything else is rethrown.
 */
export function exportFailure(
  error: unknown,
  ctx: ObjectContext,
  link: LinkRecord | null,
  out: OutcomeWriter,
): ObjectOutcome {
  if (!(error instanceof FerryError)) throw error;
  if (error.kind === 'configuration') {
    throw new CycleStop({ kind: error.kind, code: error.code, message: error.message });
  }
  out.step('export', 'Failure', {
    error: error.message,
    code: error.code,
    ...(error.status ? { status: error.status } : {}),
  });
  const failureCount = (link?.failureCount ?? 0) + 1;
  const firstFailedAt = link?.firstFailedAt ?? ctx.now.toISOString();
  const decision = nextEscrowRetry({
    failureCount,
    firstFailedAt,
    now: ctx.now,
    kind: error.kind,
    retryAfterMs: error.retryAfterMs,
  });
  // "Next cycle" is stored as due now, so the next cycle stages it.
  const nextRetryAt = decision.giveUp ? null : (decision.retryAt ?? ctx.now.toISOString());
  return out.finish(
    out.planned,
    decision.giveUp ? 'failed' : 'escrowed',
    { kind: 'failure', error: error.message, errorCode: error.code, nextRetryAt, firstFailedAt },
    { errorCode: error.code, errorMessage: error.message },
  );
}
