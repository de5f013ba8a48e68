// Decides what to do with one object in one cycle and computes the minimal
// request for it. Pure: the caller supplies the scope result, the link, the current target resource
// and the mapping result; the caller performs the request and records the log.
import type { ObjectActions } from '../config/schema.ts';
import { REDACTED } from '../expressions/index.ts';
import type { MappingResult } from '../mapping/compileMappings.ts';
import type { ExportedValues, Link, ModifiedAttribute, ObjectType, PatchOperation, ScimResource } from '../types.ts';
import { desiredHash } from './desiredHash.ts';
import { exportedValues, lastExportedResource } from './exportedValues.ts';
import { cachedPath, diffResource } from './diffResource.ts';
import { getScimValue } from '../mapping/scimPath.ts';

export type PlannedAction = 'Create' | 'Update' | 'Disable' | 'Delete' | 'StagedDelete' | 'Skip';

export interface PlanSettings {
  actions: ObjectActions;
  skipOutOfScopeDeletions: boolean;
}

export interface PlanInput {
  objectType: ObjectType;
  /** `hardDeleted`: the object is gone from the directory (not just soft-deleted). */
  source: 'present' | 'hardDeleted';
  /** From evaluateScope; ignored for hard-deleted objects. */
  inScope: boolean;
  link: Link | null;
  /**
   * The current target resource (GET by the linked id, or the match). `null`: not in the target.
   * `undefined`: not fetched — enough when the link's hash shows nothing changed, or to disable/delete.
   */
  target: ScimResource | null | undefined;
  /** The mapping result (operation `create` when there is no target, else `update`); null when hard-deleted. */
  desired: MappingResult | null;
  settings: PlanSettings;
  /** The deletion threshold is exceeded this cycle: disables and deletes are staged, not exported. */
  deletionGuard?: boolean;
}

export interface Plan {
  action: PlannedAction;
  /** Why, in words, for the log's processing step. */
  reason: string;
  targetId: string | null;
  /** Create: the body to POST. */
  resource: ScimResource | null;
  /** Update/Disable: the PATCH operations (lowercase `op`). */
  operations: PatchOperation[];
  modifiedAttributes: ModifiedAttribute[];
  /** Store in the link after a successful export; null when nothing is desired. */
  desiredHash: string | null;
  /** The values to keep in the link after a successful export (with desiredHash); null when nothing is desired. */
  exportedValues: ExportedValues | null;
  /** For StagedDelete: the action that was held back. */
  stagedAction?: 'Disable' | 'Delete';
  /** Update only: the target must be fetched and the object planned again to compute the PATCH. */
  needsTarget?: boolean;
}

/** Secrets and Redact()ed values show as `[Redact]` in the modified attributes of the log. */
function redact(attributes: ModifiedAttribute[], redactedPaths: readonly string[]): ModifiedAttribute[] {
  if (redactedPaths.length === 0) return attributes;
  return attributes.map((attribute) =>
    redactedPaths.includes(attribute.name)
      ? {
          name: attribute.name,
          oldValue: attribute.oldValue === null ? null : REDACTED,
          newValue: attribute.newValue === null ? null : REDACTED,
        }
      : attribute,
  );
}

function plan(action: PlannedAction, reason: string, targetId: string | null, extra: Partial<Plan> = {}): Plan {
  return {
    action,
    reason,
    targetId,
    resource: null,
    operations: [],
    modifiedAttributes: [],
    desiredHash: null,
    exportedValues: null,
    ...extra,
  };
}

function removal(input: PlanInput, targetId: string, action: 'Disable' | 'Delete', reason: string): Plan {
  const wasActive = input.target?.active === false ? false : true;
  if (input.deletionGuard) {
    return plan('StagedDelete', `${reason}; held back because the deletion threshold is exceeded`, targetId, {
      stagedAction: action,
    });
  }
  if (action === 'Delete') return plan('Delete', reason, targetId);
  return plan('Disable', reason, targetId, {
    operations: [{ op: 'replace', path: 'active', value: false }],
    modifiedAttributes: [{ name: 'active', oldValue: wasActive, newValue: false }],
  });
}

