// An update is computed from the values the link kept at the last export: one PATCH with exactly what
// changed, no read of the target; secrets are kept as hashes only.
import { describe, expect, it } from 'vitest';
import { mappingSchema, type ObjectActions } from '../../../engine/config/index.ts';
import { applyMappings, compileMappings, userSourceAttributes } from '../../../engine/mapping/index.ts';
import { exportedValues, planObject, type PlanInput } from '../../../engine/planning/index.ts';
import type { DirectoryUser, Link } from '../../../engine/types.ts';
import { makeLink, makeUser, testEnv } from '../mapping/fixtures.ts';

const compiled = compileMappings(
  [
    { target: 'userName', type: 'direct', source: 'userPrincipalName', matchingPrecedence: 1 },
    { target: 'emails[type eq "work"].value', type: 'direct', source: 'mail' },
    { target: 'title', type: 'direct', source: 'jobTitle' },
    { target: 'nickName', type: 'expression', expression: 'Redact([department])' },
    { target: 'password', type: 'constant', value: 'Initial#1', apply: 'create' },
  ].map((m) => mappingSchema.parse(m)),
  'user',
);
const allOn: ObjectActions = { create: true, update: true, disable: true, delete: true };
const map = (user: DirectoryUser, operation: 'create' | 'update') =>
  applyMappings(compiled, userSourceAttributes(user), { operation, env: testEnv });

/** The link as a create of `user` leaves it. */
function linkAfterCreate(user: DirectoryUser, extra: Partial<Link> = {}): Link {
  const plan = planObject(plan0(user, { link: null, target: null, desired: map(user, 'create') }));
  expect(plan.action).toBe('Create');
  return makeLink({ exportedHash: plan.desiredHash, exportedValues: plan.exportedValues, ...extra });
}

function plan0(user: DirectoryUser, overrides: Partial<PlanInput>): PlanInput {
  return {
    objectType: 'user',
    source: 'present',
    inScope: true,
    link: null,
    target: undefined,
    desired: map(user, 'update'),
    settings: { actions: allOn, skipOutOfScopeDeletions: false },
    ...overrides,
  };
}

describe('updates from the last exported values', () => {
  const before = makeUser({ jobTitle: 'Engineer', department: 'Sales', mail: 'alice@contoso.com' });

  it('keeps no secret in clear and no create-only attribute', () => {
    const values = exportedValues(map(before, 'create'));
    expect(values.values).toMatchObject({ userName: before.userPrincipalName, title: 'Engineer' });
    expect(JSON.stringify(values)).not.toContain('Sales');
    expect(JSON.stringify(values)).not.toContain('Initial#1');
    expect(Object.keys(values.hashes ?? {})).toEqual(['nickName']);
  });

  it('skips an unchanged object and patches only what changed, with no read of the target', () => {
    const link = linkAfterCreate(before);
    expect(planObject(plan0(before, { link })).action).toBe('Skip');

    const after = { ...before, jobTitle: 'Manager' };
    const plan = planObject(plan0(after, { link }));
    expect(plan.action).toBe('Update');
    expect(plan.needsTarget).toBeUndefined();
    expect(plan.operations).toEqual([{ op: 'replace', path: 'title', value: 'Manager' }]);
    expect(plan.modifiedAttributes).toEqual([{ name: 'title', oldValue: 'Engineer', newValue: 'Manager' }]);
  });

  it('sends a changed secret, removes a cleared value and adds a new element of a multi-valued attribute', () => {
    const link = linkAfterCreate({ ...before, mail: null });
    const after = { ...before, department: 'Legal', jobTitle: null, mail: 'a@contoso.com' };
    const plan = planObject(plan0(after, { link }));
    expect(plan.operations).toEqual(
      expect.arrayContaining([
        { op: 'add', path: 'emails', value: [{ type: 'work', value: 'a@contoso.com' }] },
        { op: 'remove', path: 'title' },
        { op: 'replace', path: 'nickName', value: 'Legal' },
      ]),
    );
    expect(plan.operations).toHaveLength(3);
    // The request carries the secret; the log's modified attributes do not.
    expect(JSON.stringify(plan.modifiedAttributes)).not.toContain('Legal');
  });

  it('re-enables a disabled account with the same single PATCH', () => {
    const link = linkAfterCreate(before, { active: false });
    const plan = planObject(plan0(before, { link }));
    expect(plan.action).toBe('Update');
    expect(plan.operations).toEqual([{ op: 'replace', path: 'active', value: true }]);
  });

  it('reads the target once when the link has no values yet (a link from before values were kept)', () => {
    const link = linkAfterCreate(before, { exportedValues: null });
    const plan = planObject(plan0({ ...before, jobTitle: 'Manager' }, { link }));
    expect(plan).toMatchObject({ action: 'Update', needsTarget: true });
    expect(plan.exportedValues?.values.title).toBe('Manager');
  });
});
