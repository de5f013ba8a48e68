// In-memory Users and Groups, hash-indexed so that `filter=<attr> eq "<v>"` on the attributes
// clients match on (id, userName, externalId, displayName, emails.value) costs one lookup.
// Other filters fall back to a scan. Group membership is indexed both ways so deleting a user
// removes it from its groups.
import { getAttr, isObject, valuesAt, resourceMatches, type EqClause, type Json, type JsonObject } from './paths.ts';

export type ResourceType = 'User' | 'Group';

interface IndexSpec {
  /** Path as written in filters (lower case). */
  path: string;
  /** Values compared without case (SCIM caseExact=false). */
  caseInsensitive: boolean;
}

const INDEXES: Record<ResourceType, IndexSpec[]> = {
  User: [
    { path: 'username', caseInsensitive: true },
    { path: 'externalid', caseInsensitive: false },
    { path: 'displayname', caseInsensitive: true },
    { path: 'emails.value', caseInsensitive: true },
  ],
  Group: [
    { path: 'displayname', caseInsensitive: true },
    { path: 'externalid', caseInsensitive: false },
  ],
};

const norm = (spec: IndexSpec, value: Json): string | null =>
  typeof value === 'string' ? (spec.caseInsensitive ? value.toLowerCase() : value) : null;

export class ResourceTable {
  readonly byId = new Map<string, JsonObject>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();

  constructor(readonly type: ResourceType) {
    for (const spec of INDEXES[type]) this.indexes.set(spec.path, new Map());
  }

  private indexedValues(resource: JsonObject, spec: IndexSpec): string[] {
    const out: string[] = [];
    for (const v of valuesAt(resource, spec.path)) {
      const n = norm(spec, v);
      if (n !== null) out.push(n);
    }
    return out;
  }

  private index(resource: JsonObject, id: string, add: boolean): void {
    for (const spec of INDEXES[this.type]) {
      const index = this.indexes.get(spec.path)!;
      for (const value of this.indexedValues(resource, spec)) {
        let ids = index.get(value);
        if (add) {
          if (!ids) index.set(value, (ids = new Set()));
          ids.add(id);
        } else if (ids) {
          ids.delete(id);
          if (ids.size === 0) index.delete(value);
        }
      }
    }
  }

  put(resource: JsonObject): void {
    const id = resource.id as string;
    const previous = this.byId.get(id);
    if (previous) this.index(previous, id, false);
    this.byId.set(id, resource);
    this.index(resource, id, true);
  }

  remove(id: string): JsonObject | undefined {
    const previous = this.byId.get(id);
    if (!previous) return undefined;
    this.index(previous, id, false);
    this.byId.delete(id);
    return previous;
  }

  /** Ids whose indexed attribute equals value, or null when the attribute is not indexed. */
  lookup(path: string, value: EqClause['value']): string[] | null {
    const lower = path.toLowerCase();
    if (lower === 'id') return typeof value === 'string' && this.byId.has(value) ? [value] : [];
    const spec = INDEXES[this.type].find((s) => s.path === lower);
    if (!spec) return null;
    const n = norm(spec, value);
    return n === null ? [] : [...(this.indexes.get(spec.path)!.get(n) ?? [])];
  }

  /** Resources satisfying every clause, in insertion order. */
  find(clauses: EqClause[]): JsonObject[] {
    let candidates: string[] | null = null;
    for (const clause of clauses) {
      const ids = this.lookup(clause.attr, clause.value);
      if (ids !== null) candidates = candidates === null ? ids : candidates.filter((id) => ids.includes(id));
    }
    const pool = candidates === null ? [...this.byId.values()] : candidates.map((id) => this.byId.get(id)!);
    const result = pool.filter((r) => resourceMatches(r, clauses));
    if (candidates !== null && candidates.length > 1) {
      // Index sets lose insertion order; restore it for stable pages.
      const order = new Map([...this.byId.keys()].map((id, i) => [id, i]));
      result.sort((a, b) => order.get(a.id as string)! - order.get(b.id as string)!);
    }
    return result;
  }

  clear(): void {
    this.byId.clear();
    for (const index of this.indexes.values()) index.clear();
  }
}

/** The member ids of a group resource. */
export function memberIds(group: JsonObject): string[] {
  const members = getAttr(group, 'members');
  if (!Array.isArray(members)) return [];
  return members.flatMap((m) =>
    isObject(m) && typeof getAttr(m, 'value') === 'string' ? [getAttr(m, 'value') as string] : [],
  );
}
