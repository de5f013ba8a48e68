// MediusFlow (seed 001): users with manager reference and name.formatted, and groups with members.
// The attribute table is the seed's (it names `name.displayName` and `externalID`; SCIM attribute
// names are case-insensitive, so `externalId` is the same attribute).
import type { AppTemplate } from '../engine/config/index.ts';
import {
  ACTIVE_FROM_SOFT_DELETE,
  ENTERPRISE_USER,
  EXTERNAL_ID,
  FAMILY_NAME,
  GIVEN_NAME,
  GROUP_DISPLAY_NAME,
  GROUP_EXTERNAL_ID,
  GROUP_MEMBERS,
  USER_NAME,
  WORK_EMAIL,
} from './defaults.ts';

export const mediusFlowTemplate: AppTemplate = {
  id: 'mediusflow',
  name: 'MediusFlow',
  description: 'Provision MediusFlow users (with their manager) and groups with members.',
  supportsGroups: true,
  objectTypes: {
    user: {
      mappings: [
        USER_NAME,
        WORK_EMAIL,
        { target: 'name.displayName', type: 'direct', source: 'displayName' },
        ACTIVE_FROM_SOFT_DELETE,
        GIVEN_NAME,
        FAMILY_NAME,
        { target: 'name.formatted', type: 'expression', expression: 'Join(" ", [givenName], [surname])' },
        EXTERNAL_ID,
        { target: `${ENTERPRISE_USER}:manager`, type: 'direct', source: 'manager', targetType: 'Reference' },
      ],
      filterableAttributes: ['userName'],
    },
    group: {
      mappings: [GROUP_DISPLAY_NAME, GROUP_EXTERNAL_ID, GROUP_MEMBERS],
      filterableAttributes: ['displayName'],
    },
  },
  connectorLimitations: {},
  limitationNotes: ['Changing the matching attribute requires MediusFlow to support filtering on it.'],
};
