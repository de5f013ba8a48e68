// The expression language of attribute mappings: Entra-compatible syntax, compiled
// once with errors that carry a position, evaluated purely from an injected environment.
export { compileExpression, compareValues } from './compile.ts';
export { ExpressionEvaluationError, ExpressionSyntaxError } from './errors.ts';
export { FUNCTION_NAMES } from './functions.ts';
export { formatEntraDateTime, parseDateTime } from './dates.ts';
export { IGNORE_FLOW, REDACTED, type CompiledExpression, type ExpressionEnv } from './types.ts';
export type { ExpressionNode } from './ast.ts';
export { parseExpression } from './parse.ts';
