import { describe, expect, it } from 'vitest';
import { mappingSchema, type ObjectActions } from '../../../engine/config/index.ts';
import {
  applyMappings,
  compileMappings,
  userSourceAttributes,
  type MappingResult,
} from '../../../engine/mapping/index.ts';
import { desiredHash, diffResource, planObject, type PlanInput } from '../../../engine/planning/index.ts';
import { hashResource } from '../../../engine/hash.ts';
import { SCIM_ENTERPRISE_USER_SCHEMA, type DirectoryUser, type ScimResource } from '../../../engine/types.ts';
import { makeLink, makeUser, testEnv } from '../mapping/fixtures.ts';

const compiled = compileMappings(
  [
    { target: 'userName', type: 'direct', source: 'userPrincipalName', matchingPrecedence: 1 },
    { target: 'active', type: 'direct', source: 'accountEnabled', targetType: 'Boolean' },
    { target: 'emails[type eq "work"].value', type: 'direct', source: 'mail' },
    { target: 'name.givenName', type: 'direct', source: 'givenName' },
    { target: 'title', type: 'direct', source: 'jobTitle' },
    { target: `${SCIM_ENTERPRISE_USER_SCHEMA}:department`, type: 'direct', source: 'department' },
    { target: 'password', type: 'constant', value: 'Initial#1', apply: 'create' },
  ].map((m) => mappingSchema.parse(m)),
  'user',
);

function desired(user: DirectoryUser, operation: 'create' | 'update'): MappingResult {
  return applyMappings(compiled, userSourceAttributes(user), { operation, env: testEnv });
}

const allOn: ObjectActions = { create: true, update: true, disable: true, delete: true };
const user = makeUser();
const current: ScimResource = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: 't1',
  userName: 'alice@contoso.com',
  active: true,
  emails: [{ type: 'work', value: 'alice@contoso.com', primary: true }],
  name: { givenName: 'Alice', familyName: 'kept' },
  title: 'Engineer',
  [SCIM_ENTERPRISE_USER_SCHEMA]: { department: 'Sales' },
  password: 'set-by-user',
};

function input(overrides: Partial<PlanInput>): PlanInput {
  return {
    objectType: 'user',
    source: 'present',
    inScope: true,
    link: makeLink(),
    target: current,
    desired: desired(user, 'update'),
    settings: { actions: allOn, skipOutOfScopeDeletions: false },
    ...overrides,
  };
}

