// The words of an app configuration, without the schemas: the console builds its forms from them
// without loading zod (the API's schemas must be made after zod has its OpenAPI extension).
export const TARGET_TYPES = ['String', 'Boolean', 'Integer', 'DateTime', 'Reference', 'Binary'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

export const SCOPING_OPERATORS = [
  'EQUALS',
  'NOT EQUALS',
  'IS TRUE',
  'IS FALSE',
  'IS NULL',
  'IS NOT NULL',
  'REGEX MATCH',
  'NOT REGEX MATCH',
  'Greater_Than',
  'Greater_Than_OR_EQUALS',
  'Includes',
  'ENDS_WITH',
  '&',
  '!&',
] as const;
export type ScopingOperator = (typeof SCOPING_OPERATORS)[number];

/** Operators that compare against no value. */
export const UNARY_SCOPING_OPERATORS: readonly ScopingOperator[] = ['IS TRUE', 'IS FALSE', 'IS NULL', 'IS NOT NULL'];
