// GroupTalk (seed 003): users with mobile phone, cost center / organization and the five GroupTalk
// labels of its own schema extension; groups with members and a description in that extension.
// Filterable attributes are the ones the seed's table ticks.
import type { AppTemplate, MappingInput } from '../engine/config/index.ts';
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

export const GROUPTALK_USER = 'urn:ietf:params:scim:schemas:extension:grouptalk:2.0:User';
export const GROUPTALK_GROUP = 'urn:ietf:params:scim:schemas:extension:grouptalk:2.0:Group';

const labels: MappingInput[] = [1, 2, 3, 4, 5].map((n) => ({
  target: `${GROUPTALK_USER}:label${n}`,
  type: 'direct',
  source: `extensionAttribute${n}`,
}));

export const groupTalkTemplate: AppTemplate = {
  id: 'grouptalk',
  name: 'GroupTalk',
  description: 'Provision GroupTalk users (mobile phone, cost center, organization, labels) and groups with members.',
  defaultTargetUrl: 'https://api.grouptalk.com/api/scim/',
  supportsGroups: true,
  objectTypes: {
    user: {
      mappings: [
        USER_NAME,
        { target: 'phoneNumbers[type eq "mobile"].value', type: 'direct', source: 'mobile' },
        WORK_EMAIL,
        ACTIVE_FROM_SOFT_DELETE,
        GIVEN_NAME,
        FAMILY_NAME,
        EXTERNAL_ID,
        { target: `${ENTERPRISE_USER}:costCenter`, type: 'direct', source: 'extension_costCenter' },
        { target: `${ENTERPRISE_USER}:organization`, type: 'direct', source: 'companyName' },
        ...labels,
      ],
      filterableAttributes: ['userName', 'phoneNumbers[type eq "mobile"].value', 'emails[type eq "work"].value'],
    },
    group: {
      mappings: [
        GROUP_DISPLAY_NAME,
        GROUP_MEMBERS,
        GROUP_EXTERNAL_ID,
        { target: `${GROUPTALK_GROUP}:description`, type: 'direct', source: 'description' },
      ],
      filterableAttributes: ['displayName'],
    },
  },
  connectorLimitations: {},
  limitationNotes: ['GroupTalk can match users on userName, mobile phone or work e-mail only.'],
};
