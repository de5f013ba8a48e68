import { describe, expect, it } from 'vitest';
import { mappingSchema, type MappingInput } from '../../../engine/config/index.ts';
import {
  applyMappings,
  coerceValue,
  compileMappings,
  formatScimPath,
  getScimValue,
  parseScimPath,
  userSourceAttributes,
  type MappingContext,
} from '../../../engine/mapping/index.ts';
import { SCIM_ENTERPRISE_USER_SCHEMA, SCIM_USER_SCHEMA } from '../../../engine/types.ts';
import { makeUser, testEnv } from './fixtures.ts';

const GT = 'urn:ietf:params:scim:schemas:extension:grouptalk:2.0:User';

function compile(mappings: MappingInput[]) {
  return compileMappings(
    mappings.map((m) => mappingSchema.parse(m)),
    'user',
  );
}

const update: MappingContext = { operation: 'update', env: testEnv };
const create: MappingContext = { operation: 'create', env: testEnv };

describe('SCIM paths', () => {
  it.each([
    ['userName', { urn: null, attribute: 'userName', filter: null, subAttribute: null }],
    ['name.givenName', { urn: null, attribute: 'name', filter: null, subAttribute: 'givenName' }],
    [
      'emails[type eq "work"].value',
      { urn: null, attribute: 'emails', filter: { attribute: 'type', value: 'work' }, subAttribute: 'value' },
    ],
    [
      `${SCIM_ENTERPRISE_USER_SCHEMA}:manager`,
      { urn: SCIM_ENTERPRISE_USER_SCHEMA, attribute: 'manager', filter: null, subAttribute: null },
    ],
    [`${GT}:label1`, { urn: GT, attribute: 'label1', filter: null, subAttribute: null }],
  ])('parses %s', (source, expected) => {
    expect(parseScimPath(source)).toEqual({ source, ...expected });
  });

  it.each(['emails[type eq "work"]', 'emails[type eq work].value', 'name..givenName', '', 'urn:x'])(
    'rejects %j',
    (source) => {
      expect(() => parseScimPath(source)).toThrow();
    },
  );

  it('escapes quotes and backslashes in filter values when formatting', () => {
    const path = parseScimPath('emails[type eq "a\\"b\\\\c"].value');
    expect(path.filter?.value).toBe('a"b\\c');
    expect(formatScimPath(path)).toBe('emails[type eq "a\\"b\\\\c"].value');
  });

  it('reads attribute names case-insensitively, as SCIM defines them', () => {
    const resource = { schemas: [], UserName: 'x', Emails: [{ Type: 'Work', Value: 'w@x' }] };
    expect(getScimValue(resource, parseScimPath('userName'))).toBe('x');
    expect(getScimValue(resource, parseScimPath('emails[type eq "work"].value'))).toBe('w@x');
  });
});

describe('target-type coercion', () => {
  it.each([
    ['String', 42, '42'],
    ['String', true, 'true'],
    ['String', ['first', 'second'], 'first'],
    ['Boolean', 'True', true],
    ['Boolean', 'false', false],
    ['Boolean', 1, true],
    ['Integer', ' 17 ', 17],
    ['Integer', 3, 3],
    ['DateTime', '2024-05-01T10:00:00+02:00', '2024-05-01T08:00:00.000Z'],
    ['DateTime', new Date(Date.UTC(2020, 0, 1)), '2020-01-01T00:00:00.000Z'],
    ['Binary', new Uint8Array([104, 105]), 'aGk='],
  ] as const)('%s from %j', (type, value, expected) => {
    expect(coerceValue(value, type)).toEqual(expected);
  });

  it.each([
    ['Boolean', 'yes'],
    ['Integer', '1.5'],
    ['Integer', 'ten'],
    ['DateTime', 'not a date'],
    ['String', { a: 1 }],
  ] as const)('refuses %s from %j', (type, value) => {
    expect(() => coerceValue(value, type)).toThrow(/cannot convert/);
  });
});

