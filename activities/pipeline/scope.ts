// Step 2, scoping: whether the app's scoping filters take the object in.
import { evaluateScope, scopeDetails } from '../../engine/scoping/index.ts';
import type { ObjectContext, SourceObject } from './types.ts';
import type { OutcomeWriter } from './writer.ts';

/** Records the scoping step of an object the directory holds; a hard-deleted object is out of scope, unlogged. */
export function scopeObject(ctx: ObjectContext, source: SourceObject, out: OutcomeWriter): boolean {
  if (!source.object) return false;
  const scope =
    source.type === 'user'
      ? evaluateScope({ objectType: 'user', object: source.object }, ctx.directory.scope.user)
      : evaluateScope({ objectType: 'group', object: source.object }, ctx.directory.scope.group);
  out.scope = scope;
  out.step('scoping', scope.inScope ? 'Success' : 'Skipped', { inScope: scope.inScope, ...scopeDetails(scope) });
  return scope.inScope;
}
