// What the client puts on the wire per compatibility profile, and how PUT-only targets get patched.
import { describe, expect, it } from 'vitest';
import { SCIM_ENTERPRISE_USER_SCHEMA, SCIM_USER_SCHEMA, type ScimResource } from '../../engine/types.ts';
import { applyPatch, eqFilter, quoteFilterValue, toPatchOpMessage } from '../../scim/index.ts';

describe('PatchOp on the wire', () => {
  const operations = [
    { op: 'replace' as const, path: 'active', value: false },
    { op: 'add' as const, path: 'members', value: [{ value: '1' }] },
    { op: 'remove' as const, path: 'members[value eq "2"]' },
  ];

  it('strict: lowercase op and JSON booleans', () => {
    const message = toPatchOpMessage(operations, 'strict');
    expect(message.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:PatchOp']);
    expect(message.Operations).toEqual([
      { op: 'replace', path: 'active', value: false },
      { op: 'add', path: 'members', value: [{ value: '1' }] },
      { op: 'remove', path: 'members[value eq "2"]' },
    ]);
  });

  it('entra-2017: capitalised op and booleans as "True"/"False", also inside objects', () => {
    const message = toPatchOpMessage(
      [...operations, { op: 'replace', value: { active: true, displayName: 'x' } }],
      'entra-2017',
    );
    expect(message.Operations.map((operation) => operation.op)).toEqual(['Replace', 'Add', 'Remove', 'Replace']);
    expect(message.Operations[0].value).toBe('False');
    expect(message.Operations[3].value).toEqual({ active: 'True', displayName: 'x' });
  });
});

describe('applyPatch (put-only)', () => {
  const base: ScimResource = {
    schemas: [SCIM_USER_SCHEMA],
    id: '1',
    userName: 'a',
    active: true,
    name: { givenName: 'A', familyName: 'B' },
    emails: [
      { type: 'work', value: 'a@x' },
      { type: 'home', value: 'a@home' },
    ],
    meta: { resourceType: 'User' },
  };

  it('replaces simple, sub- and filtered attributes and drops meta', () => {
    const result = applyPatch(base, [
      { op: 'replace', path: 'active', value: false },
      { op: 'replace', path: 'name.givenName', value: 'Z' },
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'z@x' },
    ]);
    expect(result).toMatchObject({ active: false, name: { givenName: 'Z', familyName: 'B' } });
    expect(result.emails).toEqual([
      { type: 'work', value: 'z@x' },
      { type: 'home', value: 'a@home' },
    ]);
    expect(result.meta).toBeUndefined();
    expect(base.active).toBe(true);
  });

  it('sets an extension attribute and declares its schema', () => {
    const result = applyPatch(base, [
      { op: 'replace', path: `${SCIM_ENTERPRISE_USER_SCHEMA}:manager`, value: { value: 'boss' } },
    ]);
    expect(result[SCIM_ENTERPRISE_USER_SCHEMA]).toEqual({ manager: { value: 'boss' } });
    expect(result.schemas).toContain(SCIM_ENTERPRISE_USER_SCHEMA);
  });

  it('adds members without duplicates and removes them by filter or by value list', () => {
    const group: ScimResource = { schemas: [], id: 'g', members: [{ value: '1' }] };
    const added = applyPatch(group, [
      { op: 'add', path: 'members', value: [{ value: '1' }, { value: '2' }, { value: '3' }] },
    ]);
    expect(added.members).toEqual([{ value: '1' }, { value: '2' }, { value: '3' }]);
    const removed = applyPatch(added, [
      { op: 'remove', path: 'members[value eq "1"]' },
      { op: 'remove', path: 'members', value: [{ value: '3' }] },
    ]);
    expect(removed.members).toEqual([{ value: '2' }]);
  });

  it('applies a path-less operation attribute by attribute', () => {
    const result = applyPatch(base, [
      { op: 'replace', value: { displayName: 'D', [SCIM_ENTERPRISE_USER_SCHEMA]: { department: 'Sales' } } },
    ]);
    expect(result.displayName).toBe('D');
    expect(result[SCIM_ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'Sales' });
  });
});

describe('filters', () => {
  it('escapes quotes and backslashes and keeps unicode', () => {
    expect(quoteFilterValue('a"b\\c ü')).toBe('"a\\"b\\\\c ü"');
    expect(eqFilter('userName', 'o"neil')).toBe('userName eq "o\\"neil"');
    expect(eqFilter('active', true)).toBe('active eq true');
  });

  it('refuses attribute names that could inject filter syntax', () => {
    expect(() => eqFilter('userName eq "x" or userName', 'y')).toThrow(RangeError);
  });
});
