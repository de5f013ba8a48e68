// The function table: name, argument counts and behaviour of every Entra expression function.
//
// Null semantics (Entra's where documented, otherwise the choice written here):
// - text functions (Append, ToLower, ToUpper, StripSpaces, NormalizeDiacritics, PCase, Mid,
//   Replace, ConvertTo*, Split, CDate, CStr, date functions) return null for a null source, so the
//   mapping's `default` applies; Left and Word return "" for null, as Entra documents;
// - text functions apply element-wise to multi-valued attributes;
// - Join skips null and "" values (Entra's `Join(", ", "", [surname], [givenName])` gives
//   "Doe, John") and returns null when nothing is left;
// - Coalesce returns the first value that is not null (an empty multi-value counts as null);
// - conditions (IIF, Not, CBool) read booleans, "True"/"False" in any case and numbers; a null
//   condition is false (Entra fails the check instead);
// - IgnoreFlowIfNullOrEmpty yields IGNORE_FLOW, and any function given IGNORE_FLOW passes it on.
import { DEFAULT_ACCESS_ROLE } from '../types.ts';
import type { ExpressionNode } from './ast.ts';
import {
  addInterval,
  diffInterval,
  formatEntraDateTime,
  formatWithFormat,
  fromFileTime,
  isDateInterval,
  parseDateTime,
  parseWithFormat,
  toFileTime,
  type DateInterval,
} from './dates.ts';
import { compilePattern, hasNamedGroup, MAX_REGEX_INPUT_LENGTH, type Pattern, translateReplacement } from './regex.ts';
import { base64, normalizeDiacritics, properCase, randomString, utf16le, utf8Hex, words } from './text.ts';
import { IGNORE_FLOW, type ExpressionEnv } from './types.ts';
import { flatten, isNullOrEmpty, mapText, toBoolean, toNumber, toText } from './values.ts';

export type Fail = (message: string) => never;
export type Evaluator = (env: ExpressionEnv) => unknown;

interface BaseSpec {
  /** Canonical spelling, used in messages. */
  name: string;
  min: number;
  max: number;
  /** Compile-time checks beyond the count, e.g. literal arguments; throw via `fail(message, node)`. */
  check?: (args: ExpressionNode[], fail: (message: string, node: ExpressionNode) => never) => void;
}
interface EagerSpec extends BaseSpec {
  lazy?: false;
  /** `present[i]` is false when argument i was left empty in the source (Replace's modes depend on it). */
  call: (args: unknown[], env: ExpressionEnv, fail: Fail, present: readonly boolean[]) => unknown;
}
/** Lazy functions get evaluators, so untaken branches (and their Guid/RandomString) never run. */
interface LazySpec extends BaseSpec {
  lazy: true;
  call: (args: Evaluator[], env: ExpressionEnv, fail: Fail) => unknown;
}
export type FunctionSpec = EagerSpec | LazySpec;

const MANY = Number.POSITIVE_INFINITY;

// ---- helpers ----

function integerArg(value: unknown, what: string, fail: Fail): number {
  const n = toNumber(value);
  if (n === null || !Number.isInteger(n)) fail(`${what} must be a whole number, got ${JSON.stringify(value ?? null)}`);
  return n as number;
}

function dateArg(value: unknown, what: string, fail: Fail): Date | null {
  if (value === null || value === undefined) return null;
  const date = parseDateTime(typeof value === 'string' ? value : (toText(value) ?? undefined));
  if (!date) fail(`${what} is not a date/time: ${JSON.stringify(value)}`);
  return date;
}

function intervalArg(value: unknown, fail: Fail): DateInterval {
  const text = (toText(value) ?? '').toLowerCase();
  if (!isDateInterval(text))
    fail(`interval must be one of yyyy, m, d, ww, h, n, s; got ${JSON.stringify(value ?? null)}`);
  return text as DateInterval;
}

const literalText = (node: ExpressionNode | undefined): string | null =>
  node?.kind === 'literal' && typeof node.value === 'string' ? node.value : null;

const patternCache = new Map<string, Pattern | string>();
function cachedPattern(pattern: string): Pattern | string {
  let compiled = patternCache.get(pattern);
  if (compiled === undefined) {
    compiled = compilePattern(pattern);
    if (patternCache.size > 500) patternCache.clear();
    patternCache.set(pattern, compiled);
  }
  return compiled;
}

