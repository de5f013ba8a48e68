// Step 3, matching: find the object's account at the target by the matching attributes in
// precedence order — in the target's listing of an initial cycle (in the store), or one filtered GET
// per attribute.
import { PermanentError } from '../../engine/errors.ts';
import type { CompiledMapping, CompiledMappings } from '../../engine/mapping/index.ts';
import { classifyMatch, type MatchCandidate, type MatchDecision } from '../../engine/matching/index.ts';
import type { ScimResource } from '../../engine/types.ts';
import type { ScimResourceType } from '../../scim/index.ts';
import { Desired } from './desired.ts';
import type { ObjectContext, SourceObject } from './types.ts';
import type { OutcomeWriter } from './writer.ts';

/** Records the matching step; two or more accounts matching is a PermanentError (DuplicateTargetEntries). */
async function match(
  ctx: ObjectContext,
  source: SourceObject,
  resourceType: ScimResourceType,
  list: MatchCandidate[],
  out: OutcomeWriter,
): Promise<MatchDecision> {
  const decision: MatchDecision = { outcome: { outcome: 'notFound' }, attempts: [] };
  for (const candidate of list) {
    let found: readonly ScimResource[];
    if (ctx.targetIndex) {
      found = await ctx.targetIndex.find(candidate);
    } else {
      const page = await ctx.runtime.client.list(resourceType, {
        filter: candidate.filter,
        ...(source.type === 'group' ? { excludedAttributes: ['members'] } : {}),
      });
      out.operations++;
      found = page.resources;
    }
    decision.attempts.push({
      attribute: candidate.attribute,
      filter: candidate.filter,
      found: found.length,
      targetIds: found.map((r) => r.id ?? '').filter(Boolean),
    });
    if (found.length > 0) {
      decision.outcome = classifyMatch(found, candidate);
      break;
    }
  }
  const outcome = decision.outcome;
  out.step('matching', outcome.outcome === 'duplicate' ? 'Failure' : 'Success', {
    ...(ctx.targetIndex ? { source: 'bulk listing of the target' } : {}),
    attempts: decision.attempts.map(
      (a) => `${a.filter}: ${a.found} found${a.targetIds.length ? ` (${a.targetIds.join(', ')})` : ''}`,
    ),
    outcome: outcome.outcome,
  });
  if (outcome.outcome === 'duplicate') {
    throw new PermanentError(outcome.message, { code: 'DuplicateTargetEntries' });
  }
  return decision;
}

/**
 * Matches the object at the target and returns the matched account (null: none). From here on the
 * matched account is THE target id: update, members, link and log use it.
 */
export async function matchAtTarget(
  ctx: ObjectContext,
  source: SourceObject,
  resourceType: ScimResourceType,
  candidates: MatchCandidate[],
  out: OutcomeWriter,
): Promise<ScimResource | null> {
  out.matching = await match(ctx, source, resourceType, candidates, out);
  const target = out.matching.outcome.outcome === 'matched' ? out.matching.outcome.resource : null;
  if (target?.id) out.targetId = target.id;
  return target;
}

const matchingOnly = new WeakMap<CompiledMappings, CompiledMappings>();

/**
 * The mappings that decide the values at the matching attributes: those writing to an attribute a
 * matching mapping writes to (in their order, so the one that wins still wins). Mapping an object
 * with them alone gives its match candidates without computing its whole create mapping, which the
 * pipeline computes when it exports the object (with the references resolved by then).
 */
export function matchingMappings(compiled: CompiledMappings): CompiledMappings {
  let only = matchingOnly.get(compiled);
  if (!only) {
    const attributeOf = (m: CompiledMapping) => `${m.path.urn ?? ''}:${m.path.attribute.toLowerCase()}`;
    const matched = new Set(compiled.matching.map(attributeOf));
    only = { ...compiled, mappings: compiled.mappings.filter((m) => matched.has(attributeOf(m))) };
    matchingOnly.set(compiled, only);
  }
  return only;
}

/**
 * The match candidates of objects about to be matched, as the pipeline will compute them (for a page's
 * prefetched lookup). An object whose mapping fails here is left out: it is looked up on its own.
 */
export function pendingMatchCandidates(
  ctx: Pick<ObjectContext, 'runtime' | 'now' | 'userLinks'>,
  sources: readonly SourceObject[],
): MatchCandidate[] {
  const candidates: MatchCandidate[] = [];
  for (const source of sources) {
    const compiled = source.type === 'user' ? ctx.runtime.compiled.user : ctx.runtime.compiled.group;
    if (!compiled || source.object === null) continue;
    try {
      candidates.push(...new Desired(ctx, source, matchingMappings(compiled)).candidates());
    } catch {
      // Mapped again by the pipeline, which reports the failure.
    }
  }
  return candidates;
}
