// Step 1, import: is the object's type provisioned for this app, and what the directory holds of it.
import type { ObjectTypeConfig } from '../../engine/config/index.ts';
import type { CompiledMappings } from '../../engine/mapping/index.ts';
import type { PlanSettings } from '../../engine/planning/index.ts';
import type { ScimResourceType } from '../../scim/index.ts';
import type { ObjectContext, SourceObject } from './types.ts';
import type { OutcomeWriter } from './writer.ts';

/** How the app provisions the object's type. */
export interface TypeSetup {
  typeConfig: ObjectTypeConfig;
  compiled: CompiledMappings;
  resourceType: ScimResourceType;
  settings: PlanSettings;
}

/** Records the import step; null when the app does not provision the object's type (nothing more to do). */
export function importObject(ctx: ObjectContext, source: SourceObject, out: OutcomeWriter): TypeSetup | null {
  const { runtime } = ctx;
  const typeConfig = runtime.config.objectTypes[source.type];
  const compiled = source.type === 'user' ? runtime.compiled.user : runtime.compiled.group;
  if (!typeConfig || !compiled || !typeConfig.enabled) {
    out.step('import', 'Skipped', { reason: `${source.type} provisioning is not enabled for this app` });
    return null;
  }
  if (!source.object) {
    out.step('import', 'Success', { found: false, detail: 'not in the directory (hard-deleted)' });
  } else {
    out.step('import', 'Success', {
      found: true,
      ...(source.object.deletedDateTime ? { softDeletedAt: source.object.deletedDateTime } : {}),
    });
  }
  return {
    typeConfig,
    compiled,
    resourceType: source.type === 'user' ? 'Users' : 'Groups',
    settings: { actions: typeConfig.actions, skipOutOfScopeDeletions: typeConfig.skipOutOfScopeDeletions },
  };
}
