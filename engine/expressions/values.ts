// How expression values convert between kinds. Values are what attributes hold: strings, numbers,
// booleans, null, arrays (multi-valued attributes), occasionally Dates or reference objects.
import { formatEntraDateTime } from './dates.ts';

/** Text of a single value; null stays null. Booleans read "True"/"False" as in Entra (.NET). */
export function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value instanceof Date) return formatEntraDateTime(value);
  if (Array.isArray(value)) return value.length === 0 ? null : value.map((v) => toText(v) ?? '').join(',');
  if (typeof value === 'object' && typeof (value as { value?: unknown }).value === 'string') {
    return (value as { value: string }).value;
  }
  return JSON.stringify(value);
}

/** Applies a text transform to a value, element-wise for multi-valued attributes; null stays null. */
export function mapText(value: unknown, transform: (text: string) => string | null): unknown {
  if (Array.isArray(value)) return value.map((v) => mapText(v, transform));
  const text = toText(value);
  return text === null ? null : transform(text);
}

export function isNullOrEmpty(value: unknown): boolean {
  return value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
}

/** A number from a number or numeric text; null when there is none. */
export function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return null;
    if (/^&h[0-9a-f]+$/i.test(trimmed)) return parseInt(trimmed.slice(2), 16);
    const n = Number(trimmed);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Truthiness for conditions: booleans, "True"/"False" text (any case), numbers (non-zero). */
export function toBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value !== 0;
  const text = toText(value);
  if (text === null) return null;
  const lower = text.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  const n = toNumber(lower);
  return n === null ? null : n !== 0;
}

/** Flattens multi-valued arguments into one list of values. */
export function flatten(values: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    if (Array.isArray(v)) out.push(...flatten(v));
    else out.push(v);
  }
  return out;
}
