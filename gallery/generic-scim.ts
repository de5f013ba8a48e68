// Any SCIM 2.0 endpoint (RFC 7643/7644): the mappings Entra's non-gallery SCIM app starts with.
import type { AppTemplate } from '../engine/config/index.ts';
import {
  ACTIVE_FROM_SOFT_DELETE,
  DISPLAY_NAME,
  ENTERPRISE_USER,
  EXTERNAL_ID,
  FAMILY_NAME,
  FORMATTED_NAME,
  GIVEN_NAME,
  GROUP_MAPPINGS,
  MANAGER,
  USER_NAME,
  WORK_EMAIL,
} from './defaults.ts';

export const genericScimTemplate: AppTemplate = {
  id: 'generic-scim',
  name: 'Generic SCIM 2.0',
  description:
    'Any application with a SCIM 2.0 endpoint: users and groups with the standard core and enterprise attributes.',
  supportsGroups: true,
  objectTypes: {
    user: {
      mappings: [
        USER_NAME,
        ACTIVE_FROM_SOFT_DELETE,
        DISPLAY_NAME,
        { target: 'title', type: 'direct', source: 'jobTitle' },
        WORK_EMAIL,
        GIVEN_NAME,
        FAMILY_NAME,
        FORMATTED_NAME,
        { target: 'phoneNumbers[type eq "work"].value', type: 'direct', source: 'telephoneNumber' },
        { target: 'phoneNumbers[type eq "mobile"].value', type: 'direct', source: 'mobile' },
        { target: 'addresses[type eq "work"].locality', type: 'direct', source: 'city' },
        { target: 'addresses[type eq "work"].country', type: 'direct', source: 'country' },
        EXTERNAL_ID,
        { target: `${ENTERPRISE_USER}:employeeNumber`, type: 'direct', source: 'employeeId' },
        { target: `${ENTERPRISE_USER}:department`, type: 'direct', source: 'department' },
        { target: `${ENTERPRISE_USER}:organization`, type: 'direct', source: 'companyName' },
        MANAGER,
      ],
      filterableAttributes: ['userName', 'externalId', 'emails[type eq "work"].value', 'displayName'],
    },
    group: {
      mappings: [...GROUP_MAPPINGS],
      filterableAttributes: ['displayName', 'externalId'],
    },
  },
  connectorLimitations: {},
  limitationNotes: [],
};
