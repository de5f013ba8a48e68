// Mappings are compiled once per app configuration (paths parsed, expressions compiled) and then
// applied to every source object of a cycle: applyMappings must stay cheap.
import type { Mapping, TargetType } from '../config/schema.ts';
import { compileExpression, IGNORE_FLOW, type CompiledExpression, type ExpressionEnv } from '../expressions/index.ts';
import { SCIM_GROUP_SCHEMA, SCIM_USER_SCHEMA, type ErrorCode, type ObjectType, type ScimResource } from '../types.ts';
import { CoercionError, coerceValue } from './coerce.ts';
import { formatScimPath, parseScimPath, ScimPathError, setScimValue, type ScimPath } from './scimPath.ts';
import { isNullOrEmpty, readSourceAttribute, type SourceAttributes } from './sourceAttributes.ts';

/** Why a mapping could not be compiled; `field` names the mapping's property at fault. */
export class MappingCompileError extends Error {
  constructor(
    readonly index: number,
    readonly field: 'target' | 'expression' | 'targetType',
    message: string,
  ) {
    super(message);
    this.name = 'MappingCompileError';
  }
}

export interface CompiledMapping {
  readonly index: number;
  readonly mapping: Mapping;
  readonly path: ScimPath;
  /** Canonical target path, as used in PATCH operations and modified attributes. */
  readonly target: string;
  readonly targetType: TargetType;
  readonly apply: 'always' | 'create';
  readonly matchingPrecedence: number | null;
  /** Group `members`: reconciled by planGroupMembers, never part of the resource body. */
  readonly isMembers: boolean;
  /** Source attributes this mapping reads. */
  readonly sourceAttributes: readonly string[];
  readonly expression: CompiledExpression | null;
  /** Its values never appear in provisioning logs: Redact() expressions and `password`. */
  readonly redacted: boolean;
}

export interface CompiledMappings {
  readonly objectType: ObjectType;
  readonly mappings: readonly CompiledMapping[];
  /** Matching attributes in precedence order. */
  readonly matching: readonly CompiledMapping[];
  readonly membersMapping: CompiledMapping | null;
}

/** Everything an expression may read besides the object's attributes (time and randomness are injected). */
export type MappingEnv = Omit<ExpressionEnv, 'attributes'>;

export interface MappingContext {
  /** Create-only mappings (`apply: 'create'`) are produced for `create` only. */
  operation: 'create' | 'update';
  env: MappingEnv;
  /** Source id of a referenced object (manager) → its target id; null when not (yet) provisioned. */
  resolveReference?: (sourceId: string) => string | null;
}

export interface UnresolvedReference {
  target: string;
  sourceId: string;
}

export interface MappingError {
  target: string;
  code: ErrorCode;
  message: string;
}

export interface MappingResult {
  resource: ScimResource;
  /**
   * Target paths this result decides: a path here with no value in `resource` must be cleared.
   * Create-only mappings on update, IgnoreFlowIfNullOrEmpty, unresolved references and failed
   * mappings are left out, so the planner leaves those target values alone.
   */
  managedPaths: string[];
  /** The managed paths that only a create sets (`apply: 'create'`); empty on update. */
  createOnlyPaths: string[];
  /** Managed paths whose values must show as redacted in logs. */
  redactedPaths: string[];
  unresolvedReferences: UnresolvedReference[];
  errors: MappingError[];
}

export function compileMapping(mapping: Mapping, index: number, objectType: ObjectType): CompiledMapping {
  let path: ScimPath;
  try {
    path = parseScimPath(mapping.target);
  } catch (error) {
    if (error instanceof ScimPathError) throw new MappingCompileError(index, 'target', error.message);
    throw error;
  }
  const isMembers = objectType === 'group' && path.urn === null && path.attribute.toLowerCase() === 'members';
  if (isMembers && mapping.targetType !== 'Reference') {
    throw new MappingCompileError(index, 'targetType', 'group members must be mapped with target type Reference');
  }
  let expression: CompiledExpression | null = null;
  let sourceAttributes: readonly string[] = [];
  if (mapping.type === 'expression') {
    // ExpressionSyntaxError carries the position; config validation reports it with the path.
    expression = compileExpression(mapping.expression);
    sourceAttributes = expression.attributes;
  } else if (mapping.type === 'direct') {
    sourceAttributes = [mapping.source];
  }
  return {
    index,
    mapping,
    path,
    target: formatScimPath(path),
    targetType: mapping.targetType,
    apply: mapping.apply,
    matchingPrecedence: mapping.matchingPrecedence ?? null,
    isMembers,
    sourceAttributes,
    expression,
    redacted: (expression?.redacted ?? false) || (path.urn === null && path.attribute.toLowerCase() === 'password'),
  };
}

