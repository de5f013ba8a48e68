// SCIM attribute paths (RFC 7644 §3.5.2 "path", §3.4.2.2 "filter") for the loopback target:
// `userName`, `name.givenName`, `emails[type eq "work"].value`, `members[value eq "id"]`,
// `urn:…:enterprise:2.0:User:manager`, `urn:…:enterprise:2.0:User` (the whole extension).
// Attribute names are case-insensitive; lookups go through keyOf.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** `attr eq value` clauses joined by `and` (all the target understands). */
export interface EqClause {
  attr: string;
  value: string | number | boolean | null;
}

export interface AttrPath {
  /** Extension schema URN when the path is URN-qualified, else null (core schema). */
  urn: string | null;
  /** Attribute name (null when the path names a whole extension object). */
  attr: string | null;
  /** Value filter inside brackets, e.g. `type eq "work"`. */
  filter: EqClause[] | null;
  /** Sub-attribute after the attribute or the filter, e.g. `value` or `givenName`. */
  sub: string | null;
}

export class PathError extends Error {
  constructor(
    message: string,
    readonly scimType: 'invalidPath' | 'invalidFilter' | 'noTarget' | 'invalidValue' | 'mutability' = 'invalidPath',
  ) {
    super(message);
  }
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The existing key of `obj` matching `name` case-insensitively, else `name`. */
export function keyOf(obj: JsonObject, name: string): string {
  if (name in obj) return name;
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return key;
  return name;
}

export function getAttr(obj: JsonObject, name: string): Json | undefined {
  return obj[keyOf(obj, name)];
}

const CLAUSE = /^\s*([A-Za-z][\w.:-]*)\s+eq\s+("(?:[^"\\]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?)\s*$/i;

/** Parses `a eq "x" and b eq true`. */
export function parseEqFilter(text: string): EqClause[] {
  const parts = text.split(/\s+and\s+(?=(?:[^"]*"[^"]*")*[^"]*$)/i);
  return parts.map((part) => {
    const match = CLAUSE.exec(part);
    if (!match) throw new PathError(`Unsupported filter: ${text}`, 'invalidFilter');
    return { attr: match[1], value: JSON.parse(match[2]) as EqClause['value'] };
  });
}

export function parsePath(path: string): AttrPath {
  let rest = path.trim();
  let urn: string | null = null;
  if (/^urn:/i.test(rest)) {
    const bracket = rest.indexOf('[');
    const head = bracket === -1 ? rest : rest.slice(0, bracket);
    const lastColon = head.lastIndexOf(':');
    const last = head.slice(lastColon + 1);
    // `…:2.0:User` names the whole extension object; `…:2.0:User:manager` one of its attributes.
    if (/^(User|Group)$/i.test(last) && bracket === -1) return { urn: rest, attr: null, filter: null, sub: null };
    urn = head.slice(0, lastColon);
    rest = rest.slice(lastColon + 1);
  }
  const match = /^([A-Za-z$][\w$-]*)(?:\[(.*)\])?(?:\.([A-Za-z$][\w$-]*))?$/.exec(rest);
  if (!match) throw new PathError(`Invalid path: ${path}`);
  return {
    urn,
    attr: match[1],
    filter: match[2] !== undefined ? parseEqFilter(match[2]) : null,
    sub: match[3] ?? null,
  };
}

function same(a: Json | undefined, b: EqClause['value']): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

/** Whether an element of a multi-valued attribute satisfies a value filter. */
export function matchesFilter(element: Json, filter: EqClause[]): boolean {
  if (!isObject(element)) return filter.every((c) => c.attr.toLowerCase() === 'value' && same(element, c.value));
  return filter.every((c) => same(getAttr(element, c.attr), c.value));
}

/** Every leaf value found at a dotted attribute path (`emails.value`, `name.familyName`, `urn:…:employeeNumber`). */
export function valuesAt(resource: JsonObject, path: string): Json[] {
  const parsed = parsePath(path);
  let base: Json | undefined = resource;
  if (parsed.urn) base = isObject(resource) ? getAttr(resource, parsed.urn) : undefined;
  if (!isObject(base) || parsed.attr === null) return [];
  let values: Json[] = [getAttr(base, parsed.attr) ?? null];
  values = values.flatMap((v) => (Array.isArray(v) ? v : [v]));
  if (parsed.filter) values = values.filter((v) => matchesFilter(v, parsed.filter!));
  if (parsed.sub) values = values.map((v) => (isObject(v) ? (getAttr(v, parsed.sub!) ?? null) : null));
  return values.filter((v) => v !== null);
}

export function resourceMatches(resource: JsonObject, clauses: EqClause[]): boolean {
  return clauses.every((c) => valuesAt(resource, c.attr).some((v) => same(v, c.value)));
}