describe('applyMappings', () => {
  const attributes = userSourceAttributes(
    makeUser({ managerId: 'm1', extensions: { extension_costCenter: 'CC-7', extensionAttribute1: 'blue' } }),
  );

  it('builds the SCIM resource with value-filter paths, complex attributes and extension URNs', () => {
    const compiled = compile([
      { target: 'userName', type: 'direct', source: 'userPrincipalName', matchingPrecedence: 1 },
      { target: 'emails[type eq "work"].value', type: 'direct', source: 'mail' },
      { target: 'phoneNumbers[type eq "mobile"].value', type: 'direct', source: 'mobile' },
      { target: 'name.givenName', type: 'direct', source: 'givenName' },
      { target: 'name.familyName', type: 'direct', source: 'surname' },
      { target: `${SCIM_ENTERPRISE_USER_SCHEMA}:costCenter`, type: 'direct', source: 'extension_costCenter' },
      { target: `${GT}:label1`, type: 'direct', source: 'extensionAttribute1' },
    ]);
    const { resource, errors } = applyMappings(compiled, attributes, update);
    expect(errors).toEqual([]);
    expect(resource).toEqual({
      schemas: [SCIM_USER_SCHEMA, SCIM_ENTERPRISE_USER_SCHEMA, GT],
      userName: 'alice@contoso.com',
      emails: [{ type: 'work', value: 'alice@contoso.com' }],
      phoneNumbers: [{ type: 'mobile', value: '+46 70 123 45 67' }],
      name: { givenName: 'Alice', familyName: 'Adams' },
      [SCIM_ENTERPRISE_USER_SCHEMA]: { costCenter: 'CC-7' },
      [GT]: { label1: 'blue' },
    });
  });

  it('only lists extension schemas that received a value', () => {
    const compiled = compile([
      { target: 'userName', type: 'direct', source: 'userPrincipalName' },
      { target: `${GT}:label2`, type: 'direct', source: 'extensionAttribute2' },
    ]);
    const { resource, managedPaths } = applyMappings(compiled, attributes, update);
    expect(resource.schemas).toEqual([SCIM_USER_SCHEMA]);
    // A null source still manages the path: the planner clears it in the target.
    expect(managedPaths).toContain(`${GT}:label2`);
  });

  it('applies create-only mappings on create and leaves them out of updates', () => {
    const compiled = compile([
      { target: 'userName', type: 'direct', source: 'userPrincipalName' },
      { target: 'password', type: 'constant', value: 'Initial#1', apply: 'create' },
    ]);
    const created = applyMappings(compiled, attributes, create);
    expect(created.resource.password).toBe('Initial#1');
    expect(created.createOnlyPaths).toEqual(['password']);
    const updated = applyMappings(compiled, attributes, update);
    expect(updated.resource.password).toBeUndefined();
    expect(updated.managedPaths).not.toContain('password');
  });

  it('uses the default when the source is null or empty', () => {
    const compiled = compile([
      { target: 'title', type: 'direct', source: 'jobTitle', default: 'Staff' },
      { target: 'nickName', type: 'direct', source: 'mailNickname', default: 'none' },
    ]);
    const { resource } = applyMappings(
      compiled,
      userSourceAttributes(makeUser({ jobTitle: null, mailNickname: '' })),
      update,
    );
    expect(resource.title).toBe('Staff');
    expect(resource.nickName).toBe('none');
  });

  it('evaluates expressions and constants, coercing to the target type', () => {
    const compiled = compile([
      { target: 'displayName', type: 'expression', expression: 'Join(" ", [givenName], [surname])' },
      {
        target: 'active',
        type: 'expression',
        expression: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")',
        targetType: 'Boolean',
      },
      { target: 'employeeNumber', type: 'direct', source: 'employeeId', targetType: 'Integer' },
      { target: 'locale', type: 'constant', value: 'sv-SE' },
    ]);
    const { resource } = applyMappings(compiled, attributes, update);
    expect(resource).toMatchObject({ displayName: 'Alice Adams', active: true, employeeNumber: 1001, locale: 'sv-SE' });
  });

  it('drops a mapping whose expression says IgnoreFlowIfNullOrEmpty', () => {
    const compiled = compile([
      { target: 'title', type: 'expression', expression: 'IgnoreFlowIfNullOrEmpty([jobTitle])' },
    ]);
    const result = applyMappings(compiled, userSourceAttributes(makeUser({ jobTitle: null })), update);
    expect(result.resource.title).toBeUndefined();
    expect(result.managedPaths).toEqual([]);
  });

  it('reports a coercion failure for that attribute only', () => {
    const compiled = compile([
      { target: 'userName', type: 'direct', source: 'userPrincipalName' },
      { target: 'employeeNumber', type: 'direct', source: 'department', targetType: 'Integer' },
    ]);
    const result = applyMappings(compiled, attributes, update);
    expect(result.resource.userName).toBe('alice@contoso.com');
    expect(result.errors).toEqual([
      { target: 'employeeNumber', code: 'BadRequest', message: 'employeeNumber: cannot convert "Sales" to Integer' },
    ]);
    expect(result.managedPaths).toEqual(['userName']);
  });

  it('reports an expression that fails to evaluate as ExpressionError', () => {
    const compiled = compile([{ target: 'title', type: 'expression', expression: 'CDate([department])' }]);
    const result = applyMappings(compiled, attributes, update);
    expect(result.errors.map((e) => e.code)).toEqual(['ExpressionError']);
    expect(result.managedPaths).toEqual([]);
  });

  describe('references', () => {
    const compiled = compile([
      { target: `${SCIM_ENTERPRISE_USER_SCHEMA}:manager`, type: 'direct', source: 'manager', targetType: 'Reference' },
    ]);

    it('resolves the manager through the injected lookup', () => {
      const lookups: string[] = [];
      const result = applyMappings(compiled, attributes, {
        ...update,
        resolveReference: (id) => {
          lookups.push(id);
          return id === 'm1' ? 'target-m1' : null;
        },
      });
      expect(lookups).toEqual(['m1']);
      expect(result.resource[SCIM_ENTERPRISE_USER_SCHEMA]).toEqual({ manager: { value: 'target-m1' } });
      expect(result.unresolvedReferences).toEqual([]);
    });

    it('reports an unresolved manager and leaves the target value alone', () => {
      const result = applyMappings(compiled, attributes, { ...update, resolveReference: () => null });
      expect(result.unresolvedReferences).toEqual([
        { target: `${SCIM_ENTERPRISE_USER_SCHEMA}:manager`, sourceId: 'm1' },
      ]);
      expect(result.managedPaths).toEqual([]);
      expect(result.resource[SCIM_ENTERPRISE_USER_SCHEMA]).toBeUndefined();
    });

    it('manages (clears) the manager when the user has none', () => {
      const result = applyMappings(compiled, userSourceAttributes(makeUser({ managerId: null })), update);
      expect(result.managedPaths).toEqual([`${SCIM_ENTERPRISE_USER_SCHEMA}:manager`]);
    });
  });

  it('keeps group members out of the resource body', () => {
    const compiled = compileMappings(
      [
        mappingSchema.parse({ target: 'displayName', type: 'direct', source: 'displayName', matchingPrecedence: 1 }),
        mappingSchema.parse({ target: 'members', type: 'direct', source: 'members', targetType: 'Reference' }),
      ],
      'group',
    );
    expect(compiled.membersMapping?.target).toBe('members');
    expect(compiled.mappings.map((m) => m.target)).toEqual(['displayName']);
  });
});
