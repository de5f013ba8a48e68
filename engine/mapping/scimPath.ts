// SCIM attribute paths as mappings name them (RFC 7644 §3.5.2 "path", restricted to what a mapping
// targets): `userName`, `name.givenName`, `emails[type eq "work"].value`, and any of those behind a
// schema URN such as `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`.

export interface ScimPathFilter {
  /** Sub-attribute compared in the value filter, e.g. `type`. */
  attribute: string;
  value: string;
}

export interface ScimPath {
  /** The path as written in the mapping. */
  readonly source: string;
  /** Extension schema URN, or null for core attributes. */
  readonly urn: string | null;
  readonly attribute: string;
  /** Value filter on a multi-valued attribute (`emails[type eq "work"]`). */
  readonly filter: ScimPathFilter | null;
  readonly subAttribute: string | null;
}

export class ScimPathError extends Error {}

const NAME = '[A-Za-z$][\\w$-]*';
const PATH_PATTERN = new RegExp(
  `^(${NAME})(?:\\[\\s*(${NAME})\\s+eq\\s+"((?:[^"\\\\]|\\\\.)*)"\\s*\\])?(?:\\.(${NAME}))?$`,
  'i',
);

export function parseScimPath(source: string): ScimPath {
  let urn: string | null = null;
  let rest = source.trim();
  if (/^urn:/i.test(rest)) {
    // The attribute follows the last colon; the URN itself contains dots ("2.0"), so split there first.
    const cut = rest.lastIndexOf(':');
    urn = rest.slice(0, cut);
    rest = rest.slice(cut + 1);
    if (!/^urn:[^:]+(:[^:]+)+$/i.test(urn)) throw new ScimPathError(`invalid schema URN "${urn}"`);
  }
  const match = PATH_PATTERN.exec(rest);
  if (!match) throw new ScimPathError(`invalid SCIM attribute path "${source}"`);
  const [, attribute, filterAttribute, filterValue, subAttribute] = match;
  if (filterAttribute !== undefined && subAttribute === undefined) {
    throw new ScimPathError(
      `path "${source}" selects a whole multi-valued element; name a sub-attribute (e.g. ".value")`,
    );
  }
  return {
    source,
    urn,
    attribute,
    filter:
      filterAttribute === undefined ? null : { attribute: filterAttribute, value: filterValue.replace(/\\(.)/g, '$1') },
    subAttribute: subAttribute ?? null,
  };
}

/** A string literal in a SCIM filter or path: quotes and backslashes escaped (RFC 7644 §3.4.2.2, JSON string rules). */
export function scimStringLiteral(value: string): string {
  return JSON.stringify(value);
}

/** The canonical text of a path, as sent in PATCH operations. */
export function formatScimPath(path: ScimPath): string {
  let text = path.attribute;
  if (path.filter) text += `[${path.filter.attribute} eq ${scimStringLiteral(path.filter.value)}]`;
  if (path.subAttribute) text += `.${path.subAttribute}`;
  return path.urn ? `${path.urn}:${text}` : text;
}

/** The path of the whole attribute (no filter, no sub-attribute), e.g. `emails` or `urn:…:User:manager`. */
export function formatAttributePath(path: ScimPath): string {
  return path.urn ? `${path.urn}:${path.attribute}` : path.attribute;
}

/** SCIM attribute names are case-insensitive (RFC 7643 §2.1): exact key first, then a case-insensitive scan. */
export function getKey(record: Record<string, unknown>, name: string): unknown {
  const exact = record[name];
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const key in record) if (key.toLowerCase() === lower) return record[key];
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameFilterValue(candidate: unknown, expected: string): boolean {
  return typeof candidate === 'string' && candidate.toLowerCase() === expected.toLowerCase();
}

/** The element of a multi-valued attribute selected by the path's filter, if any. */
export function findFilteredElement(resource: Record<string, unknown>, path: ScimPath): Record<string, unknown> | null {
  const container = path.urn ? getKey(resource, path.urn) : resource;
  if (!isRecord(container) || !path.filter) return null;
  const values = getKey(container, path.attribute);
  if (!Array.isArray(values)) return null;
  const { attribute, value } = path.filter;
  for (const element of values)
    if (isRecord(element) && sameFilterValue(getKey(element, attribute), value)) return element;
  return null;
}

/** The value at a path, or undefined when absent. */
export function getScimValue(resource: Record<string, unknown>, path: ScimPath): unknown {
  const container = path.urn ? getKey(resource, path.urn) : resource;
  if (!isRecord(container)) return undefined;
  if (path.filter) {
    const element = findFilteredElement(resource, path);
    return element && path.subAttribute ? getKey(element, path.subAttribute) : undefined;
  }
  const value = getKey(container, path.attribute);
  if (path.subAttribute === null) return value;
  return isRecord(value) ? getKey(value, path.subAttribute) : undefined;
}

/** Sets the value at a path, creating the extension object, complex attribute or filtered element as needed. */
export function setScimValue(resource: Record<string, unknown>, path: ScimPath, value: unknown): void {
  let container = resource;
  if (path.urn) {
    const existing = resource[path.urn];
    container = isRecord(existing) ? existing : {};
    resource[path.urn] = container;
  }
  if (path.filter && path.subAttribute) {
    const list = Array.isArray(container[path.attribute]) ? (container[path.attribute] as unknown[]) : [];
    container[path.attribute] = list;
    let element = findFilteredElement(resource, path);
    if (!element) {
      element = { [path.filter.attribute]: path.filter.value };
      list.push(element);
    }
    element[path.subAttribute] = value;
    return;
  }
  if (path.subAttribute) {
    const existing = container[path.attribute];
    const complex = isRecord(existing) ? existing : {};
    container[path.attribute] = complex;
    complex[path.subAttribute] = value;
    return;
  }
  container[path.attribute] = value;
}
