// Scoping-filter operators. Null and empty values make every clause false except
// IS NULL. Multi-valued attributes: a positive operator needs one matching value, a negated one
// (NOT EQUALS, NOT REGEX MATCH, !&) needs all values to pass.
import type { ScopingClause, ScopingOperator } from '../config/schema.ts';
import { compilePattern, MAX_REGEX_INPUT_LENGTH } from '../expressions/regex.ts';

export interface CompiledClause {
  readonly clause: ScopingClause;
  test(values: readonly unknown[]): boolean;
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

function asInteger(value: unknown): bigint | null {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) return BigInt(value.trim());
  return null;
}

function asBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  return null;
}

function equalsValue(element: unknown, expected: string): boolean {
  // Booleans compare without case ("True" as typed in Entra's portal); strings exactly (case-sensitive).
  if (typeof element === 'boolean') return asBoolean(expected) === element;
  return asText(element) === expected;
}

type ElementTest = (element: unknown) => boolean;

function elementTest(operator: ScopingOperator, value: string): ElementTest {
  switch (operator) {
    case 'EQUALS':
    case 'NOT EQUALS':
      return (element) => equalsValue(element, value);
    case 'IS TRUE':
      return (element) => asBoolean(element) === true;
    case 'IS FALSE':
      return (element) => asBoolean(element) === false;
    case 'REGEX MATCH':
    case 'NOT REGEX MATCH': {
      throw new Error(`${operator} is compiled by compileRegexClause`);
    }
    case 'Greater_Than':
    case 'Greater_Than_OR_EQUALS': {
      const bound = asInteger(value);
      const orEqual = operator === 'Greater_Than_OR_EQUALS';
      return (element) => {
        const number = asInteger(element);
        if (number === null || bound === null) return false;
        return orEqual ? number >= bound : number > bound;
      };
    }
    case 'Includes':
      return (element) => asText(element).includes(value);
    case 'ENDS_WITH':
      return (element) => asText(element).endsWith(value);
    case '&':
    case '!&': {
      // All bits of the mask set (userAccountControl-style flags).
      const mask = asInteger(value);
      return (element) => {
        const number = asInteger(element);
        return number !== null && mask !== null && (number & mask) === mask;
      };
    }
    case 'IS NULL':
    case 'IS NOT NULL':
      return () => true;
  }
}

const NEGATED = new Set<ScopingOperator>(['NOT EQUALS', 'NOT REGEX MATCH', '!&']);

/**
 * Admins write these patterns: they run on the same linear-time engine as the expression language's
 * Replace, on bounded input. A refused pattern (saving the app rejects it too) or a value too long
 * to run it on makes the clause false, whichever of the two operators it is.
 */
function compileRegexClause(clause: ScopingClause): CompiledClause {
  const regex = compilePattern(clause.value ?? '');
  if (typeof regex === 'string') return { clause, test: () => false };
  const negated = clause.operator === 'NOT REGEX MATCH';
  return {
    clause,
    test: (values) => {
      const texts = values.map(asText);
      if (texts.length === 0 || texts.some((text) => text.length > MAX_REGEX_INPUT_LENGTH)) return false;
      return negated ? texts.every((text) => !regex.test(text)) : texts.some((text) => regex.test(text));
    },
  };
}

export function compileClause(clause: ScopingClause): CompiledClause {
  const { operator } = clause;
  if (operator === 'REGEX MATCH' || operator === 'NOT REGEX MATCH') return compileRegexClause(clause);
  if (operator === 'IS NULL') return { clause, test: (values) => values.length === 0 };
  if (operator === 'IS NOT NULL') return { clause, test: (values) => values.length > 0 };
  const test = elementTest(operator, clause.value ?? '');
  if (NEGATED.has(operator)) {
    return { clause, test: (values) => values.length > 0 && values.every((element) => !test(element)) };
  }
  return { clause, test: (values) => values.some(test) };
}

/** The values of an attribute as a list; null, undefined and empty strings dropped. */
export function attributeValues(value: unknown): unknown[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((element) => element !== null && element !== undefined && element !== '');
}
