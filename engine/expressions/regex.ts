// Regular expressions that admins write (scoping `REGEX MATCH`, the expression language's Replace)
// run on RE2 (re2js): matching takes time linear in the input whatever the pattern, so no pattern
// saved in an app can stall a cycle. RE2 reads the syntax Entra's .NET patterns use in practice
// (classes, anchors, named groups `(?<name>…)`, inline options `(?i)`); what it cannot run in linear
// time — backreferences, lookaround — is refused when the app is saved, with RE2's reason.
import { RE2JS } from 're2js';

export type Pattern = RE2JS;

export const MAX_PATTERN_LENGTH = 1000;
/** Longest text a pattern is run on; directory attribute values are far shorter. */
export const MAX_REGEX_INPUT_LENGTH = 10_000;

/** Compiles a .NET-style pattern, or returns why it cannot be run. */
export function compilePattern(pattern: string): Pattern | string {
  if (pattern.length > MAX_PATTERN_LENGTH) return `pattern is longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    return RE2JS.compile(pattern);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `${message.replace(/^error parsing regexp: /, '')} (patterns run on a linear-time engine: no backreferences or lookaround)`;
  }
}

/** Whether `name` is a named group of the pattern. */
export function hasNamedGroup(pattern: Pattern, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(pattern.namedGroups(), name);
}

/** .NET replacement syntax `${name}` becomes `$<name>`; `$1`, `$$` and `$&` mean the same. */
export function translateReplacement(replacement: string): string {
  return replacement.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_m, name: string) =>
    /^\d+$/.test(name) ? `$${name}` : `$<${name}>`,
  );
}