export function planObject(input: PlanInput): Plan {
  const { link, target, settings } = input;
  const targetId = link?.targetId ?? target?.id ?? null;
  const { actions } = settings;

  if (input.source === 'hardDeleted') {
    if (targetId === null || target === null)
      return plan('Skip', 'deleted in the directory and never provisioned', null);
    if (!actions.delete) return plan('Skip', 'deleted in the directory; deletes are turned off for this app', targetId);
    return removal(input, targetId, 'Delete', 'deleted in the directory');
  }

  if (!input.inScope) {
    if (targetId === null || target === null) return plan('Skip', 'out of scope and not provisioned', null);
    if (settings.skipOutOfScopeDeletions) return plan('Skip', 'out of scope; skipOutOfScopeDeletions is set', targetId);
    if (input.objectType === 'group') {
      // Groups have no `active` attribute: leaving scope removes them, if deletes are on.
      if (!actions.delete) return plan('Skip', 'out of scope; deletes are turned off for this app', targetId);
      return removal(input, targetId, 'Delete', 'out of scope');
    }
    if (!actions.disable) return plan('Skip', 'out of scope; disabling is turned off for this app', targetId);
    if (link?.active === false || target?.active === false)
      return plan('Skip', 'out of scope and already disabled', targetId);
    return removal(input, targetId, 'Disable', 'out of scope');
  }

  const desired = input.desired;
  if (desired === null) throw new Error('planObject: an in-scope object needs its mapping result');
  const hash = desiredHash(desired);
  const exported = { desiredHash: hash, exportedValues: exportedValues(desired) };

  if (target === null || (target === undefined && targetId === null)) {
    if (target === undefined)
      throw new Error('planObject: match the object before planning (target is undefined and there is no link)');
    if (!actions.create)
      return plan('Skip', 'in scope and not in the target; creates are turned off for this app', null);
    return plan('Create', 'in scope and not found in the target', null, {
      resource: desired.resource,
      modifiedAttributes: redact(
        desired.managedPaths
          .map((name) => ({ name, oldValue: null, newValue: valueAt(desired.resource, name) }))
          .filter((m) => m.newValue !== null),
        desired.redactedPaths,
      ),
      ...exported,
    });
  }

  if (target === undefined) {
    const reEnable = input.objectType === 'user' && link?.active === false;
    if (!reEnable && link?.exportedHash === hash)
      return plan('Skip', 'unchanged since the last export', targetId, exported);
    if (!actions.update) return plan('Skip', 'changed; updates are turned off for this app', targetId);
    if (!link?.exportedValues)
      return plan(
        'Update',
        'changed since the last export; fetch the target resource to compute the changes',
        targetId,
        {
          ...exported,
          needsTarget: true,
        },
      );
    // The link keeps what was last sent: the PATCH is computed from it, with no read of the target.
    const last = lastExportedResource(link.exportedValues, desired, link.active);
    return planUpdate(input, last, targetId, exported, 'differs from the last exported values');
  }
  return planUpdate(input, target, targetId, exported, 'differs from the target');
}

/** Update or Skip: the minimal PATCH from `current` (the target's account, or what was last sent to it). */
function planUpdate(
  input: PlanInput,
  current: ScimResource,
  targetId: string | null,
  exported: Pick<Plan, 'desiredHash' | 'exportedValues'>,
  differs: string,
): Plan {
  const desired = input.desired as MappingResult;
  const reEnable = input.objectType === 'user' && (input.link?.active === false || current.active === false);
  const diff = diffResource(current, desired.resource, desired.managedPaths);
  const managesActive = desired.managedPaths.some((path) => path.toLowerCase() === 'active');
  if (reEnable && !managesActive && current.active !== true) {
    diff.operations.push({ op: 'replace', path: 'active', value: true });
    diff.modifiedAttributes.push({ name: 'active', oldValue: current.active ?? false, newValue: true });
  }
  if (diff.operations.length === 0)
    return plan('Skip', 'the target already has the desired values', targetId, exported);
  if (!input.settings.actions.update) return plan('Skip', `${differs}; updates are turned off for this app`, targetId);
  return plan('Update', reEnable ? 'back in scope: re-enable and update' : differs, targetId, {
    operations: diff.operations,
    modifiedAttributes: redact(diff.modifiedAttributes, desired.redactedPaths),
    ...exported,
  });
}

function valueAt(resource: ScimResource, path: string): unknown {
  return getScimValue(resource, cachedPath(path)) ?? null;
}
