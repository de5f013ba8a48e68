import { describe, expect, it } from 'vitest';
import {
  compileExpression,
  ExpressionEvaluationError,
  ExpressionSyntaxError,
  IGNORE_FLOW,
} from '../../../engine/expressions/index.ts';
import { makeEnv } from './env.ts';

function syntaxError(source: string): ExpressionSyntaxError {
  try {
    compileExpression(source);
  } catch (error) {
    if (error instanceof ExpressionSyntaxError) return error;
    throw error;
  }
  throw new Error(`expected a syntax error for ${source}`);
}

describe('compile errors carry a 0-based position and name what is wrong', () => {
  it.each<[source: string, position: number, message: RegExp]>([
    ['', 0, /empty/],
    ['   ', 3, /empty/],
    ['Foo([a])', 0, /Unknown function 'Foo'/],
    ['ToLower(Fooo([a]))', 8, /Unknown function 'Fooo'/],
    ['Left("John")', 0, /Left expects exactly 2 arguments, got 1/],
    ['Append([a], "b", "c")', 0, /Append expects exactly 2 arguments, got 3/],
    ['ToLower([a], "en-US", "x")', 0, /ToLower expects 1 to 2 arguments, got 3/],
    ['Join(",")', 0, /Join expects at least 2 arguments, got 1/],
    ['Guid(1)', 0, /Guid expects no arguments, got 1/],
    ['ToUpper(Mid([a], 1))', 8, /Mid expects exactly 3 arguments, got 2/],
    ['Replace([a], "x", , , "y")', 0, /Replace expects exactly 7 arguments, got 5/],
    ['Switch([a], "d", "k", "v", "k2")', 27, /Switch expects source, defaultValue, then key\/value pairs/],
    ['ToLower("abc)', 8, /Unterminated text literal/],
    ['ToLower([abc)', 8, /Missing '\]'/],
    ['ToLower([])', 8, /Empty attribute name/],
    ['ToLower([a]', 11, /Missing '\)' to close ToLower/],
    ['ToLower([a] [b])', 12, /Expected ',' or '\)' in the arguments of ToLower/],
    ['ToLower([a]))', 12, /Unexpected '\)' after the end/],
    ['ToLower(givenName)', 8, /Unknown name 'givenName'/],
    ['ToLower(@)', 8, /Unexpected '@'/],
    ['IIF([a] =, "x", "y")', 9, /Unexpected ','/],
    ['Join("", SelectUniqueValue("a", "b"))', 9, /SelectUniqueValue must be the outermost function/],
    ['DateAdd("q", 1, Now())', 8, /unknown interval "q"/],
    ['Replace([a], , "(?=a)b", , "", , )', 15, /lookaround|linear-time engine/],
    ['Replace([a], , "([a-z]", , "", , )', 15, /invalid regexPattern/],
    ['BitAnd(&H, 1)', 7, /hexadecimal/],
    ['Left("x", 12abc)', 10, /Invalid number/],
  ])('%s → position %i', (source, position, message) => {
    const error = syntaxError(source);
    expect(error.position).toBe(position);
    expect(error.message).toMatch(message);
  });
});

