// Is this object in scope of the app? Every check is evaluated and explained,
// even after one fails, because on-demand provisioning and the logs show all of them.
import type { ScopingFilter } from '../config/schema.ts';
import {
  groupSourceAttributes,
  readSourceAttribute,
  userSourceAttributes,
  type SourceAttributes,
} from '../mapping/sourceAttributes.ts';
import {
  DEFAULT_ACCESS_ROLE,
  type AppRoleAssignment,
  type DirectoryGroup,
  type DirectoryUser,
  type Membership,
} from '../types.ts';
import { ancestorGroups, buildMembershipIndex, type MembershipIndex } from './groupClosure.ts';
import { attributeValues, compileClause, type CompiledClause } from './operators.ts';

export interface CompiledScopingFilter {
  readonly title: string;
  readonly clauses: readonly CompiledClause[];
}

export interface ScopeContext {
  readonly appScope: 'assigned' | 'all';
  /** principalId → its assignments to this app. */
  readonly assignments: ReadonlyMap<string, readonly AppRoleAssignment[]>;
  readonly memberships: MembershipIndex;
  readonly filters: readonly CompiledScopingFilter[];
  /** groupId → assignments reaching its members; filled lazily (same answer every time, so still pure). */
  readonly groupAssignmentCache: Map<string, readonly { groupId: string; assignment: AppRoleAssignment }[]>;
}

export interface ScopeContextInput {
  appScope: 'assigned' | 'all';
  /** The app's assignments (other apps' are ignored only if the caller filters them). */
  assignments: Iterable<AppRoleAssignment>;
  memberships: Iterable<Membership> | MembershipIndex;
  scopingFilters: readonly ScopingFilter[];
}

export type ScopeSubject =
  | { objectType: 'user'; object: DirectoryUser; attributes?: SourceAttributes }
  | { objectType: 'group'; object: DirectoryGroup; attributes?: SourceAttributes };

export interface ClauseResult {
  attribute: string;
  operator: string;
  value?: string;
  /** The attribute's value as seen by the clause. */
  seen: unknown;
  passed: boolean;
}

export interface FilterResult {
  index: number;
  title: string;
  passed: boolean;
  clauses: ClauseResult[];
}

export type ScopeCheckName = 'active' | 'assigned' | 'role' | 'scopingFilters';

export interface ScopeCheck {
  check: ScopeCheckName;
  passed: boolean;
  detail: string;
}

export interface ScopeResult {
  inScope: boolean;
  checks: ScopeCheck[];
  filters: FilterResult[];
  /** Roles that put the object in scope (empty for scope `all`). */
  roles: string[];
}

export function compileScopingFilters(filters: readonly ScopingFilter[]): CompiledScopingFilter[] {
  return filters.map((filter) => ({ title: filter.title, clauses: filter.clauses.map(compileClause) }));
}

function isMembershipIndex(value: ScopeContextInput['memberships']): value is MembershipIndex {
  return 'groupsOf' in value && 'membersOf' in value;
}

export function createScopeContext(input: ScopeContextInput): ScopeContext {
  const assignments = new Map<string, AppRoleAssignment[]>();
  for (const assignment of input.assignments) {
    const list = assignments.get(assignment.principalId);
    if (list) list.push(assignment);
    else assignments.set(assignment.principalId, [assignment]);
  }
  return {
    appScope: input.appScope,
    assignments,
    memberships: isMembershipIndex(input.memberships) ? input.memberships : buildMembershipIndex(input.memberships),
    filters: compileScopingFilters(input.scopingFilters),
    groupAssignmentCache: new Map(),
  };
}

interface GroupAssignment {
  groupId: string;
  assignment: AppRoleAssignment;
}

function assignmentsAbove(context: ScopeContext, groupIds: readonly string[]): GroupAssignment[] {
  const result: GroupAssignment[] = [];
  for (const groupId of groupIds) {
    for (const assignment of context.assignments.get(groupId) ?? []) result.push({ groupId, assignment });
  }
  return result;
}

/**
 * Assignments that reach an object through the groups it belongs to (nested included). Users are
 * many and share groups, so each group's answer is computed once per context.
 */
function assignmentsThroughGroups(
  context: ScopeContext,
  objectType: 'user' | 'group',
  objectId: string,
): GroupAssignment[] {
  if (objectType === 'group') return assignmentsAbove(context, ancestorGroups(context.memberships, objectId));
  const direct = context.memberships.groupsOf(objectId);
  if (direct.length === 0) return [];
  const result: GroupAssignment[] = [];
  const seen = new Set<string>();
  for (const parent of direct) {
    let cached = context.groupAssignmentCache.get(parent);
    if (!cached) {
      cached = assignmentsAbove(context, [parent, ...ancestorGroups(context.memberships, parent)]);
      context.groupAssignmentCache.set(parent, cached);
    }
    if (direct.length === 1) return cached as GroupAssignment[];
    for (const entry of cached) {
      const key = `${entry.groupId}\u0000${entry.assignment.role}`;
      if (seen.has(key)) continue;
      seen.add(key);
      result.push(entry);
    }
  }
  return result;
}

