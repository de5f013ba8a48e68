// The mapping expression language never fails with anything but its own errors, and never hangs:
// any text an admin saves either compiles or is refused with ExpressionSyntaxError (with a
// position inside the text), and a compiled expression evaluated on any object either gives a
// value or fails with ExpressionEvaluationError, which the mapping layer turns into the
// provisioning log's ExpressionError for that one object. Any other exception would fail a cycle.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ExpressionEvaluationError,
  ExpressionSyntaxError,
  FUNCTION_NAMES,
  compileExpression,
  type ExpressionEnv,
} from '../../engine/expressions/index.ts';
import { fuzzRuns, nastyString } from './arbitraries.ts';

const RUNS = fuzzRuns(400);
/** A bound on one compile + evaluation that only a hang or a runaway loop reaches (not a speed claim). */
const WITHIN_MS = 5_000;

const ATTRIBUTES = ['mail', 'displayName', 'accountEnabled', 'manager', 'proxyAddresses', 'extension_x', 'hireDate'];

/** Numbers that stress argument handling: negative, fractional, huge, not-a-number-ish. */
const NUMBERS = [
  '0',
  '-1',
  '1.5',
  '.5',
  '-.5',
  '1e3',
  '999999999',
  '2147483648',
  '1e308',
  '&HFF',
  '&H7FFFFFFF',
  '00',
  '99999999999999999999999',
];

/** Text literals with the escapes of the grammar and values functions parse (dates, regexes, intervals). */
const TEXTS = [
  '""',
  '"a"',
  '"\\""',
  '"\\\\"',
  '"yyyyMMddHHmmss.fZ"',
  '"M/d/yyyy h:mm:ss tt"',
  '"2026-02-30T00:00:00Z"',
  '"20260101000000.0Z"',
  '"d"',
  '"yyyy"',
  '"s"',
  '"(?<user>.*)@(?<domain>.*)"',
  '"(a+)+$"',
  '"(?=x)"',
  '"\\1"',
  '"["',
  '"${user}"',
  '"$1$2$$"',
  '","',
  '"true"',
  '"-1"',
];

const KEYWORDS = ['true', 'False', 'null', 'Nothing', 'vbTextCompare', 'vbBinaryCompare'];

const token = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FUNCTION_NAMES).map((name) => `${name}(`) },
  { weight: 4, arbitrary: fc.constantFrom('(', ')', ',', ', ', '[', ']', '"', '\\"', ' ', '\t', '\n') },
  { weight: 2, arbitrary: fc.constantFrom('=', '<>', '<', '<=', '>', '>=', '&H', '&', '-', '.') },
  { weight: 3, arbitrary: fc.constantFrom(...ATTRIBUTES).map((name) => `[${name}]`) },
  { weight: 2, arbitrary: fc.constantFrom(...NUMBERS, ...TEXTS, ...KEYWORDS) },
  { weight: 2, arbitrary: nastyString },
);

/** Text that mixes the grammar's tokens with anything at all. */
const looseSource = fc.array(token, { maxLength: 40 }).map((tokens) => tokens.join(''));

/** Syntactically valid expressions (names and argument counts random), so evaluation is reached too. */
const { expression: wellFormedSource } = fc.letrec<{ expression: string; operand: string }>((tie) => ({
  operand: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...NUMBERS, ...TEXTS, ...KEYWORDS),
    fc.constantFrom(...ATTRIBUTES).map((name) => `[${name}]`),
    nastyString.map((text) => JSON.stringify(text.replaceAll('\\', ''))),
    fc
      .tuple(fc.constantFrom(...FUNCTION_NAMES), fc.array(fc.option(tie('expression'), { nil: '' }), { maxLength: 5 }))
      .map(([name, args]) => `${name}(${args.join(', ')})`),
  ),
  expression: fc.oneof(
    { weight: 4, arbitrary: tie('operand') },
    {
      weight: 1,
      arbitrary: fc
        .tuple(tie('operand'), fc.constantFrom('=', '<>', '<', '<=', '>', '>='), tie('operand'))
        .map(([a, op, b]) => `${a} ${op} ${b}`),
    },
  ),
}));

const attributeValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1e308,
    Number.NaN,
    '20260101000000.0Z',
    '1/2/2026 3:04:05 PM',
    '2026-13-45',
  ),
  fc.array(nastyString, { maxLength: 4 }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.date(),
);

const env: fc.Arbitrary<ExpressionEnv> = fc
  .record({
    attributes: fc.dictionary(fc.constantFrom(...ATTRIBUTES, 'Mail', 'MAIL'), attributeValue, { maxKeys: 6 }),
    now: fc.date({ min: new Date(0), max: new Date(Date.UTC(9000, 0, 1)) }),
    unique: fc.boolean(),
    roles: fc.option(
      fc.array(fc.record({ role: nastyString, principalId: fc.option(nastyString, { nil: undefined }) }), {
        maxLength: 3,
      }),
      {
        nil: undefined,
      },
    ),
  })
  .map(({ attributes, now, unique, roles }) => ({
    attributes,
    now: () => now,
    random: () => 0.5,
    guid: () => '6f1c2b7e-0c4a-4b59-9c33-1b5d3f0a9e21',
    appRoleAssignments: roles,
    isUnique: () => unique,
  }));

/** Compile and evaluate; true when the text compiled. Throws whatever the language throws. */
function compileAndEvaluate(source: string, environment: ExpressionEnv): boolean {
  let compiled;
  try {
    compiled = compileExpression(source);
  } catch (error) {
    if (!(error instanceof ExpressionSyntaxError)) throw error;
    expect(error.position).toBeGreaterThanOrEqual(0);
    expect(error.position).toBeLessThanOrEqual(source.length);
    return false;
  }
  try {
    compiled.evaluate(environment);
  } catch (error) {
    if (!(error instanceof ExpressionEvaluationError)) throw error;
    expect(error.position).toBeGreaterThanOrEqual(0);
    expect(error.position).toBeLessThanOrEqual(source.length);
  }
  return true;
}

function expectOnlyTypedErrors(source: string, environment: ExpressionEnv): void {
  const started = performance.now();
  compileAndEvaluate(source, environment);
  expect(performance.now() - started, `no hang on ${JSON.stringify(source).slice(0, 200)}`).toBeLessThan(WITHIN_MS);
}

describe('the expression language throws only its typed errors and never hangs', () => {
  it('on any text mixing its tokens', () => {
    fc.assert(
      fc.property(looseSource, env, (source, environment) => expectOnlyTypedErrors(source, environment)),
      { numRuns: RUNS },
    );
  });

  it('on well-formed expressions with any function, argument count and attribute values', () => {
    let compiled = 0;
    fc.assert(
      fc.property(wellFormedSource, env, (source, environment) => {
        const started = performance.now();
        if (compileAndEvaluate(source, environment)) compiled++;
        expect(performance.now() - started).toBeLessThan(WITHIN_MS);
      }),
      { numRuns: RUNS },
    );
    // The generator reaches evaluation, not only the syntax checks.
    expect(compiled).toBeGreaterThan(RUNS / 10);
  });

  it('on nesting far deeper than any mapping, and on very long text', () => {
    const environment: ExpressionEnv = {
      attributes: { mail: 'a@b.c' },
      now: () => new Date(0),
      random: () => 0.5,
      guid: () => 'g',
    };
    for (const source of [
      'Trim('.repeat(10_000),
      `${'ToLower('.repeat(5_000)}[mail]${')'.repeat(5_000)}`,
      `${'IIF('.repeat(3_000)}true, 1, 2${')'.repeat(3_000)}`,
      '['.repeat(10_000),
      '"'.repeat(10_001),
      `"${'\\"'.repeat(50_000)}"`,
      `Join(",", ${Array.from({ length: 5_000 }, () => '[mail]').join(', ')})`,
      `Coalesce(${', '.repeat(10_000)}"x")`,
      '1'.repeat(100_000),
      `${'[mail] = '.repeat(1_000)}1`,
    ]) {
      expectOnlyTypedErrors(source, environment);
    }
  });
});
