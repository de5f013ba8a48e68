// Set-based matching against a stored listing of the target: the keys a page of objects will be
// looked up by, grouped and deduplicated, and the rows one query returns for them handed back per key,
// so a page costs one lookup instead of one per candidate per object.
import type { ScimResource } from '../types.ts';
import type { MatchCandidate } from './matchFilter.ts';
import { candidateIndexKey } from './targetIndex.ts';

/** One key of the listing: a matching attribute and a normalized value. */
export interface ListingKey {
  attribute: string;
  key: string;
}

/** A listed account found under a key. */
export interface ListedMatch extends ListingKey {
  resource: ScimResource;
}

/** The accounts found for each key asked (a key asked that found nothing maps to none). */
export type PrefetchedMatches = ReadonlyMap<string, ReadonlyMap<string, readonly ScimResource[]>>;

/** The distinct keys the candidates are looked up by; a candidate without a key finds nothing and is left out. */
export function candidateKeys(candidates: Iterable<Pick<MatchCandidate, 'attribute' | 'value'>>): ListingKey[] {
  const seen = new Map<string, Set<string>>();
  const keys: ListingKey[] = [];
  for (const candidate of candidates) {
    const key = candidateIndexKey(candidate);
    if (key === null) continue;
    let asked = seen.get(candidate.attribute);
    if (!asked) seen.set(candidate.attribute, (asked = new Set()));
    if (asked.has(key)) continue;
    asked.add(key);
    keys.push({ attribute: candidate.attribute, key });
  }
  return keys;
}

/** Every key asked with the rows found under it, in the rows' order. */
export function distributeListed(keys: readonly ListingKey[], rows: readonly ListedMatch[]): PrefetchedMatches {
  const byAttribute = new Map<string, Map<string, ScimResource[]>>();
  for (const { attribute, key } of keys) {
    let byKey = byAttribute.get(attribute);
    if (!byKey) byAttribute.set(attribute, (byKey = new Map()));
    byKey.set(key, []);
  }
  for (const row of rows) byAttribute.get(row.attribute)?.get(row.key)?.push(row.resource);
  return byAttribute;
}

/**
 * The prefetched accounts for a candidate: none for a candidate without a key, undefined when its
 * key was not asked (the caller looks it up on its own).
 */
export function lookupPrefetched(
  prefetched: PrefetchedMatches,
  candidate: Pick<MatchCandidate, 'attribute' | 'value'>,
): readonly ScimResource[] | undefined {
  const key = candidateIndexKey(candidate);
  if (key === null) return [];
  return prefetched.get(candidate.attribute)?.get(key);
}
