// Adopting an orphan: the directory user is found from the account's side, by the same matching
// attributes, normalization and precedence as a cycle matching the user to the account.
import { describe, expect, it } from 'vitest';
import { mappingSchema } from '../../../engine/config/index.ts';
import { compileMappings } from '../../../engine/mapping/index.ts';
import { buildOrphanIndex, matchCandidates, matchOrphan } from '../../../engine/matching/index.ts';
import type { ScimResource } from '../../../engine/types.ts';

const compiled = compileMappings(
  [
    { target: 'userName', type: 'direct', source: 'userPrincipalName', matchingPrecedence: 1 },
    { target: 'externalId', type: 'direct', source: 'mailNickname', matchingPrecedence: 2 },
  ].map((m) => mappingSchema.parse(m)),
  'user',
);
const attributes = compiled.matching.map((m) => m.target);
const desired = (userName: string, externalId?: string): ScimResource => ({
  schemas: [],
  userName,
  ...(externalId ? { externalId } : {}),
});
const directory = (entries: [string, ScimResource][]) =>
  buildOrphanIndex(
    attributes,
    entries.map(([sourceId, resource]) => ({ sourceId, candidates: matchCandidates(compiled, resource) })),
  );

describe('matchOrphan', () => {
  const index = directory([
    ['u1', desired('Alice@Contoso.com', 'alice')],
    ['u2', desired('bob@contoso.com', 'shared')],
    ['u3', desired('carol@contoso.com', 'shared')],
  ]);

  it('finds the user whose userName the account has, case-insensitively as the target compares it', () => {
    expect(matchOrphan(index, { schemas: [], id: 't1', userName: 'alice@contoso.COM' })).toEqual({
      outcome: 'matched',
      sourceId: 'u1',
      attribute: 'userName',
    });
  });

  it('tries the attributes in precedence order: a userName match wins over a different externalId', () => {
    const account = { schemas: [], id: 't2', userName: 'bob@contoso.com', externalId: 'alice' };
    expect(matchOrphan(index, account)).toMatchObject({ outcome: 'matched', sourceId: 'u2' });
  });

  it('falls back to the next attribute; externalId compares case-exactly', () => {
    expect(matchOrphan(index, { schemas: [], id: 't3', userName: 'x@y', externalId: 'alice' })).toMatchObject({
      outcome: 'matched',
      sourceId: 'u1',
      attribute: 'externalId',
    });
    expect(matchOrphan(index, { schemas: [], id: 't3', userName: 'x@y', externalId: 'ALICE' }).outcome).toBe(
      'notFound',
    );
  });

  it('is ambiguous when two users have the value the account matches by, and not found when nobody has it', () => {
    expect(matchOrphan(index, { schemas: [], id: 't4', externalId: 'shared' })).toEqual({
      outcome: 'ambiguous',
      sourceIds: ['u2', 'u3'],
      attribute: 'externalId',
    });
    expect(matchOrphan(index, { schemas: [], id: 't5', userName: 'stranger@contoso.com' }).outcome).toBe('notFound');
  });
});
