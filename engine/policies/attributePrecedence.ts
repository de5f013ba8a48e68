// Attribute-level precedence between sources that write the same person (like Okta's attribute
// mastering). Each source that provides a user keeps its own copy of what it said (its
// "contribution"); the user's attributes are merged from those copies: for every attribute, the
// source with the lowest rank that provides a value wins. Pure: the store calls it under its
// directory write lock (store/directory.ts).
import type { DirectoryUser } from '../types.ts';

/** Every user attribute a source can provide (all but the id and the soft-delete mark). */
export const SOURCE_ATTRIBUTES = [
  'userPrincipalName',
  'mail',
  'mailNickname',
  'displayName',
  'givenName',
  'surname',
  'accountEnabled',
  'jobTitle',
  'department',
  'companyName',
  'employeeId',
  'mobilePhone',
  'businessPhones',
  'officeLocation',
  'city',
  'country',
  'managerId',
  'extensions',
] as const satisfies readonly (keyof DirectoryUser)[];

export type SourceAttribute = (typeof SOURCE_ATTRIBUTES)[number];
export type SourceAttributes = Partial<Pick<DirectoryUser, SourceAttribute>>;

/** Rank of a source that sets no `precedence`. Lower wins. */
export const DEFAULT_PRECEDENCE = 100;

/** How one source ranks: its `precedence`, per-attribute overrides, and its age (ties go to the older source). */
export interface SourceRank {
  sourceId: string;
  precedence?: number;
  attributePrecedence?: Partial<Record<string, number>>;
  /** ISO timestamp of the source's creation: equal ranks go to the older source, then the smaller id. */
  createdAt: string;
}

/** What one source says about one user. */
export interface Contribution {
  sourceId: string;
  attributes: SourceAttributes;
}

export interface MergedUser {
  /** The winning value of every attribute some source provides; attributes nobody provides are absent. */
  attributes: SourceAttributes;
  /** Attribute → id of the source whose value won. */
  attributeSources: Partial<Record<SourceAttribute, string>>;
}

/** A source's rank for one attribute: its override for that attribute, else its precedence. */
export function rankOf(rank: SourceRank | undefined, attribute: string): number {
  return rank?.attributePrecedence?.[attribute] ?? rank?.precedence ?? DEFAULT_PRECEDENCE;
}

/**
 * Whether a value counts as provided. An empty value (null, '', no phones, no extensions) is the
 * source saying nothing: a lower-ranked source's value may then take the attribute.
 */
export function provides(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** Orders two sources for an attribute: lower rank first, then the older source, then the smaller id. */
export function compareSources(
  a: string,
  b: string,
  attribute: string,
  ranks: ReadonlyMap<string, SourceRank>,
): number {
  const ra = ranks.get(a);
  const rb = ranks.get(b);
  const byRank = rankOf(ra, attribute) - rankOf(rb, attribute);
  if (byRank !== 0) return byRank;
  const byAge = (ra?.createdAt ?? '').localeCompare(rb?.createdAt ?? '');
  if (byAge !== 0) return byAge;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Merges the contributions of one user: per attribute, the best-ranked source that provides a value wins. */
export function mergeContributions(
  contributions: readonly Contribution[],
  ranks: ReadonlyMap<string, SourceRank>,
): MergedUser {
  const attributes: Record<string, unknown> = {};
  const attributeSources: Partial<Record<SourceAttribute, string>> = {};
  for (const attribute of SOURCE_ATTRIBUTES) {
    let winner: Contribution | undefined;
    for (const c of contributions) {
      if (!provides(c.attributes[attribute])) continue;
      if (!winner || compareSources(c.sourceId, winner.sourceId, attribute, ranks) < 0) winner = c;
    }
    if (!winner) continue;
    attributes[attribute] = winner.attributes[attribute];
    attributeSources[attribute] = winner.sourceId;
  }
  return { attributes: attributes as SourceAttributes, attributeSources };
}

/**
 * The source that owns a user several sources provide: the best-ranked one by its overall
 * precedence. Ownership moves to it when the owner withdraws (its row is gone, or it is deleted).
 */
export function preferredSource(sourceIds: readonly string[], ranks: ReadonlyMap<string, SourceRank>): string | null {
  let best: string | null = null;
  for (const id of sourceIds) if (best === null || compareSources(id, best, '', ranks) < 0) best = id;
  return best;
}
