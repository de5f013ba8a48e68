import { describe, expect, it } from 'vitest';
import type { ScopingClause, ScopingFilter } from '../../../engine/config/index.ts';
import {
  ancestorGroups,
  buildMembershipIndex,
  createScopeContext,
  evaluateScope,
  flattenGroupUsers,
  scopeDetails,
  type ScopeContextInput,
} from '../../../engine/scoping/index.ts';
import type { AppRoleAssignment, Membership } from '../../../engine/types.ts';
import { makeGroup, makeUser } from '../mapping/fixtures.ts';

const assign = (principalId: string, role = 'User', principalType: 'user' | 'group' = 'user'): AppRoleAssignment => ({
  appId: 'app1',
  principalId,
  principalType,
  role,
});
const member = (groupId: string, memberId: string, memberType: 'user' | 'group' = 'user'): Membership => ({
  groupId,
  memberId,
  memberType,
});

function context(overrides: Partial<ScopeContextInput> = {}) {
  return createScopeContext({
    appScope: 'assigned',
    assignments: [assign('u1')],
    memberships: [],
    scopingFilters: [],
    ...overrides,
  });
}

function clauseResult(clause: ScopingClause, attributes: Record<string, unknown>): boolean {
  const ctx = context({ scopingFilters: [{ title: 't', clauses: [clause] }] });
  const result = evaluateScope({ objectType: 'user', object: makeUser(), attributes }, ctx);
  return result.filters[0].clauses[0].passed;
}

