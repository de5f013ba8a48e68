// POST /api/v1/apps/{id}/expressions/evaluate — the expression tester: compile an expression of the
// mapping language and evaluate it against one directory user or group, as a cycle would (the same
// attribute view, real time and randomness), answering the value or the error with its position.
// Nothing is written and the target is not contacted.
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import {
  ExpressionEvaluationError,
  ExpressionSyntaxError,
  IGNORE_FLOW,
  REDACTED,
  compileExpression,
  type CompiledExpression,
} from '../../engine/expressions/index.ts';
import { groupSourceAttributes, userSourceAttributes } from '../../engine/mapping/sourceAttributes.ts';
import type { Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';

const MAX_EXPRESSION_LENGTH = 4000;

const evaluateRequestSchema = z
  .object({
    expression: z.string().min(1).max(MAX_EXPRESSION_LENGTH).openapi({ example: 'Join(".", [givenName], [surname])' }),
    objectId: idSchema.openapi({ description: 'The directory user or group to evaluate against' }),
  })
  .strict()
  .openapi('ExpressionEvaluation');

const evaluateResultSchema = z
  .object({
    ok: z.boolean(),
    value: z
      .unknown()
      .optional()
      .openapi({
        description: `The result (\`${REDACTED}\` when the expression uses Redact); absent when ok is false`,
      }),
    ignored: z
      .boolean()
      .optional()
      .openapi({ description: 'IgnoreFlowIfNullOrEmpty dropped the value: the mapping would send nothing' }),
    attributes: z.array(z.string()).openapi({ description: 'The source attributes the expression reads' }),
    error: z
      .object({
        kind: z.enum(['syntax', 'evaluation']),
        message: z.string(),
        position: z.number().int().openapi({ description: '0-based offset in the expression' }),
        functionName: z.string().optional(),
      })
      .optional(),
  })
  .openapi('ExpressionResult');

type EvaluateResult = z.infer<typeof evaluateResultSchema>;

/** The outcome of one expression against one object's attributes (errors become answers, not 4xx). */
export function evaluateExpression(source: string, attributes: Record<string, unknown>): EvaluateResult {
  let compiled: CompiledExpression;
  try {
    compiled = compileExpression(source);
  } catch (error) {
    if (error instanceof ExpressionSyntaxError) {
      return { ok: false, attributes: [], error: { kind: 'syntax', message: error.message, position: error.position } };
    }
    throw error;
  }
  const attributesRead = [...compiled.attributes];
  try {
    const value = compiled.evaluate({
      attributes,
      now: () => new Date(),
      random: Math.random,
      guid: randomUUID,
    });
    if (value === IGNORE_FLOW) return { ok: true, value: null, ignored: true, attributes: attributesRead };
    return { ok: true, value: compiled.redacted ? REDACTED : value, attributes: attributesRead };
  } catch (error) {
    if (error instanceof ExpressionEvaluationError) {
      return {
        ok: false,
        attributes: attributesRead,
        error: {
          kind: 'evaluation',
          message: error.message,
          position: error.position,
          functionName: error.functionName,
        },
      };
    }
    throw error;
  }
}

export function expressionsRouter({ store }: { store: Store }) {
  return createRouter().openapi(
    createRoute({
      method: 'post',
      path: '/apps/{id}/expressions/evaluate',
      tags: ['apps'],
      summary: 'Evaluate an expression against a directory object',
      description:
        "The expression tester: compiles the expression (the attribute-mapping language) and evaluates it against the user's or group's attributes as a cycle would. A syntax or evaluation error is a 200 with `ok: false` and the error's position. Nothing is written; the target is not contacted.",
      request: { params: idParams, body: jsonBody(evaluateRequestSchema) },
      responses: {
        200: jsonContent(evaluateResultSchema, 'The value, or the error with its position'),
        ...errorResponses(400, 401, 404, 429),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { expression, objectId } = c.req.valid('json');
      if (!(await store.apps.get(id))) throw new ApiError('not_found', `App ${id} not found`);
      const user = await store.directory.getUser(objectId);
      const group = user ? null : await store.directory.getGroup(objectId);
      if (!user && !group) throw new ApiError('not_found', `No user or group ${objectId}`);
      const attributes = user ? userSourceAttributes(user) : groupSourceAttributes(group!);
      return c.json(evaluateExpression(expression, attributes), 200);
    },
  );
}
