// iPass SmartConnect (seed 000): users only, bearer token, fixed tenant URL. Its connector limitation:
// only user names whose domain is registered in the iPass admin console are accepted; Ferry skips
// the others with InvalidDomain instead of letting the target reject them.
import type { AppTemplate } from '../engine/config/index.ts';
import {
  ACTIVE_FROM_SOFT_DELETE,
  DISPLAY_NAME,
  EXTERNAL_ID,
  FAMILY_NAME,
  GIVEN_NAME,
  USER_NAME,
  WORK_EMAIL,
} from './defaults.ts';

export const ipassSmartConnectTemplate: AppTemplate = {
  id: 'ipass-smartconnect',
  name: 'iPass SmartConnect',
  description: 'Create, update and disable iPass SmartConnect users from the directory.',
  defaultTargetUrl: 'https://openmobile.ipass.com/moservices/scim/v1',
  supportsGroups: false,
  objectTypes: {
    user: {
      mappings: [USER_NAME, ACTIVE_FROM_SOFT_DELETE, DISPLAY_NAME, WORK_EMAIL, GIVEN_NAME, FAMILY_NAME, EXTERNAL_ID],
      filterableAttributes: ['userName'],
    },
  },
  // The registered domains are per customer: each app lists its own.
  connectorLimitations: { allowedUsernameDomains: [] },
  limitationNotes: ['iPass SmartConnect accepts only user names whose domain is registered in its admin console.'],
};
