// The pure half of set-based matching: a page's candidates become distinct listing keys (normalized as
// the listing's keys are), and the rows of one query go back to the key each was found under.
import { describe, expect, it } from 'vitest';
import {
  buildMatchFilter,
  candidateKeys,
  distributeListed,
  lookupPrefetched,
  type MatchCandidate,
} from '../../../engine/matching/index.ts';
import type { ScimResource } from '../../../engine/types.ts';

const candidate = (attribute: string, value: string | number | boolean): MatchCandidate => ({
  attribute,
  precedence: 0,
  value,
  filter: buildMatchFilter(attribute, value),
});
const account = (id: string): ScimResource => ({ schemas: [], id });

describe('listing keys of a page of candidates', () => {
  it('asks each normalized key once per attribute', () => {
    expect(
      candidateKeys([
        candidate('userName', 'Alice@Contoso.com'),
        candidate('userName', 'alice@contoso.com'),
        candidate('displayName', 'alice@contoso.com'),
        candidate('externalId', 'A-1'),
        candidate('externalId', 'a-1'),
        candidate('employeeNumber', 42),
      ]),
    ).toEqual([
      { attribute: 'userName', key: 'alice@contoso.com' },
      { attribute: 'displayName', key: 'alice@contoso.com' },
      { attribute: 'externalId', key: 'A-1' },
      { attribute: 'externalId', key: 'a-1' },
      { attribute: 'employeeNumber', key: '42' },
    ]);
  });

  it('hands every row to its key in order, answers nothing for a key without rows, and leaves keys not asked to the caller', () => {
    const keys = candidateKeys([candidate('userName', 'dup@contoso.com'), candidate('userName', 'none@contoso.com')]);
    const prefetched = distributeListed(keys, [
      { attribute: 'userName', key: 'dup@contoso.com', resource: account('t-2') },
      { attribute: 'userName', key: 'dup@contoso.com', resource: account('t-1') },
      { attribute: 'userName', key: 'stray@contoso.com', resource: account('t-9') },
    ]);
    expect(lookupPrefetched(prefetched, candidate('userName', 'DUP@contoso.com'))?.map((r) => r.id)).toEqual([
      't-2',
      't-1',
    ]);
    expect(lookupPrefetched(prefetched, candidate('userName', 'none@contoso.com'))).toEqual([]);
    expect(lookupPrefetched(prefetched, candidate('userName', 'stray@contoso.com'))).toBeUndefined();
    expect(lookupPrefetched(prefetched, candidate('externalId', 'dup@contoso.com'))).toBeUndefined();
  });
});
