// MediusFlow (seed 001): users with manager reference and name.formatted, and groups with members.
// The attribute table is the seed's (it names `name.displayName` and `externalID`; SCIM attribute
// names are case-insensitive, so `externalId` is the same attribute).
import type { AppTemplate } from '../engine/config/index.ts';
import {
  ACTIVE_FROM_SOFT_DELETE,
  EXTERNAL_ID,
  FAMILY_NAME,
  FORMATTED_NAME,
  GIVEN_NAME,
  GROUP_MAPPINGS,
  MANAGER,
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
        FORMATTED_NAME,
        EXTERNAL_ID,
        MANAGER,
      ],
      filterableAttributes: ['userName'],
    },
    group: {
      mappings: [...GROUP_MAPPINGS],
      filterableAttributes: ['displayName'],
    },
  },
  connectorLimitations: {},
  limitationNotes: ['Changing the matching attribute requires MediusFlow to support filtering on it.'],
};
