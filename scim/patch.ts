// PatchOp on the wire per compatibility profile, and a local PatchOp applier for targets that only
// take PUT (`put-only`): read the resource, apply the operations here, PUT the whole result.
import type { CompatibilityProfile, PatchOperation, ScimResource } from '../engine/types.ts';
import { SCIM_PATCH_OP_SCHEMA } from '../engine/types.ts';

export interface WirePatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

export interface PatchOpMessage {
  schemas: string[];
  Operations: WirePatchOperation[];
}

/** Booleans as the strings `"True"`/`"False"`, as Entra sent them before its 2018 fix. */
function legacyBooleans(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return value.map(legacyBooleans);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, legacyBooleans(inner)]));
  }
  return value;
}

const LEGACY_OP = { add: 'Add', replace: 'Replace', remove: 'Remove' } as const;

/** The PatchOp request body for `operations` under `profile` (`put-only` never sends one). */
export function toPatchOpMessage(operations: PatchOperation[], profile: CompatibilityProfile): PatchOpMessage {
  const legacy = profile === 'entra-2017';
  return {
    schemas: [SCIM_PATCH_OP_SCHEMA],
    Operations: operations.map((operation) => {
      const wire: WirePatchOperation = { op: legacy ? LEGACY_OP[operation.op] : operation.op };
      if (operation.path !== undefined) wire.path = operation.path;
      if (operation.value !== undefined) wire.value = legacy ? legacyBooleans(operation.value) : operation.value;
      return wire;
    }),
  };
}

// ---- local application (RFC 7644 §3.5.2) ----

type Json = Record<string, unknown>;

interface ParsedPath {
  /** Schema URN holding the attribute, when the path was URN-qualified with an extension. */
  schema?: string;
  attribute: string;
  filter?: { attribute: string; value: string | number | boolean | null };
  subAttribute?: string;
}

const CORE_SCHEMA_PREFIX = 'urn:ietf:params:scim:schemas:core:';

export function parsePatchPath(path: string): ParsedPath {
  let rest = path;
  let schema: string | undefined;
  if (/^urn:/i.test(path)) {
    // The attribute is after the last ':' that precedes any '[' (URNs contain ':' themselves).
    const bracket = path.indexOf('[');
    const head = bracket === -1 ? path : path.slice(0, bracket);
    const cut = head.lastIndexOf(':');
    schema = path.slice(0, cut);
    rest = path.slice(cut + 1);
    if (schema.toLowerCase().startsWith(CORE_SCHEMA_PREFIX)) schema = undefined;
  }
  const match = /^([^.[\]]+)(?:\[\s*([^\s\]]+)\s+eq\s+(.+?)\s*\])?(?:\.([^.[\]]+))?$/i.exec(rest);
  if (!match) throw new RangeError(`Unsupported PATCH path: ${path}`);
  const [, attribute, filterAttribute, filterLiteral, subAttribute] = match;
  const parsed: ParsedPath = { schema, attribute, subAttribute };
  if (filterAttribute !== undefined && filterLiteral !== undefined) {
    parsed.filter = {
      attribute: filterAttribute,
      value: JSON.parse(filterLiteral) as string | number | boolean | null,
    };
  }
  return parsed;
}