describe('syntax', () => {
  const env = makeEnv({ givenName: 'John', surname: 'Doe', Department: 'Sales', extension_abc_costCenter: 'CC1' });

  it('matches function names case-insensitively, like Entra', () => {
    expect(compileExpression('tolower([givenName])').evaluate(env)).toBe('john');
    expect(compileExpression('TOUPPER([givenName])').evaluate(env)).toBe('JOHN');
    expect(compileExpression('iif([givenName]="John","y","n")').evaluate(env)).toBe('y');
  });

  it('reads escaped quotes and backslashes inside text literals', () => {
    expect(compileExpression('Append("Company name: \\"Contoso\\"", "")').evaluate(env)).toBe(
      'Company name: "Contoso"',
    );
    expect(compileExpression('Append("a\\\\b", "")').evaluate(env)).toBe('a\\b');
    expect(compileExpression('"\\d+"').evaluate(env)).toBe('\\d+');
  });

  it('evaluates deeply nested calls', () => {
    const source =
      'ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [givenName], [surname]))), "contoso.com"))';
    expect(compileExpression(source).evaluate(env)).toBe('john.doe@contoso.com');
  });

  it('accepts a bare attribute, literal, number or keyword as a whole expression', () => {
    expect(compileExpression('[givenName]').evaluate(env)).toBe('John');
    expect(compileExpression('"x"').evaluate(env)).toBe('x');
    expect(compileExpression('-1.5').evaluate(env)).toBe(-1.5);
    expect(compileExpression('true').evaluate(env)).toBe(true);
    expect(compileExpression('null').evaluate(env)).toBeNull();
  });

  it('reads attributes exactly first, then case-insensitively; missing ones are null', () => {
    expect(compileExpression('[department]').evaluate(env)).toBe('Sales');
    expect(compileExpression('[extension_abc_costCenter]').evaluate(env)).toBe('CC1');
    expect(compileExpression('[nothingHere]').evaluate(env)).toBeNull();
    expect(compileExpression('[constructor]').evaluate(env)).toBeNull();
  });

  it('lists the attributes an expression depends on, once each, in order', () => {
    const expression = compileExpression('Join(" ", [givenName], [surname], IIF([givenName]="x", [mail], [surname]))');
    expect(expression.attributes).toEqual(['givenName', 'surname', 'mail']);
    expect(expression.source).toContain('Join');
  });

  it('treats an empty argument as null', () => {
    expect(compileExpression('Coalesce(, "x")').evaluate(env)).toBe('x');
  });

  it('allows spaces and line breaks between tokens', () => {
    expect(compileExpression(' Join ( "-" ,\n [givenName] ,\t [surname] ) ').evaluate(env)).toBe('John-Doe');
  });

  it('compiles once and evaluates many objects deterministically', () => {
    const expression = compileExpression('Append(ToLower([givenName]), Guid())');
    const values = ['A', 'B', 'C'].map((name) => expression.evaluate(makeEnv({ givenName: name })));
    expect(values).toEqual([
      'a00000000-0000-4000-8000-000000000001',
      'b00000000-0000-4000-8000-000000000001',
      'c00000000-0000-4000-8000-000000000001',
    ]);
  });
});

describe('IgnoreFlowIfNullOrEmpty', () => {
  it('drops the mapping through enclosing functions', () => {
    const expression = compileExpression('Join(" ", "Dept:", IgnoreFlowIfNullOrEmpty([department]))');
    expect(expression.evaluate(makeEnv({ department: '' }))).toBe(IGNORE_FLOW);
    expect(expression.evaluate(makeEnv({ department: 'Sales' }))).toBe('Dept: Sales');
  });
});

describe('evaluation errors name the function', () => {
  it.each<[source: string, functionName: string, message: RegExp]>([
    ['CDate("not a date")', 'CDate', /not a date/],
    ['CBool("maybe")', 'CBool', /cannot convert/],
    ['Left("abc", "x")', 'Left', /whole number/],
    ['Mid("abc", 0, 1)', 'Mid', /start must be 1 or more/],
    ['FormatDateTime("2021/01/01", , "yyyy-MM-dd", "yyyy")', 'FormatDateTime', /does not match/],
    ['DateAdd([interval], 1, Now())', 'DateAdd', /interval must be one of/],
    ['IIF("perhaps", "a", "b")', 'IIF', /condition must be true or false/],
    ['ToLower("a", "not a culture!")', 'ToLower', /unknown culture/],
    ['Replace("aaaa", , [pattern], , "", , )', 'Replace', /linear-time engine/],
  ])('%s', (source, functionName, message) => {
    const expression = compileExpression(source);
    let caught: unknown;
    try {
      expression.evaluate(makeEnv({ interval: 'fortnight', pattern: '(a)\\1' }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ExpressionEvaluationError);
    expect((caught as ExpressionEvaluationError).functionName).toBe(functionName);
    expect((caught as Error).message).toMatch(message);
  });

  it('wraps a failing isUnique callback with the function name and cause', () => {
    const cause = new Error('target down');
    const env = makeEnv(
      {},
      {
        isUnique: () => {
          throw cause;
        },
      },
    );
    try {
      compileExpression('SelectUniqueValue("a", "b")').evaluate(env);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ExpressionEvaluationError);
      expect((error as ExpressionEvaluationError).functionName).toBe('SelectUniqueValue');
      expect((error as Error).cause).toBe(cause);
    }
  });

  it('refuses to run a regex over very long text', () => {
    const expression = compileExpression('Replace([x], , "a", , "b", , )');
    expect(() => expression.evaluate(makeEnv({ x: 'a'.repeat(20_000) }))).toThrow(ExpressionEvaluationError);
  });
});
