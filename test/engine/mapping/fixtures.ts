// Directory objects and environments for the engine tests.
import type { MappingEnv } from '../../../engine/mapping/index.ts';
import type { DirectoryGroup, DirectoryUser, Link } from '../../../engine/types.ts';

export function makeUser(overrides: Partial<DirectoryUser> = {}): DirectoryUser {
  return {
    id: 'u1',
    userPrincipalName: 'alice@contoso.com',
    mail: 'alice@contoso.com',
    mailNickname: 'alice',
    displayName: 'Alice Adams',
    givenName: 'Alice',
    surname: 'Adams',
    accountEnabled: true,
    jobTitle: 'Engineer',
    department: 'Sales',
    companyName: 'Contoso',
    employeeId: '1001',
    mobilePhone: '+46 70 123 45 67',
    businessPhones: ['+46 8 123 45'],
    officeLocation: 'HQ',
    city: 'Stockholm',
    country: 'SE',
    managerId: null,
    extensions: {},
    deletedDateTime: null,
    ...overrides,
  };
}

export function makeGroup(overrides: Partial<DirectoryGroup> = {}): DirectoryGroup {
  return {
    id: 'g1',
    displayName: 'Sales',
    mailNickname: 'sales',
    description: 'Sales team',
    mail: null,
    extensions: {},
    deletedDateTime: null,
    ...overrides,
  };
}

export function makeLink(overrides: Partial<Link> = {}): Link {
  return {
    appId: 'app1',
    objectType: 'user',
    sourceId: 'u1',
    targetId: 't1',
    exportedHash: null,
    active: true,
    failureCount: 0,
    nextRetryAt: null,
    lastError: null,
    ...overrides,
  };
}

export const testEnv: MappingEnv = {
  now: () => new Date('2024-01-02T03:04:05Z'),
  random: () => 0.5,
  guid: () => '00000000-0000-4000-8000-000000000000',
};