describe('planObject', () => {
  it('creates an in-scope user that is not in the target, with create-only attributes', () => {
    const plan = planObject(input({ link: null, target: null, desired: desired(user, 'create') }));
    expect(plan.action).toBe('Create');
    expect(plan.resource?.password).toBe('Initial#1');
    expect(plan.modifiedAttributes.map((m) => m.name)).toContain('userName');
    // Secrets never reach the provisioning log.
    expect(plan.modifiedAttributes.find((m) => m.name === 'password')).toEqual({
      name: 'password',
      oldValue: null,
      newValue: '[Redact]',
    });
    // The hash equals the next cycle's update view, so that cycle skips without a request.
    expect(plan.desiredHash).toBe(desiredHash(desired(user, 'update')));
  });

  it('skips creation when creates are turned off', () => {
    const plan = planObject(
      input({
        link: null,
        target: null,
        desired: desired(user, 'create'),
        settings: { actions: { ...allOn, create: false }, skipOutOfScopeDeletions: false },
      }),
    );
    expect(plan.action).toBe('Skip');
  });

  it('skips an unchanged user without fetching the target (hash)', () => {
    const d = desired(user, 'update');
    const plan = planObject(input({ target: undefined, desired: d, link: makeLink({ exportedHash: desiredHash(d) }) }));
    expect(plan).toMatchObject({ action: 'Skip', reason: 'unchanged since the last export', operations: [] });
  });

  it('asks for the target when the hash changed and the target was not fetched', () => {
    const plan = planObject(input({ target: undefined, link: makeLink({ exportedHash: 'old' }) }));
    expect(plan).toMatchObject({ action: 'Update', needsTarget: true, operations: [] });
  });

  it('skips when the target already has the desired values (create-only attributes never compared)', () => {
    const plan = planObject(input({}));
    expect(plan.action).toBe('Skip');
    expect(plan.operations).toEqual([]);
  });

  it('updates only what differs, with lowercase ops, filter paths and URN paths', () => {
    const changed = makeUser({ mail: 'alice.adams@contoso.com', jobTitle: null, department: 'Marketing' });
    const plan = planObject(input({ desired: desired(changed, 'update') }));
    expect(plan.action).toBe('Update');
    expect(plan.operations).toEqual([
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'alice.adams@contoso.com' },
      { op: 'remove', path: 'title' },
      { op: 'replace', path: `${SCIM_ENTERPRISE_USER_SCHEMA}:department`, value: 'Marketing' },
    ]);
    expect(plan.modifiedAttributes).toEqual([
      { name: 'emails[type eq "work"].value', oldValue: 'alice@contoso.com', newValue: 'alice.adams@contoso.com' },
      { name: 'title', oldValue: 'Engineer', newValue: null },
      { name: `${SCIM_ENTERPRISE_USER_SCHEMA}:department`, oldValue: 'Sales', newValue: 'Marketing' },
    ]);
    expect(plan.operations.some((op) => op.path === 'password')).toBe(false);
  });

  it('adds a missing multi-valued element as one add of the attribute', () => {
    const target = { ...current, emails: undefined };
    const plan = planObject(input({ target }));
    expect(plan.operations).toEqual([
      { op: 'add', path: 'emails', value: [{ type: 'work', value: 'alice@contoso.com' }] },
    ]);
  });

  it('skips a changed user when updates are turned off', () => {
    const plan = planObject(
      input({
        desired: desired(makeUser({ jobTitle: 'Boss' }), 'update'),
        settings: { actions: { ...allOn, update: false }, skipOutOfScopeDeletions: false },
      }),
    );
    expect(plan.action).toBe('Skip');
  });

  it('re-enables and updates a user back in scope', () => {
    const plan = planObject(
      input({
        link: makeLink({ active: false }),
        target: { ...current, active: false },
        desired: desired(makeUser({ jobTitle: 'Lead' }), 'update'),
      }),
    );
    expect(plan.action).toBe('Update');
    expect(plan.reason).toBe('back in scope: re-enable and update');
    expect(plan.operations).toContainEqual({ op: 'replace', path: 'active', value: true });
    expect(plan.operations).toContainEqual({ op: 'replace', path: 'title', value: 'Lead' });
  });

  it('re-enables even when active is not mapped', () => {
    const noActive = compileMappings(
      [mappingSchema.parse({ target: 'userName', type: 'direct', source: 'userPrincipalName' })],
      'user',
    );
    const d = applyMappings(noActive, userSourceAttributes(user), { operation: 'update', env: testEnv });
    const plan = planObject(
      input({ desired: d, link: makeLink({ active: false }), target: { ...current, active: false } }),
    );
    expect(plan.operations).toEqual([{ op: 'replace', path: 'active', value: true }]);
  });

  describe('leaving scope', () => {
    it.each([
      ['disables a provisioned user (active=false), never deletes', {}, 'Disable'],
      ['stages the disable when the deletion guard holds', { deletionGuard: true }, 'StagedDelete'],
      [
        'skips when disabling is turned off',
        { settings: { actions: { ...allOn, disable: false }, skipOutOfScopeDeletions: false } },
        'Skip',
      ],
      ['skips with skipOutOfScopeDeletions', { settings: { actions: allOn, skipOutOfScopeDeletions: true } }, 'Skip'],
      ['skips a user that was never provisioned', { link: null, target: null }, 'Skip'],
      ['skips a user already disabled', { link: makeLink({ active: false }) }, 'Skip'],
      ['disables without fetching the target', { target: undefined }, 'Disable'],
    ] as [string, Partial<PlanInput>, string][])('%s', (_name, overrides, action) => {
      const plan = planObject(input({ inScope: false, ...overrides }));
      expect(plan.action).toBe(action);
      if (action === 'Disable') {
        expect(plan.operations).toEqual([{ op: 'replace', path: 'active', value: false }]);
        expect(plan.modifiedAttributes).toEqual([{ name: 'active', oldValue: true, newValue: false }]);
        expect(plan.targetId).toBe('t1');
      }
      if (action === 'StagedDelete') expect(plan.stagedAction).toBe('Disable');
    });

    it('deletes an out-of-scope group (groups have no active), if deletes are on', () => {
      const group = input({ objectType: 'group', inScope: false, link: makeLink({ objectType: 'group' }) });
      expect(planObject(group).action).toBe('Delete');
      expect(
        planObject({ ...group, settings: { actions: { ...allOn, delete: false }, skipOutOfScopeDeletions: false } })
          .action,
      ).toBe('Skip');
    });
  });

  describe('hard-deleted in the directory', () => {
    it.each([
      ['deletes when deletes are on', {}, 'Delete'],
      [
        'skips when deletes are off',
        { settings: { actions: { ...allOn, delete: false }, skipOutOfScopeDeletions: false } },
        'Skip',
      ],
      ['stages the delete when the deletion guard holds', { deletionGuard: true }, 'StagedDelete'],
      ['skips an object never provisioned', { link: null, target: null }, 'Skip'],
    ] as [string, Partial<PlanInput>, string][])('%s', (_name, overrides, action) => {
      const plan = planObject(input({ source: 'hardDeleted', desired: null, target: undefined, ...overrides }));
      expect(plan.action).toBe(action);
      if (action === 'StagedDelete') expect(plan.stagedAction).toBe('Delete');
    });
  });
});

