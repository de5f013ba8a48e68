// Matching run the other way round, for a reconcile pass that adopts orphans: the target account is
// known and the directory object is sought. The directory side gives its match candidates (the
// values its create mapping gives the matching attributes, matchFilter.ts), indexed once; an orphan
// is then looked up by its own values of the same attributes, normalized as targetIndex.ts does, in
// the same precedence order. The first attribute that finds anything decides: one object is a
// match, more than one is ambiguous (the account stays an orphan).
import { candidateIndexKey, targetIndexKeys } from './targetIndex.ts';
import type { MatchCandidate } from './matchFilter.ts';
import type { ScimResource } from '../types.ts';

export interface OrphanIndex {
  /** Matching attributes in precedence order. */
  readonly attributes: readonly string[];
  readonly byAttribute: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
}

export type OrphanMatch =
  | { outcome: 'matched'; sourceId: string; attribute: string }
  | { outcome: 'notFound' }
  | { outcome: 'ambiguous'; sourceIds: string[]; attribute: string };

/** `attributes`: the matching attributes in precedence order; `objects`: directory objects and their candidates. */
export function buildOrphanIndex(
  attributes: readonly string[],
  objects: Iterable<{ sourceId: string; candidates: readonly MatchCandidate[] }>,
): OrphanIndex {
  const byAttribute = new Map<string, Map<string, string[]>>(attributes.map((a) => [a, new Map()]));
  for (const { sourceId, candidates } of objects) {
    for (const candidate of candidates) {
      const index = byAttribute.get(candidate.attribute);
      const key = candidateIndexKey(candidate);
      if (!index || key === null) continue;
      const list = index.get(key);
      if (!list) index.set(key, [sourceId]);
      else if (!list.includes(sourceId)) list.push(sourceId);
    }
  }
  return { attributes: [...attributes], byAttribute };
}

/** The directory object an orphan account belongs to, by the first matching attribute that finds any. */
export function matchOrphan(index: OrphanIndex, account: ScimResource): OrphanMatch {
  for (const { attribute, key } of targetIndexKeys(account, index.attributes)) {
    const found = index.byAttribute.get(attribute)?.get(key) ?? [];
    if (found.length === 1) return { outcome: 'matched', sourceId: found[0], attribute };
    if (found.length > 1) return { outcome: 'ambiguous', sourceIds: [...found], attribute };
  }
  return { outcome: 'notFound' };
}
