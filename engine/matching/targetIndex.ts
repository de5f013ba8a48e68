// In-memory matching against one bulk listing of the target (Ferry's initial-cycle option): index
// every matching attribute once, then each object matches in O(1) instead of one GET per object.
import { getScimValue, parseScimPath, type ScimPath } from '../mapping/scimPath.ts';
import type { ScimResource } from '../types.ts';
import type { MatchCandidate } from './matchFilter.ts';

/** Attributes compared exactly; the rest are caseExact=false in RFC 7643 (userName, emails, displayName…). */
const CASE_EXACT = new Set(['id', 'externalid']);

export interface TargetIndex {
  readonly byAttribute: ReadonlyMap<string, ReadonlyMap<string, readonly ScimResource[]>>;
  readonly paths: ReadonlyMap<string, ScimPath>;
}

function isCaseExact(path: ScimPath): boolean {
  return (
    path.urn === null &&
    path.filter === null &&
    path.subAttribute === null &&
    CASE_EXACT.has(path.attribute.toLowerCase())
  );
}

function indexKey(path: ScimPath, value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return null;
  const text = String(value);
  return isCaseExact(path) ? text : text.toLowerCase();
}

/** The keys a resource is found by: one per matching attribute it holds a simple value for. */
export function targetIndexKeys(
  resource: ScimResource,
  attributes: readonly string[],
): { attribute: string; key: string }[] {
  const keys: { attribute: string; key: string }[] = [];
  for (const attribute of attributes) {
    const path = parseScimPath(attribute);
    const key = indexKey(path, getScimValue(resource, path));
    if (key !== null) keys.push({ attribute, key });
  }
  return keys;
}

/** The key a candidate's value is looked up by (the same normalization as `targetIndexKeys`). */
export function candidateIndexKey(candidate: Pick<MatchCandidate, 'attribute' | 'value'>): string | null {
  return indexKey(parseScimPath(candidate.attribute), candidate.value);
}

export function buildTargetIndex(resources: Iterable<ScimResource>, attributes: readonly string[]): TargetIndex {
  const byAttribute = new Map<string, Map<string, ScimResource[]>>();
  for (const attribute of attributes) byAttribute.set(attribute, new Map());
  for (const resource of resources) {
    for (const { attribute, key } of targetIndexKeys(resource, attributes)) {
      const index = byAttribute.get(attribute) as Map<string, ScimResource[]>;
      const list = index.get(key);
      if (list) list.push(resource);
      else index.set(key, [resource]);
    }
  }
  return { byAttribute, paths: new Map(attributes.map((attribute) => [attribute, parseScimPath(attribute)])) };
}

/** The indexed resources whose attribute equals the candidate's value. */
export function lookupInIndex(index: TargetIndex, candidate: MatchCandidate): readonly ScimResource[] {
  const byValue = index.byAttribute.get(candidate.attribute);
  if (!byValue) return [];
  const key = indexKey(index.paths.get(candidate.attribute) as ScimPath, candidate.value);
  return key === null ? [] : (byValue.get(key) ?? []);
}