function regexArg(pattern: string, fail: Fail): Pattern {
  const compiled = cachedPattern(pattern);
  if (typeof compiled === 'string') fail(`invalid regexPattern ${JSON.stringify(pattern)}: ${compiled}`);
  return compiled as Pattern;
}

function checkRegexInput(text: string, fail: Fail): string {
  if (text.length > MAX_REGEX_INPUT_LENGTH) fail(`text longer than ${MAX_REGEX_INPUT_LENGTH} characters for a regex`);
  return text;
}

function roles(arg: unknown, env: ExpressionEnv): string[] {
  const assignments = env.appRoleAssignments ?? (Array.isArray(arg) ? (arg as { role?: unknown }[]) : []);
  const out: string[] = [];
  for (const a of assignments) {
    const role = typeof a === 'string' ? a : a?.role;
    if (typeof role === 'string' && role !== DEFAULT_ACCESS_ROLE && !out.includes(role)) out.push(role);
  }
  return out;
}

function compare(a: unknown, b: unknown): boolean {
  return (toText(a) ?? '') === (toText(b) ?? '');
}

/** Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, template) */
function replace(args: unknown[], fail: Fail, present: readonly boolean[]): unknown {
  const [source, oldValueArg, patternArg, groupArg, replacementArg, replacementAttribute, templateArg] = args;
  const oldValue = toText(oldValueArg);
  const pattern = toText(patternArg);
  const group = toText(groupArg);
  const replacement = toText(replacementArg);
  const template = toText(templateArg);

  if (present[1]) {
    if (oldValue === null || oldValue === '') return source;
    if (present[6]) return template === null ? null : mapText(source, (s) => template.split(oldValue).join(s));
    return mapText(source, (s) => s.split(oldValue).join(replacement ?? ''));
  }
  if (pattern === null || pattern === '') return source;
  const regex = regexArg(pattern, fail);

  if (present[3] && !present[4] && present[5]) {
    // Fallback mode: keep the source when it has a value, else extract the group from the other attribute.
    if (!isNullOrEmpty(source)) return source;
    const other = toText(replacementAttribute);
    if (other === null) return null;
    if (group === null || !hasNamedGroup(regex, group)) return null;
    const matcher = regex.matcher(checkRegexInput(other, fail));
    while (matcher.find()) {
      const value = matcher.group(group);
      if (value !== null) return value;
    }
    return null;
  }
  if (group !== null && group !== '') {
    if (!hasNamedGroup(regex, group)) fail(`regexGroupName '${group}' is not a group of the pattern`);
    return mapText(source, (s) => {
      let out = '';
      let last = 0;
      const matcher = regex.matcher(checkRegexInput(s, fail));
      while (matcher.find()) {
        const start = matcher.start(group);
        if (start < 0) continue;
        out += s.slice(last, start) + (replacement ?? '');
        last = matcher.end(group);
      }
      return out + s.slice(last);
    });
  }
  const jsReplacement = translateReplacement(replacement ?? '');
  return mapText(source, (s) => regex.matcher(checkRegexInput(s, fail)).replaceAll(jsReplacement));
}

function formatDateTime(args: unknown[], fail: Fail): unknown {
  // FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat); the 3-argument form omits the styles.
  const [source, inputFormatArg, outputFormatArg] = args.length === 4 ? [args[0], args[2], args[3]] : args;
  const inputFormat = toText(inputFormatArg);
  const outputFormat = toText(outputFormatArg);
  if (!inputFormat || !outputFormat) fail('inputFormat and outputFormat are required');
  return mapText(source, (s) => {
    const parts = parseWithFormat(s, inputFormat as string);
    if (!parts) fail(`${JSON.stringify(s)} does not match the input format ${JSON.stringify(inputFormat)}`);
    return formatWithFormat(parts!, outputFormat as string);
  });
}

// ---- the table ----

