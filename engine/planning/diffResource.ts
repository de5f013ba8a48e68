// The minimal RFC 7644 PATCH that turns the current target resource into the desired one, for the
// mapped paths only (attributes Ferry does not map are never touched). Lowercase `op`; value-filter
// paths for multi-valued attributes; extension attributes by their full URN path.
import {
  findFilteredElement,
  formatAttributePath,
  formatScimPath,
  getScimValue,
  parseScimPath,
  type ScimPath,
} from '../mapping/scimPath.ts';
import type { ModifiedAttribute, PatchOperation, ScimResource } from '../types.ts';

export interface ResourceDiff {
  operations: PatchOperation[];
  modifiedAttributes: ModifiedAttribute[];
}

const pathCache = new Map<string, ScimPath>();

/** Parsed paths are reused across objects: a cycle diffs the same few paths many times. */
export function cachedPath(path: string): ScimPath {
  let parsed = pathCache.get(path);
  if (!parsed) {
    parsed = parseScimPath(path);
    // Bounded like the expression pattern cache: paths come from mappings, but a process may see many apps.
    if (pathCache.size >= 1000) pathCache.clear();
    pathCache.set(path, parsed);
  }
  return parsed;
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Equal as JSON values; a reference `{ value }` equals any target object with that `value`. */
export function sameValue(current: unknown, desired: unknown): boolean {
  if (isEmpty(current) && isEmpty(desired)) return true;
  if (current === desired) return true;
  if (isRecord(desired) && Object.keys(desired).length === 1 && 'value' in desired) {
    return isRecord(current) ? current.value === desired.value : current === desired.value;
  }
  if (typeof current !== 'object' || typeof desired !== 'object' || current === null || desired === null) return false;
  if (Array.isArray(current) !== Array.isArray(desired)) return false;
  if (Array.isArray(current) && Array.isArray(desired)) {
    return current.length === desired.length && current.every((v, i) => sameValue(v, desired[i]));
  }
  const a = current as Record<string, unknown>;
  const b = desired as Record<string, unknown>;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (!sameValue(a[key], b[key])) return false;
  return true;
}

interface PendingElement {
  attributePath: string;
  element: Record<string, unknown>;
}

export function diffResource(current: ScimResource, desired: ScimResource, paths: readonly string[]): ResourceDiff {
  const operations: PatchOperation[] = [];
  const modifiedAttributes: ModifiedAttribute[] = [];
  // New elements of multi-valued attributes, one `add` each with all their mapped sub-attributes.
  const pending = new Map<string, PendingElement>();

  for (const name of paths) {
    const path = cachedPath(name);
    const oldValue = getScimValue(current, path);
    const newValue = getScimValue(desired, path);
    if (sameValue(oldValue, newValue)) continue;
    modifiedAttributes.push({ name, oldValue: oldValue ?? null, newValue: newValue ?? null });
    if (isEmpty(newValue)) {
      operations.push({ op: 'remove', path: formatScimPath(path) });
    } else if (path.filter && path.subAttribute) {
      if (findFilteredElement(current, path)) {
        operations.push({ op: 'replace', path: formatScimPath(path), value: newValue });
      } else {
        const attributePath = formatAttributePath(path);
        const key = `${attributePath}\u0000${path.filter.attribute.toLowerCase()}\u0000${path.filter.value.toLowerCase()}`;
        let entry = pending.get(key);
        if (!entry) {
          entry = { attributePath, element: { [path.filter.attribute]: path.filter.value } };
          pending.set(key, entry);
          operations.push({ op: 'add', path: attributePath, value: [entry.element] });
        }
        entry.element[path.subAttribute] = newValue;
      }
    } else {
      operations.push({ op: isEmpty(oldValue) ? 'add' : 'replace', path: formatScimPath(path), value: newValue });
    }
  }
  return { operations, modifiedAttributes };
}
