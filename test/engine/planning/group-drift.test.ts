// A reconcile pass tells, per target group, whether it is as Ferry last left it: its own attributes
// (displayName …) compared as for accounts, and its members compared with the ones Ferry last
// exported, which are known only while the directory's member list still hashes to what the link
// recorded. Member repairs are chunked as a cycle's member writes are.
import { describe, expect, it } from 'vitest';
import {
  exportedMemberIds,
  groupDrift,
  memberSetHash,
  membersDrift,
  targetMemberIds,
  type DriftLink,
} from '../../../engine/planning/index.ts';
import { buildMembershipIndex } from '../../../engine/scoping/index.ts';
import type { ScimResource } from '../../../engine/types.ts';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const link = (overrides: Partial<DriftLink> = {}): DriftLink => ({
  targetId: 'tg-1',
  active: true,
  exportedValues: { values: { displayName: 'Sales', externalId: 'g1' } },
  ...overrides,
});

const group = (overrides: Record<string, unknown> = {}): ScimResource => ({
  schemas: [GROUP],
  id: 'tg-1',
  displayName: 'Sales',
  externalId: 'g1',
  meta: { resourceType: 'Group' },
  ...overrides,
});

describe('groupDrift', () => {
  it('a group as last exported, members included, is in step', () => {
    const drift = groupDrift({
      link: link(),
      group: group(),
      members: { exported: ['a', 'b'], target: ['b', 'a'], chunkSize: 50 },
    });
    expect(drift).toEqual({ kind: 'inStep' });
  });

  it('a renamed group is an edit restored by one PATCH of its displayName', () => {
    const drift = groupDrift({ link: link(), group: group({ displayName: 'Renamed' }), members: null });
    expect(drift).toEqual({
      kind: 'edited',
      attributes: [{ name: 'displayName', oldValue: 'Renamed', newValue: 'Sales' }],
      operations: [{ op: 'replace', path: 'displayName', value: 'Sales' }],
      members: null,
    });
  });

  it('a member removed in the target is added back and a stranger added there is removed', () => {
    const drift = groupDrift({
      link: link(),
      group: group(),
      members: { exported: ['a', 'b', 'c'], target: ['a', 'c', 'stranger'], chunkSize: 50 },
    });
    expect(drift).toEqual({
      kind: 'edited',
      attributes: [
        { name: 'members (added)', oldValue: null, newValue: ['b'] },
        { name: 'members (removed)', oldValue: ['stranger'], newValue: null },
      ],
      operations: [],
      members: {
        add: ['b'],
        remove: ['stranger'],
        requests: [
          [{ op: 'add', path: 'members', value: [{ value: 'b' }] }],
          [{ op: 'remove', path: 'members', value: [{ value: 'stranger' }] }],
        ],
      },
    });
  });

  it('a rename and member drift together are one edit with both', () => {
    const drift = groupDrift({
      link: link(),
      group: group({ displayName: 'X' }),
      members: { exported: ['a'], target: [], chunkSize: 50 },
    });
    expect(drift.kind === 'edited' && drift.attributes.map((a) => a.name)).toEqual(['displayName', 'members (added)']);
  });

  it('an inactive group link does not make `active` drift (groups have none)', () => {
    expect(groupDrift({ link: link({ active: false }), group: group(), members: null })).toEqual({ kind: 'inStep' });
  });

  it('a linked group the target lacks was deleted there; a group no link points at is an orphan', () => {
    expect(groupDrift({ link: link(), group: null, members: null }).kind).toBe('deleted');
    expect(groupDrift({ link: null, group: group(), members: null }).kind).toBe('orphan');
  });

  it('without exported values the attributes are not compared, but known members still are', () => {
    const noValues = link({ exportedValues: null });
    expect(groupDrift({ link: noValues, group: group({ displayName: 'X' }), members: null }).kind).toBe('unknown');
    const drift = groupDrift({
      link: noValues,
      group: group({ displayName: 'X' }),
      members: { exported: [], target: ['stranger'], chunkSize: 50 },
    });
    expect(drift.kind === 'edited' && drift.attributes.map((a) => a.name)).toEqual(['members (removed)']);
  });
});

describe('membersDrift', () => {
  it('chunks member repairs by the chunk size, adds first', () => {
    const exported = Array.from({ length: 5 }, (_, i) => `m${i}`);
    const drift = membersDrift({ exported, target: ['x1', 'x2', 'x3'], chunkSize: 2 });
    expect(drift.add).toEqual(exported);
    expect(drift.remove).toEqual(['x1', 'x2', 'x3']);
    expect(drift.requests.map((r) => [r[0].op, (r[0].value as unknown[]).length])).toEqual([
      ['add', 2],
      ['add', 2],
      ['add', 1],
      ['remove', 2],
      ['remove', 1],
    ]);
  });
});

describe('exportedMemberIds', () => {
  // g1 holds alice and g2 (nested), g2 holds bob; carol is in g1 but not linked.
  const memberships = buildMembershipIndex([
    { groupId: 'g1', memberId: 'alice', memberType: 'user' },
    { groupId: 'g1', memberId: 'g2', memberType: 'group' },
    { groupId: 'g1', memberId: 'carol', memberType: 'user' },
    { groupId: 'g2', memberId: 'bob', memberType: 'user' },
  ]);
  const targets: Record<string, string> = { alice: 't-alice', bob: 't-bob' };
  const resolveMember = (id: string) => targets[id] ?? null;

  it('is the flattened, linked members when they hash to what the link recorded', () => {
    const exportedHash = `res|${memberSetHash(['t-bob', 't-alice'])}`;
    expect(exportedMemberIds({ groupId: 'g1', exportedHash, memberships, resolveMember })).toEqual([
      't-alice',
      't-bob',
    ]);
  });

  it('is unknown when the directory changed since the export, or the link has no member hash', () => {
    const stale = `res|${memberSetHash(['t-alice'])}`;
    expect(exportedMemberIds({ groupId: 'g1', exportedHash: stale, memberships, resolveMember })).toBeNull();
    expect(exportedMemberIds({ groupId: 'g1', exportedHash: 'res', memberships, resolveMember })).toBeNull();
    expect(exportedMemberIds({ groupId: 'g1', exportedHash: null, memberships, resolveMember })).toBeNull();
  });
});

describe('targetMemberIds', () => {
  it('reads member ids, and tells a group listed without members from an empty one', () => {
    expect(targetMemberIds(group({ members: [{ value: 'a' }, { value: 'b', display: 'B' }] }))).toEqual(['a', 'b']);
    expect(targetMemberIds(group({ members: [] }))).toEqual([]);
    expect(targetMemberIds(group())).toBeNull();
  });
});
