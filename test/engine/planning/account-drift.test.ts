// A reconcile pass tells, per target account, whether it is as Ferry last left it, edited in the
// target (which attributes, and the one PATCH that restores them), deleted in the target, or an
// orphan no link points at.
import { describe, expect, it } from 'vitest';
import { accountDrift, type DriftLink } from '../../../engine/planning/index.ts';
import type { ScimResource } from '../../../engine/types.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

const link = (overrides: Partial<DriftLink> = {}): DriftLink => ({
  targetId: 't-1',
  active: true,
  exportedValues: {
    values: {
      userName: 'alice@contoso.com',
      active: true,
      title: 'Engineer',
      'name.givenName': 'Alice',
      'emails[type eq "work"].value': 'alice@contoso.com',
      displayName: null,
    },
    hashes: { nickName: 'h' },
  },
  ...overrides,
});

const account = (overrides: Record<string, unknown> = {}): ScimResource => ({
  schemas: [USER],
  id: 't-1',
  userName: 'alice@contoso.com',
  active: true,
  title: 'Engineer',
  name: { givenName: 'Alice', familyName: 'Unmapped' },
  emails: [{ type: 'work', value: 'alice@contoso.com', primary: true }],
  meta: { resourceType: 'User' },
  ...overrides,
});

describe('accountDrift', () => {
  const cases: {
    fact: string;
    link: DriftLink | null;
    account: ScimResource | null;
    kind: string;
    attributes?: string[];
  }[] = [
    { fact: 'an account as last exported is in step', link: link(), account: account(), kind: 'inStep' },
    {
      fact: 'attributes Ferry does not map are not drift',
      link: link(),
      account: account({ nickName: 'anything', name: { givenName: 'Alice', familyName: 'Other' } }),
      kind: 'inStep',
    },
    {
      fact: 'a changed mapped attribute is an edit',
      link: link(),
      account: account({ title: 'CEO' }),
      kind: 'edited',
      attributes: ['title'],
    },
    {
      fact: 'a removed mapped attribute is an edit',
      link: link(),
      account: account({ title: undefined, emails: [] }),
      kind: 'edited',
      attributes: ['title', 'emails[type eq "work"].value'],
    },
    {
      fact: 'an attribute exported as empty and set in the target is an edit',
      link: link(),
      account: account({ displayName: 'Al' }),
      kind: 'edited',
      attributes: ['displayName'],
    },
    {
      fact: 'a disabled account re-enabled in the target is an edit',
      link: link({ active: false }),
      account: account({ active: true }),
      kind: 'edited',
      attributes: ['active'],
    },
    {
      fact: 'a disabled account still disabled is in step',
      link: link({ active: false }),
      account: account({ active: false }),
      kind: 'inStep',
    },
    { fact: 'a linked account the target lacks was deleted there', link: link(), account: null, kind: 'deleted' },
    { fact: 'an account no link points at is an orphan', link: null, account: account(), kind: 'orphan' },
    {
      fact: 'a link without exported values cannot be compared',
      link: link({ exportedValues: null }),
      account: account({ title: 'CEO' }),
      kind: 'unknown',
    },
  ];

  for (const c of cases) {
    it(c.fact, () => {
      const drift = accountDrift(c.link, c.account);
      expect(drift.kind).toBe(c.kind);
      if (c.attributes) {
        expect(drift.kind === 'edited' && drift.attributes.map((a) => a.name)).toEqual(c.attributes);
      }
    });
  }

  it('restores an edit with one PATCH of the last exported values, old value the target’s', () => {
    const drift = accountDrift(link(), account({ title: 'CEO', name: { givenName: 'Al', familyName: 'X' } }));
    expect(drift).toEqual({
      kind: 'edited',
      attributes: [
        { name: 'title', oldValue: 'CEO', newValue: 'Engineer' },
        { name: 'name.givenName', oldValue: 'Al', newValue: 'Alice' },
      ],
      operations: [
        { op: 'replace', path: 'title', value: 'Engineer' },
        { op: 'replace', path: 'name.givenName', value: 'Alice' },
      ],
    });
  });

  it('removes what the target added where Ferry exported nothing', () => {
    const drift = accountDrift(link(), account({ displayName: 'Al' }));
    expect(drift.kind === 'edited' && drift.operations).toEqual([{ op: 'remove', path: 'displayName' }]);
  });
});
