// The hash stored in a link after an export. It covers only what an update would compare (mapped
// paths minus create-only ones), so the create of a new account and the next unchanged cycle agree.
import { canonicalJson, fnv1a64 } from '../hash.ts';
import type { MappingResult } from '../mapping/compileMappings.ts';
import { getScimValue } from '../mapping/scimPath.ts';
import { cachedPath } from './diffResource.ts';

export function desiredHash(result: Pick<MappingResult, 'resource' | 'managedPaths' | 'createOnlyPaths'>): string {
  const createOnly = result.createOnlyPaths;
  // Paths come in mapping order, which is fixed for a configuration; a reordered configuration
  // only costs one extra comparison against the target.
  let text = '';
  for (const path of result.managedPaths) {
    if (createOnly.length > 0 && createOnly.includes(path)) continue;
    text += `${path}\u0001${canonicalJson(getScimValue(result.resource, cachedPath(path)))}\u0002`;
  }
  return fnv1a64(text);
}
