// What a matching query (or an in-memory lookup) found: exactly one resource is a match, none
// means "create", more than one is the DuplicateTargetEntries error.
import type { ScimResource } from '../types.ts';
import type { MatchCandidate } from './matchFilter.ts';

export type MatchOutcome =
  | { outcome: 'matched'; resource: ScimResource }
  | { outcome: 'notFound' }
  | { outcome: 'duplicate'; code: 'DuplicateTargetEntries'; message: string; resources: ScimResource[] };

export function classifyMatch(resources: readonly ScimResource[], candidate?: MatchCandidate): MatchOutcome {
  if (resources.length === 0) return { outcome: 'notFound' };
  if (resources.length === 1) return { outcome: 'matched', resource: resources[0] };
  const on = candidate ? ` on ${candidate.filter}` : '';
  return {
    outcome: 'duplicate',
    code: 'DuplicateTargetEntries',
    message: `${resources.length} target resources match${on}; matching attributes must be unique`,
    resources: [...resources],
  };
}

/** One step of matching, for the on-demand view and the log's matching step. */
export interface MatchAttempt {
  attribute: string;
  filter: string;
  found: number;
  targetIds: string[];
}

export interface MatchDecision {
  outcome: MatchOutcome;
  attempts: MatchAttempt[];
}

/**
 * Tries the candidates in precedence order and stops at the first one that finds anything.
 * `lookup` is synchronous here (in-memory); activities doing one GET per attribute walk the
 * candidates themselves and call classifyMatch.
 */
export function matchInOrder(
  candidates: readonly MatchCandidate[],
  lookup: (candidate: MatchCandidate) => readonly ScimResource[],
): MatchDecision {
  const attempts: MatchAttempt[] = [];
  for (const candidate of candidates) {
    const found = lookup(candidate);
    attempts.push({
      attribute: candidate.attribute,
      filter: candidate.filter,
      found: found.length,
      targetIds: found.map((r) => r.id ?? '').filter(Boolean),
    });
    if (found.length > 0) return { outcome: classifyMatch(found, candidate), attempts };
  }
  return { outcome: { outcome: 'notFound' }, attempts };
}