describe('scoping operators', () => {
  it.each<[string, ScopingClause, unknown, boolean]>([
    ['EQUALS matches exactly', { attribute: 'a', operator: 'EQUALS', value: 'Sales' }, 'Sales', true],
    ['EQUALS is case-sensitive', { attribute: 'a', operator: 'EQUALS', value: 'Sales' }, 'sales', false],
    ['EQUALS on a boolean ignores case', { attribute: 'a', operator: 'EQUALS', value: 'True' }, true, true],
    ['EQUALS on null is false', { attribute: 'a', operator: 'EQUALS', value: 'Sales' }, null, false],
    ['NOT EQUALS on another value', { attribute: 'a', operator: 'NOT EQUALS', value: 'Sales' }, 'HR', true],
    ['NOT EQUALS on the same value', { attribute: 'a', operator: 'NOT EQUALS', value: 'Sales' }, 'Sales', false],
    ['NOT EQUALS on null is false', { attribute: 'a', operator: 'NOT EQUALS', value: 'Sales' }, null, false],
    ['IS TRUE on true', { attribute: 'a', operator: 'IS TRUE' }, true, true],
    ['IS TRUE on "True"', { attribute: 'a', operator: 'IS TRUE' }, 'True', true],
    ['IS TRUE on false', { attribute: 'a', operator: 'IS TRUE' }, false, false],
    ['IS TRUE on null', { attribute: 'a', operator: 'IS TRUE' }, null, false],
    ['IS FALSE on false', { attribute: 'a', operator: 'IS FALSE' }, false, true],
    ['IS FALSE on null is false', { attribute: 'a', operator: 'IS FALSE' }, null, false],
    ['IS NULL on null', { attribute: 'a', operator: 'IS NULL' }, null, true],
    ['IS NULL on empty string', { attribute: 'a', operator: 'IS NULL' }, '', true],
    ['IS NULL on an empty list', { attribute: 'a', operator: 'IS NULL' }, [], true],
    ['IS NULL on a value', { attribute: 'a', operator: 'IS NULL' }, 'x', false],
    ['IS NOT NULL on a value', { attribute: 'a', operator: 'IS NOT NULL' }, 'x', true],
    ['IS NOT NULL on empty string', { attribute: 'a', operator: 'IS NOT NULL' }, '', false],
    ['REGEX MATCH matches', { attribute: 'a', operator: 'REGEX MATCH', value: '^S.*s$' }, 'Sales', true],
    ['REGEX MATCH no match', { attribute: 'a', operator: 'REGEX MATCH', value: '^H' }, 'Sales', false],
    ['REGEX MATCH on null', { attribute: 'a', operator: 'REGEX MATCH', value: '.*' }, null, false],
    ['NOT REGEX MATCH no match', { attribute: 'a', operator: 'NOT REGEX MATCH', value: '^H' }, 'Sales', true],
    ['NOT REGEX MATCH on a match', { attribute: 'a', operator: 'NOT REGEX MATCH', value: '^S' }, 'Sales', false],
    ['NOT REGEX MATCH on null', { attribute: 'a', operator: 'NOT REGEX MATCH', value: '^S' }, null, false],
    // Patterns a backtracking engine takes exponential time on run in linear time, with the right answer.
    [
      'REGEX MATCH with nested quantifiers',
      { attribute: 'a', operator: 'REGEX MATCH', value: '^(a+)+$' },
      'aaaa',
      true,
    ],
    [
      'REGEX MATCH with nested quantifiers on a near miss',
      { attribute: 'a', operator: 'REGEX MATCH', value: '^(a+)+$' },
      `${'a'.repeat(5000)}b`,
      false,
    ],
    [
      'REGEX MATCH with a repeated greedy group on a near miss',
      { attribute: 'a', operator: 'REGEX MATCH', value: '(.*a){50}' },
      'a'.repeat(45),
      false,
    ],
    [
      'NOT REGEX MATCH with a repeated greedy group on a near miss',
      { attribute: 'a', operator: 'NOT REGEX MATCH', value: '(.*a){50}' },
      'a'.repeat(45),
      true,
    ],
    [
      'REGEX MATCH with a pattern the linear-time engine refuses matches nothing',
      { attribute: 'a', operator: 'REGEX MATCH', value: '(a)\\1' },
      'aa',
      false,
    ],
    [
      'NOT REGEX MATCH with a refused pattern is false too',
      { attribute: 'a', operator: 'NOT REGEX MATCH', value: '(?=a)' },
      'b',
      false,
    ],
    [
      'REGEX MATCH on a value too long to run a pattern on',
      { attribute: 'a', operator: 'REGEX MATCH', value: 'a' },
      'a'.repeat(10_001),
      false,
    ],
    [
      'NOT REGEX MATCH on a value too long to run a pattern on',
      { attribute: 'a', operator: 'NOT REGEX MATCH', value: 'b' },
      'a'.repeat(10_001),
      false,
    ],
    ['Greater_Than above', { attribute: 'a', operator: 'Greater_Than', value: '10' }, 11, true],
    ['Greater_Than equal', { attribute: 'a', operator: 'Greater_Than', value: '10' }, '10', false],
    ['Greater_Than on a non-integer', { attribute: 'a', operator: 'Greater_Than', value: '10' }, 'eleven', false],
    ['Greater_Than_OR_EQUALS equal', { attribute: 'a', operator: 'Greater_Than_OR_EQUALS', value: '10' }, '10', true],
    ['Greater_Than_OR_EQUALS below', { attribute: 'a', operator: 'Greater_Than_OR_EQUALS', value: '10' }, 9, false],
    ['Includes a substring', { attribute: 'a', operator: 'Includes', value: 'ale' }, 'Sales', true],
    ['Includes is case-sensitive', { attribute: 'a', operator: 'Includes', value: 'SAL' }, 'Sales', false],
    ['ENDS_WITH the suffix', { attribute: 'a', operator: 'ENDS_WITH', value: '@contoso.com' }, 'a@contoso.com', true],
    [
      'ENDS_WITH another suffix',
      { attribute: 'a', operator: 'ENDS_WITH', value: '@contoso.com' },
      'a@fabrikam.com',
      false,
    ],
    ['& with the bits set', { attribute: 'a', operator: '&', value: '2' }, 514, true],
    ['& without the bits', { attribute: 'a', operator: '&', value: '2' }, 512, false],
    ['!& without the bits', { attribute: 'a', operator: '!&', value: '2' }, 512, true],
    ['!& with the bits set', { attribute: 'a', operator: '!&', value: '2' }, '514', false],
    ['!& on null', { attribute: 'a', operator: '!&', value: '2' }, null, false],
    ['multi-valued EQUALS: one value matches', { attribute: 'a', operator: 'EQUALS', value: 'x' }, ['w', 'x'], true],
    [
      'multi-valued NOT EQUALS: all must differ',
      { attribute: 'a', operator: 'NOT EQUALS', value: 'x' },
      ['w', 'x'],
      false,
    ],
    ['multi-valued NOT EQUALS: none equal', { attribute: 'a', operator: 'NOT EQUALS', value: 'x' }, ['w', 'y'], true],
    ['multi-valued ENDS_WITH', { attribute: 'a', operator: 'ENDS_WITH', value: '.se' }, ['a.com', 'b.se'], true],
  ])('%s', (_name, clause, value, expected) => {
    expect(clauseResult(clause, { a: value })).toBe(expected);
  });
});

