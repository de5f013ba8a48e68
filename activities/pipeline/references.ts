// References to other users (manager) that are not linked yet: the first pass leaves them out and
// says so in a referenceResolution step; the references pass sets them later with a PATCH of just
// those paths.
import { FerryError } from '../../engine/errors.ts';
import { applyMappings, userSourceAttributes } from '../../engine/mapping/index.ts';
import { desiredHash, diffResource, exportedValues, type Plan } from '../../engine/planning/index.ts';
import type { DirectoryUser, LogStep } from '../../engine/types.ts';
import type { LinkRecord } from '../../store/index.ts';
import { CycleStop } from '../errors.ts';
import { patchTarget } from './bulk-writes.ts';
import { linkedTargetId, mappingEnv, type Desired } from './desired.ts';
import type { ObjectContext, ObjectOutcome } from './types.ts';
import type { OutcomeWriter } from './writer.ts';

/**
 * Records the references the export left out and returns their paths, for the references phase.
 * Unresolved when mapped means not sent, even if the referenced user got linked meanwhile.
 */
export function unresolvedReferences(desired: Desired, plan: Plan, out: OutcomeWriter): string[] {
  const references = (plan.action === 'Create' ? desired.forCreate() : desired.forUpdate()).unresolvedReferences;
  if (references.length > 0) {
    out.step('referenceResolution', 'Warning', {
      unresolved: references.map((r) => `${r.target} → ${r.sourceId}`),
    });
  }
  return references.map((r) => r.target);
}

/**
 * The references pass: references (manager) that were not linked when the object was exported
 * are set now, with a PATCH of just those paths. No GET: the first pass left them unset.
 */
export async function resolveReferences(
  ctx: ObjectContext,
  user: DirectoryUser,
  link: LinkRecord,
  paths: readonly string[],
): Promise<ObjectOutcome | null> {
  const started = Date.now();
  const { runtime } = ctx;
  const desired = applyMappings(runtime.compiled.user, userSourceAttributes(user), {
    operation: 'update',
    env: mappingEnv(ctx.now),
    resolveReference: linkedTargetId(ctx),
  });
  const resolvable = paths.filter((p) => desired.managedPaths.includes(p));
  if (resolvable.length === 0 || link.targetId === null) return null;
  const diff = diffResource({ schemas: [] }, desired.resource, resolvable);
  if (diff.operations.length === 0) return null;
  await ctx.assertClaimHeld?.();
  let bulk: boolean;
  try {
    bulk = await patchTarget(ctx, 'Users', link.targetId, diff.operations);
  } catch (error) {
    if (error instanceof FerryError && error.kind === 'configuration') {
      throw new CycleStop({ kind: error.kind, code: error.code, message: error.message });
    }
    throw error;
  }
  const steps: LogStep[] = [
    { name: 'referenceResolution', status: 'Success', details: { resolved: resolvable } },
    {
      name: 'export',
      status: 'Success',
      details: { request: `PATCH /Users/${link.targetId}`, ...(bulk ? { via: 'Bulk' } : {}) },
    },
  ];
  return {
    objectType: 'user',
    objectId: user.id,
    status: 'done',
    action: 'Update',
    targetId: link.targetId,
    link: {
      kind: 'upsert',
      link: {
        appId: runtime.app.id,
        objectType: 'user',
        sourceId: user.id,
        exportedHash: desiredHash(desired),
        exportedValues: exportedValues(desired),
      },
    },
    unresolvedPaths: [],
    operations: 1,
    modifiedAttributes: diff.modifiedAttributes,
    bodies: [diff.operations],
    scope: null,
    matching: null,
    log: {
      id: ctx.logId,
      time: ctx.now.toISOString(),
      appId: runtime.app.id,
      cycleId: ctx.cycleId,
      changeId: ctx.changeId,
      objectType: 'user',
      sourceId: user.id,
      sourceDisplayName: user.displayName ?? user.userPrincipalName,
      targetId: link.targetId,
      action: 'Update',
      status: 'Success',
      errorCode: null,
      errorMessage: null,
      steps,
      modifiedAttributes: diff.modifiedAttributes,
      durationMs: Date.now() - started,
      onDemand: ctx.onDemand,
    },
  };
}
