// A SCIM PATCH request (RFC 7644 §3.5.2) made ready for scim-patch, which applies it: the body is
// checked and the known quirks of identity providers are smoothed — Entra ID capitalises `op`,
// sends booleans as "True"/"False", removes a member with a filter path, replaces several attributes in one path-less operation whose
// keys are paths (`name.givenName`, `urn:…:enterprise:2.0:User:department`), and gives a manager
// as a bare id.
import type { ScimPatchOperation } from 'scim-patch';
import { ScimInputError } from './scim-resources.ts';

const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const OPS = new Set(['add', 'remove', 'replace']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The last name of a path: `active`, `urn:…:User:manager` → `manager`, `name.givenName` → `givenName`. */
const leaf = (path: string) => path.split(/[.:]/).at(-1)!.toLowerCase();

function smooth(path: string, value: unknown): unknown {
  const name = leaf(path);
  if (name === 'active' && typeof value === 'string' && /^(true|false)$/i.test(value)) {
    return value.toLowerCase() === 'true';
  }
  if (name === 'manager' && typeof value === 'string') return { value };
  if (isObject(value) && 'active' in value) return { ...value, active: smooth('active', value.active) };
  return value;
}

/**
 * The id in `members[value eq "<id>"]`, the way Entra ID removes one member. scim-patch reads a
 * `:` in a path as the start of a schema URN, and Ferry's ids hold one (`<sourceId>:<uuid>`), so
 * this form is rewritten to its equivalent `remove members` with a value list.
 */
function memberFilter(path: string): string | null {
  const match = /^members\[\s*value\s+eq\s+"((?:[^"\\]|\\.)*)"\s*\]$/i.exec(path);
  return match ? (JSON.parse(`"${match[1]}"`) as string) : null;
}

/** Members to remove, as `{ value }` only: the group is patched with its members in that form. */
function memberValues(path: string, value: unknown): unknown {
  if (path.toLowerCase() !== 'members' || !Array.isArray(value)) return value;
  return value.map((m: unknown) => (isObject(m) ? { value: m.value } : m));
}

/** The operations of a PATCH body, normalised; a malformed body is a 400 `invalidSyntax`. */
export function patchOperations(body: unknown): ScimPatchOperation[] {
  if (!isObject(body) || !Array.isArray(body.Operations)) {
    throw new ScimInputError('a PATCH body needs an Operations list', 'invalidSyntax');
  }
  if (Array.isArray(body.schemas) && !body.schemas.includes(PATCH_SCHEMA)) {
    throw new ScimInputError(`a PATCH body's schemas must include ${PATCH_SCHEMA}`, 'invalidSyntax');
  }
  const out: ScimPatchOperation[] = [];
  body.Operations.forEach((raw: unknown, index: number) => {
    if (!isObject(raw) || typeof raw.op !== 'string' || !OPS.has(raw.op.toLowerCase())) {
      throw new ScimInputError(`Operations[${index}].op must be add, remove or replace`, 'invalidSyntax');
    }
    const op = raw.op.toLowerCase() as 'add' | 'remove' | 'replace';
    const path = typeof raw.path === 'string' && raw.path !== '' ? raw.path : undefined;
    if (op === 'remove') {
      if (!path) throw new ScimInputError(`Operations[${index}]: remove needs a path`, 'noTarget');
      const member = memberFilter(path);
      if (member !== null && raw.value === undefined) {
        out.push({ op, path: 'members', value: [{ value: member }] });
        return;
      }
      out.push(raw.value === undefined ? { op, path } : { op, path, value: memberValues(path, raw.value) });
      return;
    }
    if (raw.value === undefined) throw new ScimInputError(`Operations[${index}]: ${op} needs a value`, 'invalidSyntax');
    if (path) {
      out.push({ op, path, value: smooth(path, raw.value) });
      return;
    }
    if (!isObject(raw.value)) {
      throw new ScimInputError(`Operations[${index}]: without a path the value must be an object`, 'invalidSyntax');
    }
    // One operation per key: scim-patch then resolves dotted and URN-qualified keys as paths.
    for (const [key, value] of Object.entries(raw.value)) {
      if (isObject(value) && key.startsWith('urn:')) {
        for (const [sub, v] of Object.entries(value)) out.push({ op, path: `${key}:${sub}`, value: smooth(sub, v) });
      } else out.push({ op, path: key, value: smooth(key, value) });
    }
  });
  return out;
}
