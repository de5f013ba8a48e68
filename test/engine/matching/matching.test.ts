import { describe, expect, it } from 'vitest';
import { mappingSchema } from '../../../engine/config/index.ts';
import { compileMappings } from '../../../engine/mapping/index.ts';
import {
  buildMatchFilter,
  buildTargetIndex,
  classifyMatch,
  lookupInIndex,
  matchCandidates,
  matchInOrder,
} from '../../../engine/matching/index.ts';
import type { ScimResource } from '../../../engine/types.ts';

const user = (id: string, userName: string, extra: Record<string, unknown> = {}): ScimResource => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id,
  userName,
  ...extra,
});

describe('buildMatchFilter', () => {
  it.each([
    ['userName', 'alice@contoso.com', 'userName eq "alice@contoso.com"'],
    ['userName', 'a"b', 'userName eq "a\\"b"'],
    ['userName', 'back\\slash', 'userName eq "back\\\\slash"'],
    ['externalId', 'x" or userName pr or "', 'externalId eq "x\\" or userName pr or \\""'],
    ['name.familyName', 'Ådams', 'name.familyName eq "Ådams"'],
    ['emails[type eq "work"].value', 'a@b.c', 'emails[type eq "work" and value eq "a@b.c"]'],
    [
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber',
      '42',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42"',
    ],
  ])('%s = %j → %s', (path, value, expected) => {
    expect(buildMatchFilter(path, value)).toBe(expected);
  });

  it('writes numbers and booleans without quotes', () => {
    expect(buildMatchFilter('active', true)).toBe('active eq true');
    expect(buildMatchFilter('employeeNumber', 7)).toBe('employeeNumber eq 7');
  });
});

describe('matchCandidates', () => {
  const compiled = compileMappings(
    [
      { target: 'emails[type eq "work"].value', type: 'direct', source: 'mail', matchingPrecedence: 2 },
      { target: 'userName', type: 'direct', source: 'userPrincipalName', matchingPrecedence: 1 },
      { target: 'externalId', type: 'direct', source: 'mailNickname', matchingPrecedence: 3 },
    ].map((m) => mappingSchema.parse(m)),
    'user',
  );

  it('lists matching attributes in precedence order, skipping those without a value', () => {
    const desired = user('', 'alice@contoso.com', { emails: [{ type: 'work', value: 'alice@contoso.com' }] });
    expect(matchCandidates(compiled, desired).map((c) => c.filter)).toEqual([
      'userName eq "alice@contoso.com"',
      'emails[type eq "work" and value eq "alice@contoso.com"]',
    ]);
  });
});

describe('classifyMatch', () => {
  it.each([
    [[], 'notFound'],
    [[user('1', 'a')], 'matched'],
    [[user('1', 'a'), user('2', 'a')], 'duplicate'],
  ] as const)('%j → %s', (resources, outcome) => {
    expect(classifyMatch(resources).outcome).toBe(outcome);
  });

  it('reports duplicates with the DuplicateTargetEntries code', () => {
    const result = classifyMatch([user('1', 'a'), user('2', 'a')]);
    expect(result).toMatchObject({ outcome: 'duplicate', code: 'DuplicateTargetEntries' });
  });
});

describe('in-memory matching against a bulk listing', () => {
  const listing = [
    user('t1', 'Alice@Contoso.com', { externalId: 'alice', emails: [{ type: 'work', value: 'alice@contoso.com' }] }),
    user('t2', 'bob@contoso.com', { externalId: 'Bob' }),
    user('t3', 'carol@contoso.com', { externalId: 'dup' }),
    user('t4', 'carol2@contoso.com', { externalId: 'dup' }),
  ];
  const index = buildTargetIndex(listing, ['userName', 'externalId', 'emails[type eq "work"].value']);
  const candidate = (attribute: string, value: string) => ({
    attribute,
    precedence: 1,
    value,
    filter: buildMatchFilter(attribute, value),
  });

  it('matches userName case-insensitively, as SCIM defines it', () => {
    expect(lookupInIndex(index, candidate('userName', 'alice@contoso.com')).map((r) => r.id)).toEqual(['t1']);
  });

  it('matches externalId exactly (caseExact)', () => {
    expect(lookupInIndex(index, candidate('externalId', 'bob'))).toEqual([]);
    expect(lookupInIndex(index, candidate('externalId', 'Bob')).map((r) => r.id)).toEqual(['t2']);
  });

  it('matches value-filtered multi-valued attributes', () => {
    expect(
      lookupInIndex(index, candidate('emails[type eq "work"].value', 'ALICE@contoso.com')).map((r) => r.id),
    ).toEqual(['t1']);
  });

  it('stops at the first attribute that finds something and records each attempt', () => {
    const decision = matchInOrder([candidate('userName', 'nobody@contoso.com'), candidate('externalId', 'dup')], (c) =>
      lookupInIndex(index, c),
    );
    expect(decision.outcome.outcome).toBe('duplicate');
    expect(decision.attempts).toEqual([
      { attribute: 'userName', filter: 'userName eq "nobody@contoso.com"', found: 0, targetIds: [] },
      { attribute: 'externalId', filter: 'externalId eq "dup"', found: 2, targetIds: ['t3', 't4'] },
    ]);
  });

  it('is notFound when no attribute finds anything', () => {
    const decision = matchInOrder([candidate('userName', 'zed@contoso.com')], (c) => lookupInIndex(index, c));
    expect(decision.outcome).toEqual({ outcome: 'notFound' });
  });
});
