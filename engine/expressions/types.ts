// The public contract of the expression language (engine/expressions/index.ts re-exports it).

export interface ExpressionEnv {
  /** Values for [attribute] references: the source object's attributes (extension attributes by their name). Missing = null. */
  attributes: Record<string, unknown>;
  /** Injected time and randomness so evaluation stays pure. */
  now: () => Date;
  random: () => number; // [0, 1)
  guid: () => string;
  /** The object's app role assignments (for SingleAppRoleAssignment / AppRoleAssignmentsComplex). */
  appRoleAssignments?: { role: string; principalId?: string }[];
  /** For SelectUniqueValue: whether a candidate is free in the target (default: every candidate is). */
  isUnique?: (value: string) => boolean;
}

export interface CompiledExpression {
  readonly source: string;
  /** Attribute names referenced with [..], for dependency tracking. */
  readonly attributes: readonly string[];
  /** True when the expression uses Redact(): its value must show as REDACTED in provisioning logs. */
  readonly redacted: boolean;
  evaluate(env: ExpressionEnv): unknown; // may return IGNORE_FLOW
}

/** What IgnoreFlowIfNullOrEmpty returns for null/empty input: "drop this mapping from the flow". */
export const IGNORE_FLOW = Symbol.for('ferry.expressions.ignoreFlow');

/** The text Entra shows in provisioning logs instead of a Redact()ed value. */
export const REDACTED = '[Redact]';
