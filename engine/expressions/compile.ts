// Compiles a syntax tree once into nested closures: evaluation then does no parsing, no name
// lookups and no allocation beyond argument arrays, which keeps mapping 100k users cheap.
import type { ComparisonOperator, ExpressionNode } from './ast.ts';
import { ExpressionEvaluationError, ExpressionSyntaxError } from './errors.ts';
import { FUNCTIONS, type Evaluator, type Fail, type FunctionSpec } from './functions.ts';
import { parseExpression } from './parse.ts';
import { IGNORE_FLOW, type CompiledExpression } from './types.ts';
import { toNumber, toText } from './values.ts';

export function compileExpression(source: string): CompiledExpression {
  const root = parseExpression(source);
  const attributes: string[] = [];
  let redacted = false;

  const visit = (node: ExpressionNode, depth: number): Evaluator => {
    switch (node.kind) {
      case 'literal': {
        const value = node.value;
        return () => value;
      }
      case 'missing':
        return () => null;
      case 'attribute':
        if (!attributes.includes(node.name)) attributes.push(node.name);
        return attributeReader(node.name);
      case 'compare': {
        const left = visit(node.left, depth + 1);
        const right = visit(node.right, depth + 1);
        const operator = node.operator;
        return (env) => {
          const a = left(env);
          if (a === IGNORE_FLOW) return IGNORE_FLOW;
          const b = right(env);
          if (b === IGNORE_FLOW) return IGNORE_FLOW;
          return compareValues(operator, a, b);
        };
      }
      case 'call': {
        const spec = lookup(node);
        if (spec.name === 'SelectUniqueValue' && depth > 0) {
          throw new ExpressionSyntaxError(
            'SelectUniqueValue must be the outermost function, it cannot be nested',
            node.position,
          );
        }
        if (spec.name === 'Redact') redacted = true;
        spec.check?.(node.args, (message, at) => {
          throw new ExpressionSyntaxError(message, at.position);
        });
        const args = node.args.map((arg) => visit(arg, depth + 1));
        return callEvaluator(spec, node, args);
      }
    }
  };

  const evaluate = visit(root, 0);
  return {
    source,
    attributes: Object.freeze(attributes),
    redacted,
    evaluate,
  };
}

function lookup(node: Extract<ExpressionNode, { kind: 'call' }>): FunctionSpec {
  const spec = FUNCTIONS.get(node.name.toLowerCase());
  if (!spec) throw new ExpressionSyntaxError(`Unknown function '${node.name}'`, node.position);
  const n = node.args.length;
  if (n < spec.min || n > spec.max) {
    throw new ExpressionSyntaxError(`${spec.name} expects ${describeCount(spec)}, got ${n}`, node.position);
  }
  return spec;
}

function describeCount({ min, max }: FunctionSpec): string {
  const plural = (n: number) => `${n} argument${n === 1 ? '' : 's'}`;
  if (max === 0) return 'no arguments';
  if (min === max) return `exactly ${plural(min)}`;
  if (max === Number.POSITIVE_INFINITY) return `at least ${plural(min)}`;
  return `${min} to ${max} arguments`;
}

function callEvaluator(
  spec: FunctionSpec,
  node: Extract<ExpressionNode, { kind: 'call' }>,
  args: Evaluator[],
): Evaluator {
  const fail: Fail = (message) => {
    throw new ExpressionEvaluationError(spec.name, message, node.position);
  };
  const wrap = (error: unknown): never => {
    if (error instanceof ExpressionEvaluationError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ExpressionEvaluationError(spec.name, message, node.position, { cause: error });
  };
  if (spec.lazy) {
    const call = spec.call;
    return (env) => {
      try {
        return call(args, env, fail);
      } catch (error) {
        return wrap(error);
      }
    };
  }
  const call = spec.call;
  const present = node.args.map((arg) => arg.kind !== 'missing');
  const count = args.length;
  return (env) => {
    const values = new Array<unknown>(count);
    for (let i = 0; i < count; i++) {
      const value = args[i](env);
      if (value === IGNORE_FLOW) return IGNORE_FLOW;
      values[i] = value;
    }
    try {
      return call(values, env, fail, present);
    } catch (error) {
      return wrap(error);
    }
  };
}

/** Attribute names match exactly first, then case-insensitively (Entra's names are not case-sensitive). */
function attributeReader(name: string): Evaluator {
  const lower = name.toLowerCase();
  return (env) => {
    const attrs = env.attributes;
    if (Object.hasOwn(attrs, name)) return attrs[name] ?? null;
    for (const key in attrs) {
      if (Object.hasOwn(attrs, key) && key.toLowerCase() === lower) return attrs[key] ?? null;
    }
    return null;
  };
}

/**
 * The comparison operators of IIF conditions. Numbers compare numerically when both sides read as
 * numbers; otherwise text compares ordinally and case-sensitively, except that booleans compare
 * case-insensitively ("true" = True). For = and <> null reads as ""; ordering with null is false.
 */
export function compareValues(operator: ComparisonOperator, a: unknown, b: unknown): boolean {
  const nullish = a === null || a === undefined || b === null || b === undefined;
  if (nullish && operator !== '=' && operator !== '<>') return false;
  let order: number;
  const numeric = typeof a === 'number' || typeof b === 'number' || (operator !== '=' && operator !== '<>');
  const x = numeric ? toNumber(a) : null;
  const y = x === null ? null : toNumber(b);
  if (x !== null && y !== null) {
    order = x === y ? 0 : x < y ? -1 : 1;
  } else {
    let s = toText(a) ?? '';
    let t = toText(b) ?? '';
    if (typeof a === 'boolean' || typeof b === 'boolean') {
      s = s.toLowerCase();
      t = t.toLowerCase();
    }
    order = s === t ? 0 : s < t ? -1 : 1;
  }
  switch (operator) {
    case '=':
      return order === 0;
    case '<>':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
  }
}
