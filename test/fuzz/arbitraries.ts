// Hostile inputs shared by the fuzz tests: strings no well-behaved client sends, values of the
// wrong type, JSON too deep or too large, and a generator of (nearly) valid values from a JSON
// schema of the OpenAPI document, so a new field or route is fuzzed without editing the tests.
import fc from 'fast-check';

/** Runs per property: small by default (the suite runs on busy CI machines), FERRY_FUZZ_RUNS raises it. */
export function fuzzRuns(defaultRuns: number): number {
  const raised = Number(process.env.FERRY_FUZZ_RUNS);
  return Number.isInteger(raised) && raised > 0 ? raised : defaultRuns;
}

/** Filter expressions an attacker hopes reach a SCIM filter or a query unescaped. */
export const SCIM_FILTER_INJECTIONS = [
  'userName eq "x" or 1 eq 1',
  'userName eq "x") or (userName pr',
  '") or true or ("',
  'x" or userName pr or "',
  'userName co ""',
  'members[value eq "x"].display',
  'emails[type eq "work" and value co "@"]',
  "' OR '1'='1' --",
  '1; DROP TABLE users; --',
  '$where: 1 == 1',
] as const;

/** Strings that break naive code: control characters, lone surrogates, odd unicode, injections. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDFFFy',
  '\uFEFF',
  '\u202Eevil',
  'e\u0301\u0301\u0301',
  '👩‍👩‍👧‍👦',
  '\r\n\r\nX-Injected: 1',
  '../../etc/passwd',
  '..\\..\\windows',
  '%2e%2e%2f',
  '%00',
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'toString',
  'null',
  'NaN',
  '-Infinity',
  '1e400',
  '0x1F',
  '-0',
  '9007199254740993',
  '2026-02-30T25:61:61Z',
  'x'.repeat(10_000),
  ...SCIM_FILTER_INJECTIONS,
] as const;

/** Any UTF-16 code unit, lone surrogates and NUL included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: codeUnit, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

/** JSON text of `depth` arrays nested in each other (JSON.stringify itself overflows its stack on these). */
export function deepArrayText(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** JSON text of `depth` objects nested in each other under key `a`. */
export function deepObjectText(depth: number): string {
  return '{"a":'.repeat(depth) + '{}' + '}'.repeat(depth);
}

const DEEP = 10_000;
/** Placeholders that `jsonText` replaces by 10 000 levels of nesting. */
const DEEP_MARKERS: Record<string, string> = {
  '\u0001deep-array\u0001': deepArrayText(DEEP),
  '\u0001deep-object\u0001': deepObjectText(DEEP),
};

/** JSON.stringify, with each deep-nesting placeholder string replaced by its deep JSON. */
export function jsonText(value: unknown): string {
  let text = JSON.stringify(value) ?? 'null';
  for (const [marker, deep] of Object.entries(DEEP_MARKERS)) text = text.replaceAll(JSON.stringify(marker), deep);
  return text;
}

/** Values of every JSON type (and then some), for a field that expects another. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 1, true, false, null, [], {}, [null], {
      '': null,
    }),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true }) },
  // A prototype-pollution attempt: an own property named __proto__ survives JSON.stringify.
  {
    weight: 1,
    arbitrary: fc.constant(JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {}}}')),
  },
  { weight: 1, arbitrary: fc.constantFrom(...Object.keys(DEEP_MARKERS)) },
);

export type JsonSchema = Record<string, unknown>;

/**
 * A value that conforms to `schema` as far as a generator reasonably can (patterns, formats and
 * cross-field rules are approximated); the API may still refuse it, which is fine: it must answer 4xx.
 */
export function fromSchema(
  schema: JsonSchema,
  components: Record<string, JsonSchema>,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (depth > 5) return fc.jsonValue({ maxDepth: 1 });
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = components[name];
    return target ? fromSchema(target, components, depth + 1) : fc.jsonValue({ maxDepth: 1 });
  }
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if ('const' in schema) return fc.constant(schema.const);
  const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (alternatives) return fc.oneof(...alternatives.map((s) => fromSchema(s, components, depth + 1)));
  if (Array.isArray(schema.allOf)) {
    const merged: JsonSchema = { type: 'object', properties: {}, required: [] };
    for (const part of schema.allOf as JsonSchema[]) {
      const resolved =
        typeof part.$ref === 'string' ? components[part.$ref.replace('#/components/schemas/', '')] : part;
      Object.assign(merged.properties as object, resolved?.properties ?? {});
      (merged.required as unknown[]).push(...((resolved?.required as unknown[]) ?? []));
    }
    return fromSchema(merged, components, depth + 1);
  }
  if (Array.isArray(schema.type)) {
    return fc.oneof(...schema.type.map((type) => fromSchema({ ...schema, type }, components, depth)));
  }
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : -1000;
      const max = typeof schema.maximum === 'number' ? schema.maximum : 100_000;
      return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
    }
    case 'number': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : -1000;
      const max = typeof schema.maximum === 'number' ? schema.maximum : 100_000;
      return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
    }
    case 'string':
      return stringFor(schema);
    case 'array': {
      const items = (schema.items as JsonSchema | undefined) ?? {};
      return fc.array(fromSchema(items, components, depth + 1), { maxLength: 3 });
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = (schema.required ?? []) as string[];
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, property] of Object.entries(properties))
        record[key] = fromSchema(property, components, depth + 1);
      if (Object.keys(record).length === 0)
        return fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
      return fc.record(record, { requiredKeys: required.filter((key) => key in record) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = Math.max(min, Math.min(typeof schema.maxLength === 'number' ? schema.maxLength : 40, 40));
  // Network addresses stay on this machine, on a closed port: a fuzzed app never reaches the internet.
  if (schema.format === 'uri')
    return fc.constantFrom('https://127.0.0.1:9/scim', 'http://127.0.0.1:9/scim/v2', 'https://localhost:9');
  if (schema.format === 'email') return fc.constantFrom('it@contoso.example', 'a@b.c');
  if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
  if (typeof schema.pattern === 'string') {
    return fc
      .stringMatching(new RegExp(schema.pattern))
      .map((s) => s.slice(0, max))
      .filter((s) => s.length >= min);
  }
  return fc.string({ minLength: min, maxLength: max });
}

type Path = string[];

/** Every path to a value inside `value` (the root included, as []). */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = [], budget = { left: 200 }): Path[] {
  out.push(prefix);
  if (--budget.left <= 0 || prefix.length > 8 || value === null || typeof value !== 'object') return out;
  for (const [key, child] of Object.entries(value)) {
    pathsOf(child, [...prefix, key], out, budget);
  }
  return out;
}

