// What SCIM inbound tells an identity provider about itself (RFC 7644 §4, RFC 7643 §5–7):
// ServiceProviderConfig, ResourceTypes and the Schemas of the attributes it keeps.
import { ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../../sources/scim-resources.ts';

/** Largest page a list answers (`count` above it is lowered to it). */
export const MAX_PAGE_SIZE = 1000;

const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export const listResponse = (resources: unknown[], total: number, startIndex: number) => ({
  schemas: [LIST_SCHEMA],
  totalResults: total,
  itemsPerPage: resources.length,
  startIndex,
  Resources: resources,
});

export function serviceProviderConfig(base: string) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'The token Ferry answered once when the scim source was created',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

export function resourceTypes(base: string) {
  return [
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      schema: GROUP_SCHEMA,
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

type Attribute = {
  name: string;
  type?: string;
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: string;
  uniqueness?: string;
  subAttributes?: Attribute[];
};

const attr = (name: string, extra: Partial<Attribute> = {}): Attribute => ({
  type: 'string',
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  uniqueness: 'none',
  ...extra,
  name,
});

const multi = (name: string, subs: string[]) =>
  attr(name, { type: 'complex', multiValued: true, subAttributes: subs.map((s) => attr(s)) });

const SCHEMAS: { id: string; name: string; attributes: Attribute[] }[] = [
  {
    id: USER_SCHEMA,
    name: 'User',
    attributes: [
      attr('userName', { required: true, uniqueness: 'server' }),
      attr('externalId', { caseExact: true }),
      attr('active', { type: 'boolean' }),
      attr('displayName'),
      attr('nickName'),
      attr('title'),
      attr('name', { type: 'complex', subAttributes: [attr('givenName'), attr('familyName')] }),
      multi('emails', ['value', 'type', 'primary']),
      multi('phoneNumbers', ['value', 'type']),
      multi('addresses', ['locality', 'country', 'type', 'primary']),
    ],
  },
  {
    id: ENTERPRISE_SCHEMA,
    name: 'EnterpriseUser',
    attributes: [
      attr('employeeNumber'),
      attr('department'),
      attr('organization'),
      attr('manager', { type: 'complex', subAttributes: [attr('value', { caseExact: true })] }),
    ],
  },
  {
    id: GROUP_SCHEMA,
    name: 'Group',
    attributes: [
      attr('displayName', { required: true }),
      attr('externalId', { caseExact: true }),
      multi('members', ['value', 'type']),
    ],
  },
];

export function schemas(base: string) {
  return SCHEMAS.map((s) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    ...s,
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${s.id}` },
  }));
}
