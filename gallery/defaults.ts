// Mapping building blocks shared by the gallery templates: the defaults Entra's gallery apps use.
import type { MappingInput } from '../engine/config/index.ts';

export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** Entra's default for `active`: soft-deleted users become inactive. */
export const ACTIVE_FROM_SOFT_DELETE: MappingInput = {
  target: 'active',
  type: 'expression',
  expression: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")',
  targetType: 'Boolean',
};

export const USER_NAME: MappingInput = {
  target: 'userName',
  type: 'direct',
  source: 'userPrincipalName',
  matchingPrecedence: 1,
};

export const WORK_EMAIL: MappingInput = { target: 'emails[type eq "work"].value', type: 'direct', source: 'mail' };
export const GIVEN_NAME: MappingInput = { target: 'name.givenName', type: 'direct', source: 'givenName' };
export const FAMILY_NAME: MappingInput = { target: 'name.familyName', type: 'direct', source: 'surname' };
export const EXTERNAL_ID: MappingInput = { target: 'externalId', type: 'direct', source: 'mailNickname' };
export const DISPLAY_NAME: MappingInput = { target: 'displayName', type: 'direct', source: 'displayName' };
export const FORMATTED_NAME: MappingInput = {
  target: 'name.formatted',
  type: 'expression',
  expression: 'Join(" ", [givenName], [surname])',
};
export const MANAGER: MappingInput = {
  target: `${ENTERPRISE_USER}:manager`,
  type: 'direct',
  source: 'manager',
  targetType: 'Reference',
};

export const GROUP_DISPLAY_NAME: MappingInput = {
  target: 'displayName',
  type: 'direct',
  source: 'displayName',
  matchingPrecedence: 1,
};
export const GROUP_EXTERNAL_ID: MappingInput = { target: 'externalId', type: 'direct', source: 'objectId' };
export const GROUP_MEMBERS: MappingInput = {
  target: 'members',
  type: 'direct',
  source: 'members',
  targetType: 'Reference',
};

/** A plain SCIM group: matched on its display name, with its members. */
export const GROUP_MAPPINGS: readonly MappingInput[] = [GROUP_DISPLAY_NAME, GROUP_EXTERNAL_ID, GROUP_MEMBERS];