export type Mutation =
  | { kind: 'replace'; pick: number; value: unknown }
  | { kind: 'remove'; pick: number }
  | { kind: 'extra'; pick: number; key: string; value: unknown };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), value: wrongValue }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant('extra' as const),
    pick: fc.nat(),
    key: fc.oneof(nastyString, fc.constantFrom('__proto__', 'constructor', 'id', 'extra')),
    value: wrongValue,
  }),
);

/** `value` with each mutation applied at a path picked among its current paths. */
export function mutate(value: unknown, mutations: readonly Mutation[]): unknown {
  let root = structuredClone(value);
  for (const m of mutations) {
    // Generated values may be shared between runs (constants): insert copies.
    const inserted = 'value' in m ? structuredClone(m.value) : undefined;
    const paths = pathsOf(root);
    const path = paths[m.pick % paths.length];
    if (path.length === 0) {
      if (m.kind === 'replace') root = inserted;
      else if (m.kind === 'extra' && root !== null && typeof root === 'object') define(root, m.key, inserted);
      continue;
    }
    const parent = path
      .slice(0, -1)
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root) as Record<string, unknown>;
    const last = path[path.length - 1];
    if (m.kind === 'replace') define(parent, last, inserted);
    else if (m.kind === 'remove') {
      if (Array.isArray(parent) && /^\d+$/.test(last)) removeAt(parent, Number(last));
      else delete parent[last];
    } else {
      const target = parent[last];
      if (target !== null && typeof target === 'object') define(target as object, m.key, inserted);
    }
  }
  return root;
}

/** Array splice without `splice`, which a fuzzed own `constructor` property breaks. */
function removeAt(array: unknown[], index: number): void {
  for (let i = index; i < array.length - 1; i++) array[i] = array[i + 1];
  array.length -= 1;
}

/** Sets an own property even when its name is `__proto__`. */
function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