export function compileMappings(mappings: readonly Mapping[], objectType: ObjectType): CompiledMappings {
  const compiled = mappings.map((mapping, index) => compileMapping(mapping, index, objectType));
  const matching = compiled
    .filter((m) => m.matchingPrecedence !== null)
    .sort((a, b) => (a.matchingPrecedence ?? 0) - (b.matchingPrecedence ?? 0));
  return {
    objectType,
    mappings: compiled.filter((m) => !m.isMembers),
    matching,
    membersMapping: compiled.find((m) => m.isMembers) ?? null,
  };
}

function rawValue(mapping: CompiledMapping, attributes: SourceAttributes, env: () => ExpressionEnv): unknown {
  const definition = mapping.mapping;
  switch (definition.type) {
    case 'direct':
      return readSourceAttribute(attributes, definition.source);
    case 'constant':
      return definition.value;
    case 'expression':
      return (mapping.expression as CompiledExpression).evaluate(env());
  }
}

/** Source object → the SCIM resource the target should hold, for the mapped attributes. */
export function applyMappings(
  compiled: CompiledMappings,
  attributes: SourceAttributes,
  context: MappingContext,
): MappingResult {
  const resource: ScimResource = { schemas: [compiled.objectType === 'user' ? SCIM_USER_SCHEMA : SCIM_GROUP_SCHEMA] };
  const managedPaths: string[] = [];
  const createOnlyPaths: string[] = [];
  const redactedPaths: string[] = [];
  const unresolvedReferences: UnresolvedReference[] = [];
  const errors: MappingError[] = [];
  let expressionEnv: ExpressionEnv | null = null;
  const env = () => (expressionEnv ??= { ...context.env, attributes });

  for (const mapping of compiled.mappings) {
    if (mapping.apply === 'create' && context.operation !== 'create') continue;
    let value: unknown;
    try {
      value = rawValue(mapping, attributes, env);
    } catch (error) {
      errors.push({ target: mapping.target, code: 'ExpressionError', message: errorMessage(error) });
      continue;
    }
    if (value === IGNORE_FLOW) continue;
    if (mapping.redacted) redactedPaths.push(mapping.target);
    if (isNullOrEmpty(value) && mapping.mapping.default !== undefined && mapping.mapping.default !== null) {
      value = mapping.mapping.default;
    }
    if (isNullOrEmpty(value)) {
      managedPaths.push(mapping.target);
      if (mapping.apply === 'create') createOnlyPaths.push(mapping.target);
      continue;
    }
    let coerced: unknown;
    try {
      coerced = coerceValue(value, mapping.targetType);
    } catch (error) {
      if (!(error instanceof CoercionError)) throw error;
      const reason = mapping.redacted ? `cannot convert the (redacted) value to ${mapping.targetType}` : error.message;
      errors.push({ target: mapping.target, code: 'BadRequest', message: `${mapping.target}: ${reason}` });
      continue;
    }
    if (mapping.targetType === 'Reference') {
      const targetId = context.resolveReference?.(coerced as string) ?? null;
      if (targetId === null) {
        unresolvedReferences.push({ target: mapping.target, sourceId: coerced as string });
        continue;
      }
      coerced = { value: targetId };
    }
    setScimValue(resource, mapping.path, coerced);
    managedPaths.push(mapping.target);
    if (mapping.apply === 'create') createOnlyPaths.push(mapping.target);
  }

  for (const key in resource) {
    if (key.startsWith('urn:') && !resource.schemas.includes(key)) resource.schemas.push(key);
  }
  return { resource, managedPaths, createOnlyPaths, redactedPaths, unresolvedReferences, errors };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