it('redacts the values of a Redact() mapping in the modified attributes, not in the request', () => {
  const secretMappings = compileMappings(
    [
      { target: 'userName', type: 'direct', source: 'userPrincipalName', matchingPrecedence: 1 },
      { target: 'nickName', type: 'expression', expression: 'Redact([employeeId])' },
    ].map((m) => mappingSchema.parse(m)),
    'user',
  );
  const d = applyMappings(secretMappings, userSourceAttributes(makeUser({ employeeId: 'S3CRET' })), {
    operation: 'update',
    env: testEnv,
  });
  const plan = planObject(input({ desired: d, target: { ...current, nickName: 'old' } }));
  expect(plan.operations).toEqual([{ op: 'replace', path: 'nickName', value: 'S3CRET' }]);
  expect(plan.modifiedAttributes).toEqual([{ name: 'nickName', oldValue: '[Redact]', newValue: '[Redact]' }]);
});

describe('manager reference', () => {
  const MANAGER = `${SCIM_ENTERPRISE_USER_SCHEMA}:manager`;
  const withManager = compileMappings(
    [
      { target: 'userName', type: 'direct', source: 'userPrincipalName', matchingPrecedence: 1 },
      { target: MANAGER, type: 'direct', source: 'manager', targetType: 'Reference' },
    ].map((m) => mappingSchema.parse(m)),
    'user',
  );
  const managed: ScimResource = {
    schemas: [],
    id: 't1',
    userName: 'alice@contoso.com',
    [SCIM_ENTERPRISE_USER_SCHEMA]: { manager: { value: 't-boss', $ref: '../Users/t-boss' } },
  };
  const planFor = (managerId: string | null) => {
    const d = applyMappings(withManager, userSourceAttributes(makeUser({ managerId })), {
      operation: 'update',
      env: testEnv,
      resolveReference: (id) => (id === 'boss' ? 't-boss' : null),
    });
    return { d, plan: planObject(input({ target: managed, desired: d })) };
  };

  it('a user whose manager was removed (e.g. hard-deleted) gets a PATCH that removes the manager', () => {
    const { plan } = planFor(null);
    expect(plan.action).toBe('Update');
    expect(plan.operations).toEqual([{ op: 'remove', path: MANAGER }]);
    expect(plan.modifiedAttributes).toEqual([
      { name: MANAGER, oldValue: { value: 't-boss', $ref: '../Users/t-boss' }, newValue: null },
    ]);
  });

  it('the manager removal changes the hash, so a linked user is not skipped unseen', () => {
    expect(desiredHash(planFor(null).d)).not.toBe(desiredHash(planFor('boss').d));
    expect(planFor('boss').plan.action).toBe('Skip');
  });
});

describe('diffResource', () => {
  it('never touches attributes that are not mapped', () => {
    const diff = diffResource({ schemas: [], userName: 'a', nickName: 'x' }, { schemas: [], userName: 'b' }, [
      'userName',
    ]);
    expect(diff.operations).toEqual([{ op: 'replace', path: 'userName', value: 'b' }]);
  });

  it('treats a reference with the same value as equal, whatever else the target returns', () => {
    const path = `${SCIM_ENTERPRISE_USER_SCHEMA}:manager`;
    const current = {
      schemas: [],
      [SCIM_ENTERPRISE_USER_SCHEMA]: { manager: { value: 'm', $ref: '../Users/m', displayName: 'M' } },
    };
    const same = { schemas: [], [SCIM_ENTERPRISE_USER_SCHEMA]: { manager: { value: 'm' } } };
    expect(diffResource(current, same, [path]).operations).toEqual([]);
    const other = { schemas: [], [SCIM_ENTERPRISE_USER_SCHEMA]: { manager: { value: 'n' } } };
    expect(diffResource(current, other, [path]).operations).toEqual([{ op: 'replace', path, value: { value: 'n' } }]);
  });
});

describe('hash', () => {
  it('does not depend on key order', () => {
    expect(hashResource({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(hashResource({ b: { d: 'x', c: [1, 2] }, a: 1 }));
  });

  it('changes when a value changes', () => {
    expect(hashResource({ a: 1 })).not.toBe(hashResource({ a: 2 }));
    expect(desiredHash(desired(makeUser({ jobTitle: 'A' }), 'update'))).not.toBe(
      desiredHash(desired(makeUser({ jobTitle: 'B' }), 'update')),
    );
  });
});
