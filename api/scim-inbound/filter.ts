// SCIM inbound's filters (RFC 7644 §3.4.2.2), parsed and evaluated by scim2-parse-filter. SCIM
// strings compare case-insensitively except ids (caseExact), so the filter and the resources it
// is matched against are case-folded alike, leaving ids as they are.
import { filter as compile, parse, type Filter } from 'scim2-parse-filter';
import { ScimInputError, type ScimResource } from '../../sources/scim-resources.ts';

/** Paths whose values compare exactly: ids, and the ids members and managers point at. */
const exact = (path: string) => /(^|\.)(id|externalid)$|(^|[.:])(members|manager)(\.value)?$/i.test(path);

function foldFilter(f: Filter, prefix = ''): Filter {
  if (f.op === 'and' || f.op === 'or') return { ...f, filters: f.filters.map((x) => foldFilter(x, prefix)) };
  if (f.op === 'not') return { ...f, filter: foldFilter(f.filter, prefix) };
  if (f.op === '[]') return { ...f, valFilter: foldFilter(f.valFilter, `${prefix}${f.attrPath}.`) };
  if ('compValue' in f && typeof f.compValue === 'string' && !exact(`${prefix}${f.attrPath}`)) {
    return { ...f, compValue: f.compValue.toLowerCase() };
  }
  return f;
}

function foldValue(value: unknown, path: string): unknown {
  if (typeof value === 'string') return exact(path) ? value : value.toLowerCase();
  if (Array.isArray(value)) return value.map((v) => foldValue(v, path));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, foldValue(v, path ? `${path}.${k}` : k)]));
  }
  return value;
}

/** A predicate over SCIM resources; a filter that does not parse is a 400 `invalidFilter`. */
export function scimFilter(expression: string): { matches: (r: ScimResource) => boolean; ast: Filter } {
  let ast: Filter;
  try {
    ast = parse(expression);
  } catch (error) {
    throw new ScimInputError(
      `filter does not parse: ${error instanceof Error ? error.message : String(error)}`,
      'invalidFilter',
    );
  }
  const test = compile(foldFilter(ast));
  return { ast, matches: (r) => test(foldValue(r, '')) };
}

/** The value `attr eq "value"` asks for, when the filter is exactly that (for an indexed look-up). */
export function equalityOf(ast: Filter, attribute: string): string | null {
  return ast.op === 'eq' && ast.attrPath.toLowerCase() === attribute.toLowerCase() && typeof ast.compValue === 'string'
    ? ast.compValue
    : null;
}
