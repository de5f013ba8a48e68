// A small pure hash of a resource, so an unchanged object is skipped without a request. Two 32-bit
// FNV-1a lanes with different offsets give 64 bits: collisions between two versions of one object
// are negligible, and it stays fast in plain JS (no BigInt).

/** JSON with object keys sorted recursively, so equal resources give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) text += (i > 0 ? ',' : '') + canonicalJson(value[i]);
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let text = '{';
  let first = true;
  for (const key of keys) {
    if (record[key] === undefined) continue;
    text += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(record[key])}`;
    first = false;
  }
  return `${text}}`;
}

export function fnv1a64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x01000193);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** Stable hash of any JSON value: independent of key order. */
export function hashResource(value: unknown): string {
  return fnv1a64(canonicalJson(value));
}