describe('evaluateScope', () => {
  it('puts an active, directly assigned user with a real role in scope and explains each check', () => {
    const result = evaluateScope({ objectType: 'user', object: makeUser() }, context());
    expect(result.inScope).toBe(true);
    expect(result.checks.map((c) => [c.check, c.passed])).toEqual([
      ['active', true],
      ['assigned', true],
      ['role', true],
      ['scopingFilters', true],
    ]);
    expect(result.roles).toEqual(['User']);
  });

  it.each([
    ['disabled in the directory', makeUser({ accountEnabled: false }), 'active', 'accountEnabled is false'],
    ['soft-deleted', makeUser({ deletedDateTime: '2024-01-01T00:00:00Z' }), 'active', 'soft-deleted'],
    ['not assigned', makeUser({ id: 'u9' }), 'assigned', 'not assigned'],
  ])('leaves a user %s out of scope', (_name, user, check, detail) => {
    const result = evaluateScope({ objectType: 'user', object: user }, context());
    expect(result.inScope).toBe(false);
    const failed = result.checks.find((c) => !c.passed);
    expect(failed?.check).toBe(check);
    expect(failed?.detail).toContain(detail);
  });

  it('excludes a user assigned only with the Default Access role (msiam_access)', () => {
    const result = evaluateScope(
      { objectType: 'user', object: makeUser() },
      context({ assignments: [assign('u1', 'msiam_access')] }),
    );
    expect(result.inScope).toBe(false);
    expect(result.checks.find((c) => c.check === 'role')).toMatchObject({ passed: false });
  });

  it('counts an assignment through nested groups, and tolerates a membership cycle', () => {
    const memberships = [
      member('g-inner', 'u1'),
      member('g-outer', 'g-inner', 'group'),
      member('g-inner', 'g-outer', 'group'),
    ];
    const result = evaluateScope(
      { objectType: 'user', object: makeUser() },
      context({ assignments: [assign('g-outer', 'Agent', 'group')], memberships }),
    );
    expect(result.inScope).toBe(true);
    expect(result.checks.find((c) => c.check === 'assigned')?.detail).toBe('assigned through group g-outer');
    expect(result.roles).toEqual(['Agent']);
  });

  it('skips the assignment and role checks when the app scope is all', () => {
    const result = evaluateScope(
      { objectType: 'user', object: makeUser({ id: 'nobody' }) },
      context({ appScope: 'all', assignments: [] }),
    );
    expect(result.inScope).toBe(true);
    expect(result.checks.map((c) => c.check)).toEqual(['active', 'assigned', 'scopingFilters']);
  });

  const filters: ScopingFilter[] = [
    {
      title: 'Sales in Sweden',
      clauses: [
        { attribute: 'department', operator: 'EQUALS', value: 'Sales' },
        { attribute: 'country', operator: 'EQUALS', value: 'SE' },
      ],
    },
    { title: 'Contractors', clauses: [{ attribute: 'extension_type', operator: 'EQUALS', value: 'contractor' }] },
  ];

  it.each([
    ['passes all clauses of the first filter', makeUser(), true],
    ['fails one clause of the first filter (AND)', makeUser({ country: 'NO' }), false],
    [
      'passes only the second filter (OR)',
      makeUser({ department: 'HR', extensions: { extension_type: 'contractor' } }),
      true,
    ],
  ])('a user who %s', (_name, user, inScope) => {
    expect(evaluateScope({ objectType: 'user', object: user }, context({ scopingFilters: filters })).inScope).toBe(
      inScope,
    );
  });

  it('explains each clause with the value it saw', () => {
    const result = evaluateScope(
      { objectType: 'user', object: makeUser({ country: 'NO' }) },
      context({ scopingFilters: filters }),
    );
    expect(result.filters[0].clauses[1]).toEqual({
      attribute: 'country',
      operator: 'EQUALS',
      value: 'SE',
      seen: 'NO',
      passed: false,
    });
    const details = scopeDetails(result);
    expect(details['scopingFilter[0].clause[1]']).toBe('country EQUALS "SE" (seen "NO"): false');
    expect(details['scopingFilters']).toBe('failed: passes none of the scoping filters');
    expect(details['active']).toBe('passed: active in the directory');
  });

  it('treats a soft-deleted group as inactive and an assigned group as in scope', () => {
    const ctx = context({ assignments: [assign('g1', 'User', 'group')] });
    expect(evaluateScope({ objectType: 'group', object: makeGroup() }, ctx).inScope).toBe(true);
    expect(
      evaluateScope({ objectType: 'group', object: makeGroup({ deletedDateTime: '2024-01-01T00:00:00Z' }) }, ctx)
        .inScope,
    ).toBe(false);
  });
});

describe('group closure', () => {
  const index = buildMembershipIndex([
    member('a', 'u1'),
    member('a', 'b', 'group'),
    member('b', 'u2'),
    member('b', 'c', 'group'),
    member('c', 'u3'),
    member('c', 'a', 'group'), // cycle a → b → c → a
  ]);

  it('flattens nested groups to their users through a cycle', () => {
    expect([...flattenGroupUsers(index, 'a')].sort()).toEqual(['u1', 'u2', 'u3']);
    expect([...flattenGroupUsers(index, 'c')].sort()).toEqual(['u1', 'u2', 'u3']);
  });

  it('finds every ancestor group through a cycle', () => {
    expect(ancestorGroups(index, 'u3').sort()).toEqual(['a', 'b', 'c']);
    expect(ancestorGroups(index, 'nobody')).toEqual([]);
  });
});
