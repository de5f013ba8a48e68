// Explaining an object shows what the next export would do, and never a secret: a password or a
// Redact()ed value shows as [Redact] in the mapping, the create body and the PATCH operations.
import { describe, expect, it } from 'vitest';
import { mappingSchema, objectTypeConfigSchema } from '../../../engine/config/index.ts';
import { compileMappings } from '../../../engine/mapping/index.ts';
import { explainObject, planObject, type ExplainInput } from '../../../engine/planning/index.ts';
import { applyMappings, userSourceAttributes } from '../../../engine/mapping/index.ts';
import { createScopeContext } from '../../../engine/scoping/index.ts';
import { makeLink, makeUser, testEnv } from '../mapping/fixtures.ts';

const mappings = [
  { target: 'userName', type: 'direct', source: 'userPrincipalName', matchingPrecedence: 1 },
  { target: 'title', type: 'direct', source: 'jobTitle' },
  { target: 'nickName', type: 'expression', expression: 'Redact([employeeId])' },
  { target: 'password', type: 'constant', value: 'Initial#Secret1', apply: 'create' },
].map((m) => mappingSchema.parse(m));
const compiled = compileMappings(mappings, 'user');
const typeConfig = objectTypeConfigSchema.parse({ mappings });
const user = makeUser({ employeeId: 'E-SECRET-42' });

function input(overrides: Partial<ExplainInput>): ExplainInput {
  return {
    objectType: 'user',
    object: user,
    link: null,
    typeConfig,
    compiled,
    scope: createScopeContext({ appScope: 'all', assignments: [], memberships: [], scopingFilters: [] }),
    env: testEnv,
    resolveReference: () => null,
    ...overrides,
  };
}

describe('explainObject', () => {
  it('an unlinked user: the create it would send if nothing matches, by its matching key, secrets redacted', () => {
    const e = explainObject(input({}));
    expect(e.matching).toMatchObject({
      linked: false,
      candidates: [{ attribute: 'userName', value: user.userPrincipalName }],
    });
    expect(e.next).toMatchObject({ action: 'Create', dependsOnMatch: true });
    expect(e.next.resource).toMatchObject({
      userName: user.userPrincipalName,
      password: '[Redact]',
      nickName: '[Redact]',
    });
    expect(e.mapping?.inputs).toEqual(expect.arrayContaining([{ attribute: 'employeeId', value: '[Redact]' }]));
    const text = JSON.stringify(e);
    expect(text).not.toContain('E-SECRET-42');
    expect(text).not.toContain('Initial#Secret1');
  });

  it('a linked user whose secret changed: the PATCH, its value redacted', () => {
    const created = planObject({
      objectType: 'user',
      source: 'present',
      inScope: true,
      link: null,
      target: null,
      desired: applyMappings(compiled, userSourceAttributes(user), { operation: 'create', env: testEnv }),
      settings: { actions: typeConfig.actions, skipOutOfScopeDeletions: false },
    });
    const link = makeLink({ exportedHash: created.desiredHash, exportedValues: created.exportedValues });
    expect(explainObject(input({ link })).next.action).toBe('Skip');
    const e = explainObject(input({ link, object: makeUser({ employeeId: 'E-SECRET-43' }) }));
    expect(e.next).toMatchObject({
      action: 'Update',
      operations: [{ op: 'replace', path: 'nickName', value: '[Redact]' }],
    });
    expect(JSON.stringify(e)).not.toContain('E-SECRET-43');
  });

  it('a user out of scope that is linked: the disable, with the check that failed', () => {
    const e = explainObject(input({ link: makeLink(), object: makeUser({ accountEnabled: false }) }));
    expect(e.scope?.checks.find((c) => c.check === 'active')).toMatchObject({ passed: false });
    expect(e.next).toMatchObject({ action: 'Disable', operations: [{ op: 'replace', path: 'active', value: false }] });
  });
});
