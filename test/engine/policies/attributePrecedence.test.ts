// Attribute precedence between sources writing the same person: per attribute, the best-ranked
// source that provides a value wins; an empty value lets the next source take the attribute.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PRECEDENCE,
  mergeContributions,
  preferredSource,
  provides,
  rankOf,
  type Contribution,
  type SourceRank,
} from '../../../engine/policies/attributePrecedence.ts';

const ranks = (...list: SourceRank[]) => new Map(list.map((r) => [r.sourceId, r]));
const hr: SourceRank = { sourceId: 'hr', precedence: 10, createdAt: '2026-02-01T00:00:00Z' };
const ldap: SourceRank = { sourceId: 'ldap', precedence: 50, createdAt: '2026-01-01T00:00:00Z' };

const hrSays: Contribution = {
  sourceId: 'hr',
  attributes: { userPrincipalName: 'ada@hr.example', department: 'Finance', jobTitle: null, accountEnabled: true },
};
const ldapSays: Contribution = {
  sourceId: 'ldap',
  attributes: {
    userPrincipalName: 'ada@corp.example',
    department: 'IT',
    jobTitle: 'Engineer',
    mobilePhone: '+1 555',
    accountEnabled: false,
  },
};

describe('mergeContributions', () => {
  it('gives each attribute to the lower precedence number, whatever order the contributions come in', () => {
    for (const order of [
      [hrSays, ldapSays],
      [ldapSays, hrSays],
    ]) {
      const merged = mergeContributions(order, ranks(hr, ldap));
      expect(merged.attributes).toMatchObject({
        userPrincipalName: 'ada@hr.example',
        department: 'Finance',
        accountEnabled: true,
      });
      expect(merged.attributeSources).toMatchObject({ department: 'hr', userPrincipalName: 'hr' });
    }
  });

  it('lets the lower source fill the attributes the higher one leaves empty', () => {
    const merged = mergeContributions([hrSays, ldapSays], ranks(hr, ldap));
    expect(merged.attributes).toMatchObject({ jobTitle: 'Engineer', mobilePhone: '+1 555' });
    expect(merged.attributeSources).toMatchObject({ jobTitle: 'ldap', mobilePhone: 'ldap' });
  });

  it('a per-attribute override beats the source’s overall precedence', () => {
    const ldapOwnsEnabled = { ...ldap, attributePrecedence: { accountEnabled: 1 } };
    const merged = mergeContributions([hrSays, ldapSays], ranks(hr, ldapOwnsEnabled));
    expect(merged.attributes.accountEnabled).toBe(false);
    expect(merged.attributeSources.accountEnabled).toBe('ldap');
    expect(merged.attributeSources.department).toBe('hr');
  });

  it('equal ranks go to the older source', () => {
    const sameRank = ranks({ ...hr, precedence: 50 }, ldap);
    expect(mergeContributions([hrSays, ldapSays], sameRank).attributes.department).toBe('IT');
  });

  it('leaves out what no source provides', () => {
    const merged = mergeContributions([hrSays], ranks(hr));
    expect(merged.attributes).not.toHaveProperty('jobTitle');
    expect(merged.attributeSources).not.toHaveProperty('jobTitle');
  });

  it('counts false as a value, and empty strings, lists and maps as none', () => {
    expect(provides(false)).toBe(true);
    expect(provides(0)).toBe(true);
    for (const empty of [null, undefined, '', [], {}]) expect(provides(empty)).toBe(false);
  });
});

describe('ranks and ownership', () => {
  it('a source without precedence ranks at the default', () => {
    expect(rankOf({ sourceId: 'x', createdAt: '' }, 'department')).toBe(DEFAULT_PRECEDENCE);
    expect(rankOf({ ...hr, attributePrecedence: { department: 3 } }, 'department')).toBe(3);
  });

  it('the preferred owner is the best-ranked source overall', () => {
    expect(preferredSource(['ldap', 'hr'], ranks(hr, ldap))).toBe('hr');
    expect(preferredSource([], ranks(hr, ldap))).toBeNull();
  });
});