function findKey(object: Json, name: string): string {
  return Object.keys(object).find((key) => key.toLowerCase() === name.toLowerCase()) ?? name;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Multi-valued items are identified by `value` when they have one (members, emails …). */
function sameItem(a: unknown, b: unknown): boolean {
  if (a && b && typeof a === 'object' && typeof b === 'object' && 'value' in a && 'value' in b) {
    return sameValue((a as Json).value, (b as Json).value);
  }
  return sameValue(a, b);
}

function matchesFilter(item: unknown, filter: NonNullable<ParsedPath['filter']>): boolean {
  if (!item || typeof item !== 'object') return false;
  const actual = (item as Json)[findKey(item as Json, filter.attribute)];
  if (typeof actual === 'string' && typeof filter.value === 'string')
    return actual.toLowerCase() === filter.value.toLowerCase();
  return actual === filter.value;
}

function containerFor(resource: ScimResource, schema: string | undefined, create: boolean): Json | undefined {
  if (!schema) return resource;
  const key = findKey(resource, schema);
  const existing = resource[key];
  if (existing && typeof existing === 'object') return existing as Json;
  if (!create) return undefined;
  const created: Json = {};
  resource[key] = created;
  if (!resource.schemas.includes(schema)) resource.schemas = [...resource.schemas, schema];
  return created;
}

function addValue(target: Json, key: string, value: unknown): void {
  const existing = target[key];
  if (Array.isArray(existing)) {
    const additions = Array.isArray(value) ? value : [value];
    target[key] = [...existing, ...additions.filter((item) => !existing.some((present) => sameItem(present, item)))];
  } else if (existing && typeof existing === 'object' && value && typeof value === 'object' && !Array.isArray(value)) {
    target[key] = { ...(existing as Json), ...(value as Json) };
  } else {
    target[key] = value;
  }
}

function applyWithoutPath(resource: ScimResource, operation: PatchOperation): void {
  if (operation.op === 'remove') throw new RangeError('A remove operation needs a path');
  if (!operation.value || typeof operation.value !== 'object' || Array.isArray(operation.value)) {
    throw new RangeError('A PATCH operation without path needs an object value');
  }
  for (const [key, value] of Object.entries(operation.value as Json)) {
    if (/^urn:/i.test(key) && value && typeof value === 'object' && !Array.isArray(value)) {
      if (!/:[^:]+:[^:]+$/.test(key) || key.toLowerCase().startsWith(CORE_SCHEMA_PREFIX)) continue;
      const container = containerFor(resource, key, true) as Json;
      for (const [inner, innerValue] of Object.entries(value as Json)) {
        applyOperation(container as ScimResource, { op: operation.op, path: inner, value: innerValue });
      }
      continue;
    }
    applyOperation(resource, { op: operation.op, path: key, value });
  }
}

function applyOperation(resource: ScimResource, operation: PatchOperation): void {
  if (operation.path === undefined || operation.path === '') {
    applyWithoutPath(resource, operation);
    return;
  }
  const path = parsePatchPath(operation.path);
  const container = containerFor(resource, path.schema, operation.op !== 'remove');
  if (!container) return;
  const key = findKey(container, path.attribute);

  if (path.filter) {
    const list = Array.isArray(container[key]) ? (container[key] as unknown[]) : [];
    const filter = path.filter;
    const hits = list.filter((item) => matchesFilter(item, filter));
    if (operation.op === 'remove') {
      if (path.subAttribute) {
        for (const hit of hits) delete (hit as Json)[findKey(hit as Json, path.subAttribute)];
      } else {
        container[key] = list.filter((item) => !hits.includes(item));
      }
      return;
    }
    if (hits.length === 0) {
      const created: Json = { [filter.attribute]: filter.value };
      if (path.subAttribute) created[path.subAttribute] = operation.value;
      else Object.assign(created, operation.value as Json);
      container[key] = [...list, created];
      return;
    }
    for (const hit of hits) {
      const item = hit as Json;
      if (path.subAttribute) item[findKey(item, path.subAttribute)] = operation.value;
      else Object.assign(item, operation.value as Json);
    }
    return;
  }

  if (path.subAttribute) {
    const parent = container[key] && typeof container[key] === 'object' ? (container[key] as Json) : undefined;
    if (operation.op === 'remove') {
      if (parent) delete parent[findKey(parent, path.subAttribute)];
      return;
    }
    const target = parent ?? {};
    container[key] = target;
    const subKey = findKey(target, path.subAttribute);
    if (operation.op === 'add') addValue(target, subKey, operation.value);
    else target[subKey] = operation.value;
    return;
  }

  if (operation.op === 'remove') {
    const existing = container[key];
    if (operation.value !== undefined && Array.isArray(existing)) {
      // Entra's shape: remove with a value array removes those items of a multi-valued attribute.
      const removals = Array.isArray(operation.value) ? operation.value : [operation.value];
      container[key] = existing.filter((item) => !removals.some((removal) => sameItem(item, removal)));
    } else {
      delete container[key];
    }
    return;
  }
  if (operation.op === 'add') addValue(container, key, operation.value);
  else container[key] = operation.value;
}

/** `resource` with `operations` applied, for PUT-only targets. Drops read-only `meta`. */
export function applyPatch(resource: ScimResource, operations: PatchOperation[]): ScimResource {
  const copy = structuredClone(resource);
  delete copy.meta;
  for (const operation of operations) applyOperation(copy, operation);
  return copy;
}
