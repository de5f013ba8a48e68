// Matching attributes → SCIM filters (RFC 7644 §3.4.2.2). String literals are JSON strings, so
// quotes and backslashes in a value are escaped and cannot break out of the filter.
import type { CompiledMappings } from '../mapping/compileMappings.ts';
import { getScimValue, parseScimPath, scimStringLiteral, type ScimPath } from '../mapping/scimPath.ts';
import type { ScimResource } from '../types.ts';

export interface MatchCandidate {
  /** Target attribute path as mapped, e.g. `userName` or `emails[type eq "work"].value`. */
  attribute: string;
  precedence: number;
  value: string | number | boolean;
  /** The filter to send: `userName eq "alice@contoso.com"`. */
  filter: string;
}

function literal(value: string | number | boolean): string {
  return typeof value === 'string' ? scimStringLiteral(value) : String(value);
}

/**
 * `attr eq "v"`; a value-filtered path becomes one complex filter, which RFC 7644 allows:
 * `emails[type eq "work"].value` → `emails[type eq "work" and value eq "v"]`.
 */
export function buildMatchFilter(path: string | ScimPath, value: string | number | boolean): string {
  const parsed = typeof path === 'string' ? parseScimPath(path) : path;
  const prefix = parsed.urn ? `${parsed.urn}:` : '';
  if (parsed.filter && parsed.subAttribute) {
    const selector = `${parsed.filter.attribute} eq ${scimStringLiteral(parsed.filter.value)}`;
    return `${prefix}${parsed.attribute}[${selector} and ${parsed.subAttribute} eq ${literal(value)}]`;
  }
  const sub = parsed.subAttribute ? `.${parsed.subAttribute}` : '';
  return `${prefix}${parsed.attribute}${sub} eq ${literal(value)}`;
}

/** The matching attributes that have a value in the desired resource, in precedence order. */
export function matchCandidates(compiled: CompiledMappings, desired: ScimResource): MatchCandidate[] {
  const candidates: MatchCandidate[] = [];
  for (const mapping of compiled.matching) {
    const value = getScimValue(desired, mapping.path);
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
    if (value === '') continue;
    candidates.push({
      attribute: mapping.target,
      precedence: mapping.matchingPrecedence ?? 0,
      value,
      filter: buildMatchFilter(mapping.path, value),
    });
  }
  return candidates;
}
