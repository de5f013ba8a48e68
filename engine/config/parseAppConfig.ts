// Validates an app configuration when it is saved: schema first, then what the schema
// cannot say — expressions compile, paths parse, matching attributes are filterable on the target.
// Every problem names its path and reason, e.g.
// `objectTypes.user.mappings[3].expression: unknown function "Foo" at 5`.
import type { z } from 'zod';
import { ExpressionSyntaxError } from '../expressions/index.ts';
import { compilePattern } from '../expressions/regex.ts';
import {
  compileMapping,
  compileMappings,
  MappingCompileError,
  type CompiledMappings,
} from '../mapping/compileMappings.ts';
import { parseScimPath } from '../mapping/scimPath.ts';
import type { ObjectType } from '../types.ts';
import { appConfigSchema, UNARY_SCOPING_OPERATORS, type AppConfig, type ObjectTypeConfig } from './schema.ts';
import type { AppTemplate } from './template.ts';

export interface ConfigIssue {
  /** Dotted path into the configuration, e.g. `objectTypes.user.mappings[3].expression`. */
  path: string;
  message: string;
}

export interface CompiledAppConfig {
  user: CompiledMappings;
  group: CompiledMappings | null;
}

export type ParseAppConfigResult =
  { ok: true; config: AppConfig; compiled: CompiledAppConfig } | { ok: false; errors: ConfigIssue[] };

export function formatConfigIssue(issue: ConfigIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

export function formatIssuePath(segments: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text ? `.${String(segment)}` : String(segment);
  }
  return text;
}

const REQUIRED_TARGET: Record<ObjectType, string> = { user: 'userName', group: 'displayName' };
const NUMERIC_OPERATORS = new Set(['Greater_Than', 'Greater_Than_OR_EQUALS', '&', '!&']);

function expressionMessage(error: ExpressionSyntaxError): string {
  const reason = error.message.replace(/\s*\(at position \d+\)\s*$/, '');
  return `${reason} at ${error.position}`;
}

function checkObjectType(
  objectType: ObjectType,
  config: ObjectTypeConfig,
  template: AppTemplate | undefined,
  issues: ConfigIssue[],
): void {
  const base = `objectTypes.${objectType}`;
  const seenTargets = new Map<string, number>();
  const seenPrecedence = new Map<number, number>();
  const filterable = template?.objectTypes[objectType]?.filterableAttributes;
  const filterableKeys = filterable && new Set(filterable.map((path) => canonicalKey(path)));
  let matchingCount = 0;
  let requiredMapped = false;

  config.mappings.forEach((mapping, index) => {
    const at = `${base}.mappings[${index}]`;
    try {
      const compiled = compileMapping(mapping, index, objectType);
      const key = canonicalKey(compiled.target);
      const earlier = seenTargets.get(key);
      if (earlier !== undefined) {
        issues.push({ path: `${at}.target`, message: `"${mapping.target}" is already mapped by mappings[${earlier}]` });
      } else seenTargets.set(key, index);
      if (key === REQUIRED_TARGET[objectType].toLowerCase()) requiredMapped = true;
    } catch (error) {
      if (error instanceof MappingCompileError) issues.push({ path: `${at}.${error.field}`, message: error.message });
      else if (error instanceof ExpressionSyntaxError)
        issues.push({ path: `${at}.expression`, message: expressionMessage(error) });
      else throw error;
    }
    if (mapping.matchingPrecedence !== undefined) {
      matchingCount++;
      const earlier = seenPrecedence.get(mapping.matchingPrecedence);
      if (earlier !== undefined) {
        issues.push({
          path: `${at}.matchingPrecedence`,
          message: `precedence ${mapping.matchingPrecedence} is already used by mappings[${earlier}]`,
        });
      } else seenPrecedence.set(mapping.matchingPrecedence, index);
      if (mapping.targetType === 'Reference') {
        issues.push({
          path: `${at}.matchingPrecedence`,
          message: 'a Reference attribute cannot be a matching attribute',
        });
      }
      if (filterableKeys && template && !filterableKeys.has(canonicalKey(mapping.target))) {
        issues.push({
          path: `${at}.matchingPrecedence`,
          message: `${template.name} cannot filter on "${mapping.target}", so it cannot be a matching attribute (filterable: ${filterable.join(', ') || 'none'})`,
        });
      }
    }
  });

  if (config.enabled && matchingCount === 0) {
    issues.push({ path: `${base}.mappings`, message: 'at least one mapping needs a matchingPrecedence' });
  }
  if (!requiredMapped) {
    issues.push({
      path: `${base}.mappings`,
      message: `the SCIM attribute "${REQUIRED_TARGET[objectType]}" must be mapped`,
    });
  }

  config.scopingFilters.forEach((filter, filterIndex) => {
    filter.clauses.forEach((clause, clauseIndex) => {
      const at = `${base}.scopingFilters[${filterIndex}].clauses[${clauseIndex}].value`;
      if (UNARY_SCOPING_OPERATORS.includes(clause.operator)) return;
      if (clause.value === undefined) {
        issues.push({ path: at, message: `operator ${clause.operator} needs a value` });
        return;
      }
      if (clause.operator === 'REGEX MATCH' || clause.operator === 'NOT REGEX MATCH') {
        const refused = compilePattern(clause.value);
        if (typeof refused === 'string') issues.push({ path: at, message: `invalid regular expression: ${refused}` });
      }
      if (NUMERIC_OPERATORS.has(clause.operator) && !/^\s*[-+]?\d+\s*$/.test(clause.value)) {
        issues.push({ path: at, message: `operator ${clause.operator} needs an integer value, got "${clause.value}"` });
      }
    });
  });
}

/** Case-insensitive canonical form of a target path, for duplicate and filterable checks. */
function canonicalKey(target: string): string {
  try {
    const path = parseScimPath(target);
    const filter = path.filter ? `[${path.filter.attribute} eq "${path.filter.value}"]` : '';
    const text = `${path.attribute}${filter}${path.subAttribute ? `.${path.subAttribute}` : ''}`;
    return (path.urn ? `${path.urn}:${text}` : text).toLowerCase();
  } catch {
    return target.toLowerCase();
  }
}

/**
 * Parses and checks an app configuration. With a template, matching attributes must be ones the
 * template marks filterable and groups must be supported by it.
 */
export function parseAppConfig(input: unknown, template?: AppTemplate): ParseAppConfigResult {
  const parsed = appConfigSchema.safeParse(input);
  if (!parsed.success) return { ok: false, errors: zodIssues(parsed.error) };
  const config = parsed.data;
  const issues: ConfigIssue[] = [];

  checkObjectType('user', config.objectTypes.user, template, issues);
  if (config.objectTypes.group) {
    if (template && !template.supportsGroups && config.objectTypes.group.enabled) {
      issues.push({ path: 'objectTypes.group', message: `${template.name} does not support group provisioning` });
    }
    checkObjectType('group', config.objectTypes.group, template, issues);
  }
  config.connectorLimitations.allowedUsernameDomains?.forEach((domain, index) => {
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(domain.trim())) {
      issues.push({
        path: `connectorLimitations.allowedUsernameDomains[${index}]`,
        message: `"${domain}" is not a domain name`,
      });
    }
  });
  if (issues.length > 0) return { ok: false, errors: issues };

  const compiled: CompiledAppConfig = {
    user: compileMappings(config.objectTypes.user.mappings, 'user'),
    group: config.objectTypes.group ? compileMappings(config.objectTypes.group.mappings, 'group') : null,
  };
  return { ok: true, config, compiled };
}

function zodIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message }));
}