const SPECS: FunctionSpec[] = [
  {
    name: 'Append',
    min: 2,
    max: 2,
    call: ([source, suffix]) => mapText(source, (s) => s + (toText(suffix) ?? '')),
  },
  {
    name: 'AppRoleAssignmentsComplex',
    min: 1,
    max: 1,
    call: ([arg], env) =>
      roles(arg, env).map((role) => ({
        primary: false,
        type: 'WindowsAzureActiveDirectoryRole',
        display: role,
        value: role,
      })),
  },
  {
    name: 'BitAnd',
    min: 2,
    max: 2,
    call: ([a, b], _env, fail) => {
      if (a === null || a === undefined || b === null || b === undefined) return null;
      const x = integerArg(a, 'value1', fail);
      const y = integerArg(b, 'value2', fail);
      return Number(BigInt(x) & BigInt(y));
    },
  },
  {
    name: 'CBool',
    min: 1,
    max: 1,
    call: ([value], _env, fail) => {
      if (value === null || value === undefined) return false;
      const b = toBoolean(value);
      if (b === null) fail(`cannot convert ${JSON.stringify(value)} to a boolean`);
      return b;
    },
  },
  {
    name: 'CDate',
    min: 1,
    max: 1,
    call: ([value], _env, fail) => {
      const date = dateArg(value, 'expression', fail);
      return date && formatEntraDateTime(date);
    },
  },
  {
    name: 'Coalesce',
    min: 1,
    max: MANY,
    lazy: true,
    call: (args, env) => {
      for (const arg of args) {
        const value = arg(env);
        if (value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0)) return value;
      }
      return null;
    },
  },
  { name: 'ConvertToBase64', min: 1, max: 1, call: ([s]) => mapText(s, (t) => base64(utf16le(t))) },
  { name: 'ConvertToUTF8Hex', min: 1, max: 1, call: ([s]) => mapText(s, utf8Hex) },
  {
    name: 'Count',
    min: 1,
    max: 1,
    call: ([value]) => (Array.isArray(value) ? value.length : value === null || value === undefined ? 0 : 1),
  },
  { name: 'CStr', min: 1, max: 1, call: ([value]) => toText(value) },
  {
    name: 'DateAdd',
    min: 3,
    max: 3,
    check: ([interval], fail) => {
      const text = literalText(interval);
      if (text !== null && !isDateInterval(text.toLowerCase()))
        fail(`DateAdd: unknown interval "${text}" (use yyyy, m, d, ww, h, n or s)`, interval);
    },
    call: ([intervalValue, amount, dateTime], _env, fail) => {
      const interval = intervalArg(intervalValue, fail);
      const date = dateArg(dateTime, 'dateTime', fail);
      if (!date) return null;
      const n = toNumber(amount);
      if (n === null) fail(`value must be a number, got ${JSON.stringify(amount ?? null)}`);
      return formatEntraDateTime(addInterval(date, interval, n as number));
    },
  },
  {
    name: 'DateDiff',
    min: 3,
    max: 3,
    check: ([interval], fail) => {
      const text = literalText(interval);
      if (text !== null && !isDateInterval(text.toLowerCase()))
        fail(`DateDiff: unknown interval "${text}" (use yyyy, m, d, ww, h, n or s)`, interval);
    },
    call: ([intervalValue, a, b], _env, fail) => {
      const interval = intervalArg(intervalValue, fail);
      const date1 = dateArg(a, 'date1', fail);
      const date2 = dateArg(b, 'date2', fail);
      return date1 && date2 ? diffInterval(interval, date1, date2) : null;
    },
  },
  {
    name: 'DateFromNum',
    min: 1,
    max: 1,
    call: ([value], _env, fail) => {
      if (value === null || value === undefined || value === '') return null;
      const n = toNumber(value);
      if (n === null) fail(`value must be an Active Directory date number, got ${JSON.stringify(value)}`);
      return formatEntraDateTime(fromFileTime(n as number));
    },
  },
  { name: 'FormatDateTime', min: 3, max: 4, call: (args, _env, fail) => formatDateTime(args, fail) },
  { name: 'Guid', min: 0, max: 0, call: (_args, env) => env.guid() },
  {
    name: 'IgnoreFlowIfNullOrEmpty',
    min: 1,
    max: 1,
    call: ([value]) => (isNullOrEmpty(value) ? IGNORE_FLOW : value),
  },
  {
    name: 'IIF',
    min: 3,
    max: 3,
    lazy: true,
    call: ([condition, ifTrue, ifFalse], env, fail) => {
      const value = condition(env);
      if (value === IGNORE_FLOW) return IGNORE_FLOW;
      const b = value === null || value === undefined ? false : toBoolean(value);
      if (b === null) fail(`condition must be true or false, got ${JSON.stringify(value)}`);
      return b ? ifTrue(env) : ifFalse(env);
    },
  },
  {
    name: 'InStr',
    min: 2,
    max: 4,
    call: ([haystackValue, needleValue, startValue, compareType], _env, fail) => {
      const haystack = toText(haystackValue);
      const needle = toText(needleValue);
      if (haystack === null || needle === null) return null;
      const start = startValue === null || startValue === undefined ? 1 : integerArg(startValue, 'start', fail);
      if (start < 1) fail(`start must be 1 or more, got ${start}`);
      const textCompare = compareType === 'vbTextCompare' || compareType === 1 || compareType === '1';
      const h = textCompare ? haystack.toLowerCase() : haystack;
      const n = textCompare ? needle.toLowerCase() : needle;
      return h.indexOf(n, start - 1) + 1;
    },
  },
  { name: 'IsNull', min: 1, max: 1, call: ([value]) => value === null || value === undefined },
  { name: 'IsNullOrEmpty', min: 1, max: 1, call: ([value]) => isNullOrEmpty(value) },
  { name: 'IsPresent', min: 1, max: 1, call: ([value]) => !isNullOrEmpty(value) },
  { name: 'IsString', min: 1, max: 1, call: ([value]) => typeof value === 'string' },
  {
    name: 'Item',
    min: 2,
    max: 2,
    call: ([values, indexValue], _env, fail) => {
      const index = integerArg(indexValue, 'index', fail);
      if (values === null || values === undefined) return null;
      const list = Array.isArray(values) ? values : [values];
      return index >= 1 && index <= list.length ? (list[index - 1] ?? null) : null;
    },
  },
  {
    name: 'Join',
    min: 2,
    max: MANY,
    call: ([separator, ...sources]) => {
      const parts = flatten(sources)
        .map(toText)
        .filter((t): t is string => t !== null && t !== '');
      return parts.length === 0 ? null : parts.join(toText(separator) ?? '');
    },
  },
  {
    name: 'Left',
    min: 2,
    max: 2,
    call: ([value, countValue], _env, fail) => {
      const count = integerArg(countValue, 'NumChars', fail);
      if (value === null || value === undefined) return '';
      return mapText(value, (s) => (count < 0 ? s : Array.from(s).slice(0, count).join('')));
    },
  },
  {
    name: 'Mid',
    min: 3,
    max: 3,
    call: ([value, startValue, lengthValue], _env, fail) => {
      const start = integerArg(startValue, 'start', fail);
      const length = integerArg(lengthValue, 'length', fail);
      if (start < 1) fail(`start must be 1 or more, got ${start}`);
      if (length < 0) fail(`length must be 0 or more, got ${length}`);
      return mapText(value, (s) =>
        Array.from(s)
          .slice(start - 1, start - 1 + length)
          .join(''),
      );
    },
  },
  { name: 'NormalizeDiacritics', min: 1, max: 1, call: ([s]) => mapText(s, normalizeDiacritics) },
  {
    name: 'Not',
    min: 1,
    max: 1,
    call: ([value], _env, fail) => {
      if (value === null || value === undefined) return true;
      const b = toBoolean(value);
      if (b === null) fail(`source must be true or false, got ${JSON.stringify(value)}`);
      return !b;
    },
  },
  { name: 'Now', min: 0, max: 0, call: (_args, env) => formatEntraDateTime(env.now()) },
  {
    name: 'NumFromDate',
    min: 1,
    max: 1,
    call: ([value], _env, fail) => {
      const date = dateArg(value, 'value', fail);
      return date && toFileTime(date);
    },
  },
  {
    name: 'PCase',
    min: 1,
    max: 2,
    call: ([value, separators]) => mapText(value, (s) => properCase(s, toText(separators))),
  },
  {
    name: 'RandomString',
    min: 5,
    max: 6,
    call: ([length, minNumbers, minSpecial, minCapital, minLower, avoid], env, fail) => {
      const result = randomString(
        {
          length: integerArg(length, 'Length', fail),
          minNumbers: integerArg(minNumbers, 'MinimumNumbers', fail),
          minSpecial: integerArg(minSpecial, 'MinimumSpecialCharacters', fail),
          minCapital: integerArg(minCapital, 'MinimumCapital', fail),
          minLower: integerArg(minLower, 'MinimumLowerCase', fail),
          avoid: toText(avoid) ?? '',
        },
        env.random,
      );
      if ('error' in result) fail(result.error);
      return (result as { value: string }).value;
    },
  },
  { name: 'Redact', min: 1, max: 1, call: ([value]) => value },
  {
    name: 'RemoveDuplicates',
    min: 1,
    max: 1,
    call: ([value]) => {
      if (!Array.isArray(value)) return value ?? null;
      const seen = new Set<string>();
      return value.filter((v) => {
        const key = typeof v === 'string' ? `s:${v}` : `j:${JSON.stringify(v)}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    },
  },
  {
    name: 'Replace',
    min: 7,
    max: 7,
    check: ([, , pattern], fail) => {
      const text = literalText(pattern);
      if (text === null || text === '') return;
      const compiled = cachedPattern(text);
      if (typeof compiled === 'string') fail(`Replace: invalid regexPattern: ${compiled}`, pattern);
    },
    call: (args, _env, fail, present) => replace(args, fail, present),
  },
  {
    name: 'SelectUniqueValue',
    min: 2,
    max: MANY,
    lazy: true,
    call: (rules, env, fail) => {
      const tried: string[] = [];
      for (const rule of rules) {
        const value = rule(env);
        if (value === IGNORE_FLOW || isNullOrEmpty(value)) continue;
        const text = toText(value) as string;
        if (env.isUnique?.(text) ?? true) return text;
        tried.push(text);
      }
      return fail(
        `no unique value: every candidate is taken in the target (${tried.map((t) => JSON.stringify(t)).join(', ')})`,
      );
    },
  },
  {
    name: 'SingleAppRoleAssignment',
    min: 1,
    max: 1,
    // Entra does not define which role wins when there are several; we take the first in the given order.
    call: ([arg], env) => roles(arg, env)[0] ?? null,
  },
  {
    name: 'Split',
    min: 2,
    max: 2,
    call: ([value, delimiterValue]) => {
      if (value === null || value === undefined) return null;
      const delimiter = toText(delimiterValue) ?? '';
      const texts = flatten([value])
        .map(toText)
        .filter((t): t is string => t !== null);
      return texts.flatMap((t) => (delimiter === '' ? [t] : t.split(delimiter)));
    },
  },
  { name: 'StripSpaces', min: 1, max: 1, call: ([s]) => mapText(s, (t) => t.split(' ').join('')) },
  {
    name: 'Switch',
    min: 4,
    max: MANY,
    lazy: true,
    check: (args, fail) => {
      if (args.length % 2 !== 0) {
        fail(
          `Switch expects source, defaultValue, then key/value pairs: got ${args.length} arguments (an odd count)`,
          args[args.length - 1],
        );
      }
    },
    call: ([source, defaultValue, ...pairs], env) => {
      const value = source(env);
      if (value === IGNORE_FLOW) return IGNORE_FLOW;
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        if (compare(value, pairs[i](env))) return pairs[i + 1](env);
      }
      return defaultValue(env);
    },
  },
  {
    name: 'ToLower',
    min: 1,
    max: 2,
    call: ([value, culture], _env, fail) => {
      const locale = toText(culture);
      return mapText(value, (s) =>
        locale ? withLocale(() => s.toLocaleLowerCase(locale), locale, fail) : s.toLowerCase(),
      );
    },
  },
  {
    name: 'ToUpper',
    min: 1,
    max: 2,
    call: ([value, culture], _env, fail) => {
      const locale = toText(culture);
      return mapText(value, (s) =>
        locale ? withLocale(() => s.toLocaleUpperCase(locale), locale, fail) : s.toUpperCase(),
      );
    },
  },
  {
    name: 'Word',
    min: 3,
    max: 3,
    call: ([value, numberValue, delimiters], _env, fail) => {
      const n = integerArg(numberValue, 'WordNumber', fail);
      const text = toText(value);
      if (text === null || n < 1) return '';
      return words(text, toText(delimiters) ?? '')[n - 1] ?? '';
    },
  },
];

function withLocale(convert: () => string, locale: string, fail: Fail): string {
  try {
    return convert();
  } catch {
    return fail(`unknown culture ${JSON.stringify(locale)}`);
  }
}

/** Functions by lower-case name: Entra's names are matched case-insensitively. */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(
  SPECS.map((spec) => [spec.name.toLowerCase(), spec]),
);

export const FUNCTION_NAMES: readonly string[] = SPECS.map((spec) => spec.name);
