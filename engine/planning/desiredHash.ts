// The hash stored in a link after an export. It covers only what an update would compare (mapped
// paths minus create-only ones), so the create of a new account and the next unchanged cycle agree.
import { hashResource } from '../hash.ts';
import type { MappingResult } from '../mapping/compileMappings.ts';
import { getScimValue } from '../mapping/scimPath.ts';
import { cachedPath } from './diffResource.ts';

export function desiredHash(result: Pick<MappingResult, 'resource' | 'managedPaths' | 'createOnlyPaths'>): string {
  const createOnly = result.createOnlyPaths;
  const pairs: [string, unknown][] = [];
  for (const path of result.managedPaths) {
    if (createOnly.length > 0 && createOnly.includes(path)) continue;
    pairs.push([path, getScimValue(result.resource, cachedPath(path)) ?? null]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return hashResource(pairs);
}
