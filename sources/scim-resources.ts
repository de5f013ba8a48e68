// SCIM inbound (a `scim` source): how a directory user or group reads as a SCIM resource
// (RFC 7643: core User with the enterprise extension, core Group) and how a resource an identity
// provider sends becomes directory attributes. Pure: the HTTP side is api/scim-inbound/.
import type { DirectoryGroup, DirectoryUser, Membership } from '../engine/types.ts';
import type { GroupInput, UserInput } from '../store/index.ts';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export type ScimResource = Record<string, unknown> & { schemas: string[]; id?: string };

/** A resource the server cannot accept: answered 400 with this scimType (RFC 7644 §3.12). */
export class ScimInputError extends Error {
  constructor(
    message: string,
    readonly scimType: 'invalidValue' | 'invalidSyntax' | 'invalidPath' | 'invalidFilter' | 'noTarget' = 'invalidValue',
  ) {
    super(message);
    this.name = 'ScimInputError';
  }
}

type Multi = { value?: unknown; type?: unknown; primary?: unknown; [key: string]: unknown };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Multi[] => (Array.isArray(v) ? v.filter(isObject) : []);

function text(value: unknown, name: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new ScimInputError(`${name} must be a string`);
  return value;
}

/** SCIM booleans; identity providers such as Entra send "True"/"False" strings. */
export function scimBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw new ScimInputError(`${name} must be a boolean`);
}

/** The entry of a multi-valued attribute to read: the primary one, else the one of `type`, else the first. */
function pick(values: Multi[], type: string): Multi | undefined {
  return (
    values.find((v) => v.primary === true || v.primary === 'True' || v.primary === 'true') ??
    values.find((v) => typeof v.type === 'string' && v.type.toLowerCase() === type) ??
    values[0]
  );
}

const ofType = (values: Multi[], type: string) =>
  values.filter((v) => typeof v.type === 'string' && v.type.toLowerCase() === type);

/** A directory user as a SCIM User (`externalId`: what the identity provider gave, if anything). */
export function toScimUser(user: DirectoryUser, externalId: string | null, location: string): ScimResource {
  const name: Record<string, string> = {};
  if (user.givenName) name.givenName = user.givenName;
  if (user.surname) name.familyName = user.surname;
  const enterprise: Record<string, unknown> = {};
  if (user.employeeId) enterprise.employeeNumber = user.employeeId;
  if (user.department) enterprise.department = user.department;
  if (user.companyName) enterprise.organization = user.companyName;
  if (user.managerId) enterprise.manager = { value: user.managerId };
  const phones = [
    ...(user.mobilePhone ? [{ value: user.mobilePhone, type: 'mobile' }] : []),
    ...user.businessPhones.map((value) => ({ value, type: 'work' })),
  ];
  const address = { type: 'work', locality: user.city ?? undefined, country: user.country ?? undefined };
  return {
    schemas: [USER_SCHEMA, ...(Object.keys(enterprise).length ? [ENTERPRISE_SCHEMA] : [])],
    id: user.id,
    ...(externalId ? { externalId } : {}),
    userName: user.userPrincipalName,
    active: user.accountEnabled,
    ...(user.displayName ? { displayName: user.displayName } : {}),
    ...(Object.keys(name).length ? { name } : {}),
    ...(user.jobTitle ? { title: user.jobTitle } : {}),
    ...(user.mailNickname ? { nickName: user.mailNickname } : {}),
    emails: user.mail ? [{ value: user.mail, type: 'work', primary: true }] : [],
    phoneNumbers: phones,
    addresses: user.city || user.country ? [{ ...address, primary: true }] : [],
    ...(Object.keys(enterprise).length ? { [ENTERPRISE_SCHEMA]: enterprise } : {}),
    meta: { resourceType: 'User', location },
  };
}

/** The directory attributes a SCIM User gives (every mapped attribute: absent ones are cleared). */
export function fromScimUser(resource: Record<string, unknown>): {
  user: Omit<UserInput, 'id'>;
  externalId: string | null;
} {
  const userName = text(resource.userName, 'userName');
  if (!userName) throw new ScimInputError('userName is required');
  const name = isObject(resource.name) ? resource.name : {};
  const enterprise = isObject(resource[ENTERPRISE_SCHEMA]) ? resource[ENTERPRISE_SCHEMA] : {};
  const manager = enterprise.manager;
  const managerId = isObject(manager) ? text(manager.value, 'manager.value') : text(manager, 'manager');
  const phones = list(resource.phoneNumbers);
  const address = pick(list(resource.addresses), 'work');
  const mail = pick(list(resource.emails), 'work');
  return {
    externalId: text(resource.externalId, 'externalId'),
    user: {
      userPrincipalName: userName,
      accountEnabled: scimBoolean(resource.active, 'active') ?? true,
      displayName: text(resource.displayName, 'displayName'),
      givenName: text(name.givenName, 'name.givenName'),
      surname: text(name.familyName, 'name.familyName'),
      jobTitle: text(resource.title, 'title'),
      mailNickname: text(resource.nickName, 'nickName'),
      mail: text(mail?.value, 'emails.value'),
      mobilePhone: text(ofType(phones, 'mobile')[0]?.value, 'phoneNumbers.value'),
      businessPhones: ofType(phones, 'work')
        .map((p) => text(p.value, 'phoneNumbers.value'))
        .filter((p): p is string => p !== null),
      city: text(address?.locality, 'addresses.locality'),
      country: text(address?.country, 'addresses.country'),
      employeeId: text(enterprise.employeeNumber, 'employeeNumber'),
      department: text(enterprise.department, 'department'),
      companyName: text(enterprise.organization, 'organization'),
      managerId,
    },
  };
}

/** A directory group as a SCIM Group; `members` null leaves them out (excludedAttributes=members). */
export function toScimGroup(
  group: DirectoryGroup,
  externalId: string | null,
  members: Membership[] | null,
  location: string,
): ScimResource {
  return {
    schemas: [GROUP_SCHEMA],
    id: group.id,
    ...(externalId ? { externalId } : {}),
    displayName: group.displayName,
    ...(members
      ? { members: members.map((m) => ({ value: m.memberId, type: m.memberType === 'user' ? 'User' : 'Group' })) }
      : {}),
    meta: { resourceType: 'Group', location },
  };
}

/** The directory attributes and member ids a SCIM Group gives. */
export function fromScimGroup(resource: Record<string, unknown>): {
  group: Omit<GroupInput, 'id'>;
  externalId: string | null;
  memberIds: string[];
} {
  const displayName = text(resource.displayName, 'displayName');
  if (!displayName) throw new ScimInputError('displayName is required');
  if (resource.members !== undefined && resource.members !== null && !Array.isArray(resource.members)) {
    throw new ScimInputError('members must be a list');
  }
  const memberIds = list(resource.members).map((m) => {
    const value = text(m.value, 'members.value');
    if (!value) throw new ScimInputError('every member needs a value (the member’s id)');
    return value;
  });
  return {
    externalId: text(resource.externalId, 'externalId'),
    group: { displayName },
    memberIds: [...new Set(memberIds)],
  };
}