function evaluateFilters(filters: readonly CompiledScopingFilter[], attributes: SourceAttributes): FilterResult[] {
  return filters.map((filter, index) => {
    const clauses = filter.clauses.map((compiled): ClauseResult => {
      const seen = readSourceAttribute(attributes, compiled.clause.attribute) ?? null;
      return {
        attribute: compiled.clause.attribute,
        operator: compiled.clause.operator,
        ...(compiled.clause.value === undefined ? {} : { value: compiled.clause.value }),
        seen,
        passed: compiled.test(attributeValues(seen)),
      };
    });
    return { index, title: filter.title, passed: clauses.every((c) => c.passed), clauses };
  });
}

export function evaluateScope(subject: ScopeSubject, context: ScopeContext): ScopeResult {
  const checks: ScopeCheck[] = [];
  const { object } = subject;

  const softDeleted = object.deletedDateTime !== null;
  const disabled = subject.objectType === 'user' && !subject.object.accountEnabled;
  checks.push({
    check: 'active',
    passed: !softDeleted && !disabled,
    detail: softDeleted
      ? `soft-deleted at ${object.deletedDateTime}`
      : disabled
        ? 'accountEnabled is false'
        : 'active in the directory',
  });

  const roles: string[] = [];
  if (context.appScope === 'all') {
    checks.push({ check: 'assigned', passed: true, detail: 'scope is all users and groups' });
  } else {
    const direct = context.assignments.get(object.id) ?? [];
    const viaGroups = assignmentsThroughGroups(context, subject.objectType, object.id);
    const all = [...direct, ...viaGroups.map((v) => v.assignment)];
    const how = [
      ...(direct.length > 0 ? ['directly'] : []),
      ...[...new Set(viaGroups.map((v) => v.groupId))].map((groupId) => `through group ${groupId}`),
    ];
    checks.push({
      check: 'assigned',
      passed: all.length > 0,
      detail: all.length > 0 ? `assigned ${how.join(', ')}` : 'not assigned to the app, directly or through a group',
    });
    for (const assignment of all) if (!roles.includes(assignment.role)) roles.push(assignment.role);
    const effective = roles.filter((role) => role !== DEFAULT_ACCESS_ROLE);
    checks.push({
      check: 'role',
      passed: effective.length > 0,
      detail:
        effective.length > 0
          ? `role ${effective.join(', ')}`
          : all.length > 0
            ? `only the Default Access role (${DEFAULT_ACCESS_ROLE}), which is not provisioned`
            : 'no role',
    });
  }

  const attributes =
    subject.attributes ??
    (subject.objectType === 'user' ? userSourceAttributes(subject.object) : groupSourceAttributes(subject.object));
  const filters = evaluateFilters(context.filters, attributes);
  const filtersPassed = filters.length === 0 || filters.some((f) => f.passed);
  checks.push({
    check: 'scopingFilters',
    passed: filtersPassed,
    detail:
      filters.length === 0
        ? 'no scoping filters'
        : filtersPassed
          ? `passes scoping filter ${filters
              .filter((f) => f.passed)
              .map(filterName)
              .join(', ')}`
          : 'passes none of the scoping filters',
  });

  return {
    inScope: checks.every((c) => c.passed),
    checks,
    filters,
    roles: roles.filter((role) => role !== DEFAULT_ACCESS_ROLE),
  };
}

function filterName(filter: FilterResult): string {
  return filter.title ? `"${filter.title}"` : `#${filter.index + 1}`;
}

function show(value: unknown): string {
  return value === null || value === undefined ? 'null' : JSON.stringify(value);
}

/** The result as the details of a provisioning-log `scoping` step. */
export function scopeDetails(result: ScopeResult): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  for (const check of result.checks) details[check.check] = `${check.passed ? 'passed' : 'failed'}: ${check.detail}`;
  for (const filter of result.filters) {
    filter.clauses.forEach((clause, index) => {
      const value = clause.value === undefined ? '' : ` ${JSON.stringify(clause.value)}`;
      details[`scopingFilter[${filter.index}].clause[${index}]`] =
        `${clause.attribute} ${clause.operator}${value} (seen ${show(clause.seen)}): ${clause.passed}`;
    });
  }
  return details;
}
