// Target-type coercion: the value a mapping produced, turned into what the SCIM
// attribute's type expects. A value that cannot be coerced is an error for that attribute only.
import type { TargetType } from '../config/schema.ts';

export class CoercionError extends Error {}

function firstOf(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Coerces a non-empty value; Reference is resolved by the caller, so it only becomes a string id here. */
export function coerceValue(value: unknown, targetType: TargetType): unknown {
  const single = firstOf(value);
  switch (targetType) {
    case 'String':
    case 'Reference':
      if (typeof single === 'string') return single;
      if (typeof single === 'number' || typeof single === 'boolean' || typeof single === 'bigint')
        return String(single);
      if (single instanceof Date) return single.toISOString();
      throw new CoercionError(`cannot convert ${describe(single)} to ${targetType}`);
    case 'Boolean':
      if (typeof single === 'boolean') return single;
      if (typeof single === 'string' && /^(true|false)$/i.test(single.trim()))
        return single.trim().toLowerCase() === 'true';
      if (single === 0 || single === 1) return single === 1;
      throw new CoercionError(`cannot convert ${describe(single)} to Boolean`);
    case 'Integer':
      if (typeof single === 'number' && Number.isInteger(single)) return single;
      if (typeof single === 'string' && /^\s*[-+]?\d+\s*$/.test(single)) return Number.parseInt(single, 10);
      if (typeof single === 'boolean') return single ? 1 : 0;
      throw new CoercionError(`cannot convert ${describe(single)} to Integer`);
    case 'DateTime': {
      const date =
        single instanceof Date
          ? single
          : typeof single === 'string' || typeof single === 'number'
            ? new Date(single)
            : null;
      if (date === null || Number.isNaN(date.getTime()))
        throw new CoercionError(`cannot convert ${describe(single)} to DateTime`);
      return date.toISOString();
    }
    case 'Binary':
      if (typeof single === 'string') return single;
      if (single instanceof Uint8Array) return toBase64(single);
      throw new CoercionError(`cannot convert ${describe(single)} to Binary`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
