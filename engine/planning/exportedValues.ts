// The values an export sent, kept in the link so the next update is computed from them: one PATCH,
// no GET of the target first. They cover the same paths as the link's hash (mapped paths minus
// create-only ones); redacted paths keep only a hash of their value.
import { canonicalJson, fnv1a64 } from '../hash.ts';
import type { MappingResult } from '../mapping/compileMappings.ts';
import { getScimValue, setScimValue } from '../mapping/scimPath.ts';
import type { ExportedValues, ScimResource } from '../types.ts';
import { cachedPath } from './diffResource.ts';

type Exported = Pick<MappingResult, 'resource' | 'managedPaths' | 'createOnlyPaths' | 'redactedPaths'>;

/** Stands for a redacted value that changed: differs from every value, so the diff sends the new one. */
const CHANGED_SECRET = '\u0000changed';

const valueHash = (value: unknown): string => fnv1a64(canonicalJson(value ?? null));

/** What to keep in the link after exporting `result`. */
export function exportedValues(result: Exported): ExportedValues {
  const values: Record<string, unknown> = {};
  const hashes: Record<string, string> = {};
  for (const path of result.managedPaths) {
    if (result.createOnlyPaths.includes(path)) continue;
    const value = getScimValue(result.resource, cachedPath(path)) ?? null;
    if (result.redactedPaths.includes(path)) hashes[path] = valueHash(value);
    else values[path] = value;
  }
  return Object.keys(hashes).length > 0 ? { values, hashes } : { values };
}

/**
 * The account as Ferry last left it, as far as the mapped paths go, to diff `desired` against. A
 * redacted path holds the desired value when its hash is unchanged, else a value that differs from it.
 * `active: false` when the link says the account was disabled (a disable leaves the values as they were).
 */
export function lastExportedResource(exported: ExportedValues, desired: Exported, active: boolean): ScimResource {
  const resource: ScimResource = { schemas: [] };
  for (const [path, value] of Object.entries(exported.values)) {
    if (value !== null) setScimValue(resource, cachedPath(path), value);
  }
  for (const [path, hash] of Object.entries(exported.hashes ?? {})) {
    const wanted = getScimValue(desired.resource, cachedPath(path)) ?? null;
    if (hash === valueHash(wanted)) {
      if (wanted !== null) setScimValue(resource, cachedPath(path), wanted);
    } else if (hash !== valueHash(null)) {
      setScimValue(resource, cachedPath(path), CHANGED_SECRET);
    }
    // Else it was empty and now is set: left out, so the diff adds it.
  }
  if (!active) resource.active = false;
  return resource;
}

/** A group link's hash covers its resource and its member set, `resource|members`; a user's is all resource. */
export function splitLinkHash(
  objectType: 'user' | 'group',
  hash: string | null,
): { resource: string | null; members: string | null } {
  if (objectType !== 'group' || hash === null) return { resource: hash, members: null };
  const at = hash.indexOf('|');
  return at < 0 ? { resource: hash, members: null } : { resource: hash.slice(0, at), members: hash.slice(at + 1) };
}
