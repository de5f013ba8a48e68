// Replace's regular expressions are written for .NET; JS RegExp reads the common subset the same
// way (named groups `(?<name>…)`, classes, anchors). We translate the few differences and refuse
// patterns that are obviously catastrophic (nested quantifiers) instead of running them.

export const MAX_PATTERN_LENGTH = 1000;
/** Longest text a pattern is run on; directory attribute values are far shorter. */
export const MAX_REGEX_INPUT_LENGTH = 10_000;

/** A quantified group whose body is itself quantified, e.g. (a+)+, (\w*)*, (x+){2,}. */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,?\d*\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/;
/** A quantified group with alternatives that can match the same text, e.g. (a|a)*. */
const QUANTIFIED_ALTERNATION = /\((?:[^()\\]|\\.)*\|(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/;

/** Compiles a .NET-style pattern to a global JS RegExp, or returns why it cannot. */
export function compilePattern(pattern: string): RegExp | string {
  if (pattern.length > MAX_PATTERN_LENGTH) return `pattern is longer than ${MAX_PATTERN_LENGTH} characters`;
  if (NESTED_QUANTIFIER.test(pattern) || QUANTIFIED_ALTERNATION.test(pattern)) {
    return 'pattern has nested or overlapping quantifiers that can take exponential time';
  }
  let flags = 'gdu';
  let body = pattern;
  // .NET inline options at the start, e.g. (?i): JS takes them as flags.
  const inline = /^\(\?([imsx]+)\)/.exec(body);
  if (inline) {
    if (inline[1].includes('x')) return 'inline option x is not supported';
    flags += inline[1].replace(/[^ims]/g, '');
    body = body.slice(inline[0].length);
  }
  try {
    return new RegExp(body, flags);
  } catch {
    try {
      // Unicode mode is stricter (e.g. about needless escapes); .NET accepts those.
      return new RegExp(body, flags.replace('u', ''));
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
}

/** The same checks for a pattern that only tests (scoping filters): no global state between calls. */
export function compileTestPattern(pattern: string): RegExp | string {
  const compiled = compilePattern(pattern);
  return typeof compiled === 'string' ? compiled : new RegExp(compiled.source, compiled.flags.replace(/[gd]/g, ''));
}

/** .NET replacement syntax `${name}` becomes JS `$<name>`; `$1`, `$$` and `$&` mean the same. */
export function translateReplacement(replacement: string): string {
  return replacement.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_m, name: string) =>
    /^\d+$/.test(name) ? `$${name}` : `$<${name}>`,
  );
}
