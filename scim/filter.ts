// SCIM filter building (RFC 7644 §3.4.2.2). Values are always sent as JSON strings, so escaping
// quotes and backslashes the JSON way is exactly what the grammar expects.

/** `"value"` with `\` and `"` (and control characters) escaped; non-ASCII is sent as is. */
export function quoteFilterValue(value: string): string {
  return JSON.stringify(value);
}

/** `attribute eq "value"`; booleans and numbers are sent as literals. */
export function eqFilter(attribute: string, value: string | number | boolean): string {
  if (!/^[A-Za-z0-9:._$-]+(\[[^\]]*\])?(\.[A-Za-z0-9_$-]+)?$/.test(attribute)) {
    throw new RangeError(`Not a SCIM attribute path: ${attribute}`);
  }
  const literal = typeof value === 'string' ? quoteFilterValue(value) : String(value);
  return `${attribute} eq ${literal}`;
}
