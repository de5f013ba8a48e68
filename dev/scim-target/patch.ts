// PatchOp (RFC 7644 §3.5.2) on a copy of a resource: add / replace / remove, with or without a
// path, value filters, sub-attributes and extension URNs. Lenient where Entra-style clients rely
// on it: `op` in any case, "True"/"False" strings for booleans, replace on a missing filtered
// element creates it.
import { PathError, getAttr, isObject, keyOf, matchesFilter, parsePath, type Json, type JsonObject } from './paths.ts';

export interface PatchOperation {
  op: string;
  path?: string;
  value?: Json;
}

const READ_ONLY = new Set(['id', 'meta', 'schemas']);

function coerce(value: Json): Json {
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  return value;
}

/** The object that holds the path's attribute, created on demand for extension URNs. */
function container(resource: JsonObject, urn: string | null, create: boolean): JsonObject | null {
  if (!urn) return resource;
  const key = keyOf(resource, urn);
  const existing = resource[key];
  if (isObject(existing)) return existing;
  if (!create) return null;
  const made: JsonObject = {};
  resource[key] = made;
  const schemas = resource.schemas;
  if (Array.isArray(schemas) && !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn.toLowerCase())) {
    schemas.push(urn);
  }
  return made;
}

/** Identity of an element of a multi-valued attribute: its `value` when it has one. */
function identity(element: Json): string {
  if (isObject(element)) {
    const value = getAttr(element, 'value');
    if (value !== undefined && value !== null) return `v:${JSON.stringify(value)}`;
  }
  return `j:${JSON.stringify(element)}`;
}

function addValue(holder: JsonObject, attr: string, value: Json): void {
  const key = keyOf(holder, attr);
  const existing = holder[key];
  if (Array.isArray(existing) || (Array.isArray(value) && existing === undefined)) {
    const list = Array.isArray(existing) ? existing : [];
    // A set of identities keeps adding n members to a group of m members O(n + m).
    const present = new Set(list.map(identity));
    for (const item of Array.isArray(value) ? value : [value]) {
      const id = identity(item);
      if (present.has(id)) continue;
      present.add(id);
      list.push(item);
    }
    holder[key] = list;
  } else if (isObject(existing) && isObject(value)) {
    for (const [k, v] of Object.entries(value)) existing[keyOf(existing, k)] = coerce(v);
  } else {
    holder[key] = coerce(value);
  }
}

function applyWithoutPath(resource: JsonObject, op: 'add' | 'replace', value: Json | undefined): void {
  if (!isObject(value)) throw new PathError('A patch without path needs an object value', 'invalidValue');
  for (const [name, v] of Object.entries(value)) {
    if (READ_ONLY.has(name.toLowerCase())) continue;
    if (/^urn:/i.test(name) && isObject(v) && parsePath(name).attr === null) {
      const ext = container(resource, name, true)!;
      for (const [k, inner] of Object.entries(v)) {
        if (op === 'add') addValue(ext, k, inner);
        else ext[keyOf(ext, k)] = coerce(inner);
      }
      continue;
    }
    applyWithPath(resource, op, name, v);
  }
}

function applyWithPath(
  resource: JsonObject,
  op: 'add' | 'replace' | 'remove',
  path: string,
  value: Json | undefined,
): void {
  const parsed = parsePath(path);
  if (parsed.attr === null) {
    // The whole extension object.
    const key = keyOf(resource, parsed.urn!);
    if (op === 'remove') delete resource[key];
    else if (isObject(value)) {
      const ext = container(resource, parsed.urn, true)!;
      for (const [k, v] of Object.entries(value)) ext[keyOf(ext, k)] = coerce(v);
    } else throw new PathError(`${path} takes an object`, 'invalidValue');
    return;
  }
  if (!parsed.urn && READ_ONLY.has(parsed.attr.toLowerCase())) {
    throw new PathError(`${parsed.attr} is read-only`, 'mutability');
  }
  const holder = container(resource, parsed.urn, op !== 'remove');
  if (!holder) return;
  const key = keyOf(holder, parsed.attr);

  if (parsed.filter) {
    const list = Array.isArray(holder[key]) ? (holder[key] as Json[]) : [];
    const matching = list.filter((e) => matchesFilter(e, parsed.filter!));
    if (op === 'remove') {
      if (parsed.sub) {
        for (const e of matching) if (isObject(e)) delete e[keyOf(e, parsed.sub)];
      } else {
        holder[key] = list.filter((e) => !matching.includes(e));
      }
      if (Array.isArray(holder[key]) && (holder[key] as Json[]).length === 0) delete holder[key];
      return;
    }
    if (matching.length === 0) {
      // Create the element the filter describes, e.g. { type: "work", value: … }.
      const created: JsonObject = {};
      for (const clause of parsed.filter) created[clause.attr] = clause.value;
      if (parsed.sub) created[parsed.sub] = coerce(value ?? null);
      else if (isObject(value)) Object.assign(created, value);
      list.push(created);
      holder[key] = list;
      return;
    }
    for (const e of matching) {
      if (!isObject(e)) continue;
      if (parsed.sub) e[keyOf(e, parsed.sub)] = coerce(value ?? null);
      else if (isObject(value)) for (const [k, v] of Object.entries(value)) e[keyOf(e, k)] = coerce(v);
    }
    return;
  }

  if (parsed.sub) {
    let complex = holder[key];
    if (op === 'remove') {
      if (isObject(complex)) delete complex[keyOf(complex, parsed.sub)];
      return;
    }
    if (!isObject(complex)) {
      complex = {};
      holder[key] = complex;
    }
    complex[keyOf(complex, parsed.sub)] = coerce(value ?? null);
    return;
  }

  if (op === 'remove') {
    // `remove members` with a value list removes just those members (Entra's form).
    if (Array.isArray(holder[key]) && Array.isArray(value)) {
      const removed = new Set(value.map(identity));
      holder[key] = (holder[key] as Json[]).filter((e) => !removed.has(identity(e)));
    } else delete holder[key];
    return;
  }
  if (op === 'add') addValue(holder, parsed.attr, value ?? null);
  else holder[key] = Array.isArray(value) ? value : coerce(value ?? null);
}

/** Applies operations to `resource` in place. Throws PathError for what cannot be applied. */
export function applyPatch(resource: JsonObject, operations: PatchOperation[]): void {
  for (const operation of operations) {
    const op = String(operation.op ?? '').toLowerCase();
    if (op !== 'add' && op !== 'replace' && op !== 'remove')
      throw new PathError(`Unknown op: ${operation.op}`, 'invalidValue');
    if (operation.path === undefined || operation.path === '') {
      if (op === 'remove') throw new PathError('remove needs a path', 'noTarget');
      applyWithoutPath(resource, op, operation.value);
    } else {
      applyWithPath(resource, op, operation.path, operation.value);
    }
  }
}
