import { describe, expect, it } from 'vitest';
import {
  appConfigFromTemplate,
  formatConfigIssue,
  parseAppConfig,
  type AppConfigInput,
  type MappingInput,
} from '../../../engine/config/index.ts';
import { genericScimTemplate, groupTalkTemplate, ipassSmartConnectTemplate } from '../../../gallery/index.ts';

function baseInput(mappings?: MappingInput[]): AppConfigInput {
  return {
    name: 'Contoso SCIM',
    target: { url: 'https://scim.example.com/scim/v2' },
    auth: { type: 'bearer', token: 'secret-token' },
    objectTypes: {
      user: {
        mappings: mappings ?? [
          { target: 'userName', type: 'direct', source: 'userPrincipalName', matchingPrecedence: 1 },
          { target: 'active', type: 'direct', source: 'accountEnabled', targetType: 'Boolean' },
        ],
      },
    },
  };
}

function messages(input: unknown, template = genericScimTemplate): string[] {
  const result = parseAppConfig(input, template);
  if (result.ok) return [];
  return result.errors.map(formatConfigIssue);
}

describe('parseAppConfig', () => {
  it('fills the documented defaults: 40 minutes, 500 deletions, strict profile, assigned scope, all actions on', () => {
    const result = parseAppConfig(baseInput());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { config } = result;
    expect(config.cycleIntervalMinutes).toBe(40);
    expect(config.deletionThreshold).toEqual({ count: 500 });
    expect(config.compatibilityProfile).toBe('strict');
    expect(config.scope).toBe('assigned');
    expect(config.objectTypes.user.actions).toEqual({ create: true, update: true, disable: true, delete: true });
    expect(config.objectTypes.user.skipOutOfScopeDeletions).toBe(false);
    expect(config.rateLimit).toEqual({ requestsPerSecond: 25, concurrency: 5, maxRetryAfterSeconds: 900 });
    expect(result.compiled.user.matching.map((m) => m.target)).toEqual(['userName']);
  });

  it('accepts OAuth 2.0 client credentials and a percentage deletion threshold', () => {
    const input = {
      ...baseInput(),
      auth: {
        type: 'oauth2',
        tokenUrl: 'https://login.example.com/token',
        clientId: 'c',
        clientSecret: 's',
        scope: 'scim',
      },
      deletionThreshold: { percent: 10 },
    };
    const result = parseAppConfig(input);
    expect(result.ok && result.config.deletionThreshold).toEqual({ percent: 10 });
  });

  const bad = (mutate: (input: AppConfigInput) => unknown) => {
    const input = baseInput();
    return mutate(input) ?? input;
  };

  it.each([
    [
      'an unknown expression function, with its position',
      bad((i) => {
        i.objectTypes.user.mappings.push({
          target: 'displayName',
          type: 'expression',
          expression: 'Join(" ", Foo([a]))',
        });
      }),
      /^objectTypes\.user\.mappings\[2\]\.expression: Unknown function 'Foo' at 10$/,
    ],
    [
      'an invalid target path',
      bad((i) => {
        i.objectTypes.user.mappings.push({ target: 'emails[type eq work].value', type: 'direct', source: 'mail' });
      }),
      /^objectTypes\.user\.mappings\[2\]\.target: invalid SCIM attribute path/,
    ],
    [
      'a target mapped twice (case-insensitive)',
      bad((i) => {
        i.objectTypes.user.mappings.push({ target: 'USERNAME', type: 'direct', source: 'mail' });
      }),
      /^objectTypes\.user\.mappings\[2\]\.target: "USERNAME" is already mapped by mappings\[0\]$/,
    ],
    [
      'two mappings with the same matching precedence',
      bad((i) => {
        i.objectTypes.user.mappings.push({
          target: 'externalId',
          type: 'direct',
          source: 'mailNickname',
          matchingPrecedence: 1,
        });
      }),
      /^objectTypes\.user\.mappings\[2\]\.matchingPrecedence: precedence 1 is already used by mappings\[0\]$/,
    ],
    [
      'no matching attribute',
      baseInput([{ target: 'userName', type: 'direct', source: 'userPrincipalName' }]),
      /^objectTypes\.user\.mappings: at least one mapping needs a matchingPrecedence$/,
    ],
    [
      'userName not mapped',
      baseInput([{ target: 'externalId', type: 'direct', source: 'mailNickname', matchingPrecedence: 1 }]),
      /^objectTypes\.user\.mappings: the SCIM attribute "userName" must be mapped$/,
    ],
    [
      'a matching attribute the target cannot filter on',
      bad((i) => {
        i.objectTypes.user.mappings.push({
          target: 'title',
          type: 'direct',
          source: 'jobTitle',
          matchingPrecedence: 2,
        });
      }),
      /^objectTypes\.user\.mappings\[2\]\.matchingPrecedence: Generic SCIM 2\.0 cannot filter on "title"/,
    ],
    [
      'an unknown target type',
      bad((i) => {
        i.objectTypes.user.mappings.push({
          target: 'title',
          type: 'direct',
          source: 'jobTitle',
          targetType: 'Text' as 'String',
        });
      }),
      /^objectTypes\.user\.mappings\[2\]\.targetType: /,
    ],
    [
      'an invalid regular expression in a scoping clause',
      bad((i) => {
        i.objectTypes.user.scopingFilters = [
          { clauses: [{ attribute: 'department', operator: 'REGEX MATCH', value: '(' }] },
        ];
      }),
      /^objectTypes\.user\.scopingFilters\[0\]\.clauses\[0\]\.value: invalid regular expression/,
    ],
    [
      'a scoping regular expression the linear-time engine cannot run (lookahead)',
      bad((i) => {
        i.objectTypes.user.scopingFilters = [
          { clauses: [{ attribute: 'department', operator: 'REGEX MATCH', value: '^(?!admin)' }] },
        ];
      }),
      /^objectTypes\.user\.scopingFilters\[0\]\.clauses\[0\]\.value: invalid regular expression: .*no backreferences or lookaround/,
    ],
    [
      'a non-integer value for Greater_Than',
      bad((i) => {
        i.objectTypes.user.scopingFilters = [
          { clauses: [{ attribute: 'employeeId', operator: 'Greater_Than', value: 'ten' }] },
        ];
      }),
      /^objectTypes\.user\.scopingFilters\[0\]\.clauses\[0\]\.value: operator Greater_Than needs an integer value, got "ten"$/,
    ],
    [
      'a binary operator without value',
      bad((i) => {
        i.objectTypes.user.scopingFilters = [{ clauses: [{ attribute: 'department', operator: 'EQUALS' }] }];
      }),
      /^objectTypes\.user\.scopingFilters\[0\]\.clauses\[0\]\.value: operator EQUALS needs a value$/,
    ],
    [
      'an unknown scoping operator',
      bad((i) => {
        i.objectTypes.user.scopingFilters = [
          { clauses: [{ attribute: 'department', operator: 'LIKE' as 'EQUALS', value: 'x' }] },
        ];
      }),
      /^objectTypes\.user\.scopingFilters\[0\]\.clauses\[0\]\.operator: /,
    ],
    ['a target URL that is not a URL', bad((i) => ({ ...i, target: { url: 'not a url' } })), /^target\.url: /],
    ['a bearer auth without token', bad((i) => ({ ...i, auth: { type: 'bearer' } })), /^auth\.token: /],
    ['a negative deletion threshold', bad((i) => ({ ...i, deletionThreshold: { count: -1 } })), /^deletionThreshold/],
    ['a malformed notification e-mail', bad((i) => ({ ...i, notificationEmail: 'ops' })), /^notificationEmail: /],
    [
      'an unknown compatibility profile',
      bad((i) => ({ ...i, compatibilityProfile: 'lax' })),
      /^compatibilityProfile: /,
    ],
    ['a cycle interval of zero minutes', bad((i) => ({ ...i, cycleIntervalMinutes: 0 })), /^cycleIntervalMinutes: /],
    [
      'a Retry-After cap of zero seconds',
      bad((i) => ({ ...i, rateLimit: { maxRetryAfterSeconds: 0 } })),
      /^rateLimit\.maxRetryAfterSeconds: /,
    ],
    [
      'a Retry-After cap above a day',
      bad((i) => ({ ...i, rateLimit: { maxRetryAfterSeconds: 86_401 } })),
      /^rateLimit\.maxRetryAfterSeconds: /,
    ],
    [
      'a group members mapping that is not a Reference',
      bad((i) => ({
        ...i,
        objectTypes: {
          ...i.objectTypes,
          group: {
            mappings: [
              { target: 'displayName', type: 'direct', source: 'displayName', matchingPrecedence: 1 },
              { target: 'members', type: 'direct', source: 'members' },
            ],
          },
        },
      })),
      /^objectTypes\.group\.mappings\[1\]\.targetType: group members must be mapped with target type Reference$/,
    ],
  ])('rejects %s, naming the path and the reason', (_name, input, expected) => {
    const found = messages(input);
    expect(
      found.some((m) => expected.test(m)),
      found.join('\n'),
    ).toBe(true);
  });

  it('rejects groups for a template without group support', () => {
    const input = appConfigFromTemplate(ipassSmartConnectTemplate, {
      name: 'iPass',
      auth: { type: 'bearer', token: 't' },
    });
    input.objectTypes.group = {
      mappings: [{ target: 'displayName', type: 'direct', source: 'displayName', matchingPrecedence: 1 }],
    };
    expect(messages(input, ipassSmartConnectTemplate)).toContain(
      'objectTypes.group: iPass SmartConnect does not support group provisioning',
    );
  });

  it('allows a matching attribute the template marks filterable (GroupTalk: mobile phone)', () => {
    const input = appConfigFromTemplate(groupTalkTemplate, { name: 'GT', auth: { type: 'bearer', token: 't' } });
    const mobile = input.objectTypes.user.mappings.find((m) => m.target.startsWith('phoneNumbers'));
    if (!mobile) throw new Error('GroupTalk maps the mobile phone');
    mobile.matchingPrecedence = 2;
    expect(messages(input, groupTalkTemplate)).toEqual([]);
  });

  it('rejects a registered-domain list entry that is not a domain', () => {
    const input = { ...baseInput(), connectorLimitations: { allowedUsernameDomains: ['contoso.com', 'not a domain'] } };
    expect(messages(input)).toEqual([
      'connectorLimitations.allowedUsernameDomains[1]: "not a domain" is not a domain name',
    ]);
  });
});
