// The shared vocabulary of Ferry as plain data types. Every layer speaks these:
// store/ persists them, engine/ decides over them, activities/ move them, api/ exposes them.

export type ObjectType = 'user' | 'group';

/** A directory user with the Entra-style attributes. Dates are ISO-8601 strings. */
export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  mail: string | null;
  mailNickname: string | null;
  displayName: string | null;
  givenName: string | null;
  surname: string | null;
  accountEnabled: boolean;
  jobTitle: string | null;
  department: string | null;
  companyName: string | null;
  employeeId: string | null;
  mobilePhone: string | null;
  businessPhones: string[];
  officeLocation: string | null;
  city: string | null;
  country: string | null;
  managerId: string | null;
  /** Free-form extension attributes, e.g. `extension_costCenter`. */
  extensions: Record<string, unknown>;
  /** Soft delete: set when the user is in the recycle bin. */
  deletedDateTime: string | null;
}

export interface DirectoryGroup {
  id: string;
  displayName: string;
  mailNickname: string | null;
  description: string | null;
  mail: string | null;
  extensions: Record<string, unknown>;
  deletedDateTime: string | null;
}

/** A member of a group: a user or (nested) another group. */
export interface Membership {
  groupId: string;
  memberId: string;
  memberType: ObjectType;
}

/** Default Access role: an assignment with it does not put the principal in scope. */
export const DEFAULT_ACCESS_ROLE = 'msiam_access';

/** A user or group assigned to an app with a role. */
export interface AppRoleAssignment {
  appId: string;
  principalId: string;
  principalType: ObjectType;
  role: string;
}

/**
 * What an export sent, per mapped path: `values` holds each value (null: sent empty); `hashes` holds,
 * instead of the value, a hash of each redacted one (passwords, Redact()), which never rests in clear.
 */
export interface ExportedValues {
  values: Record<string, unknown>;
  hashes?: Record<string, string>;
}

/** Per app and source object: what Ferry knows about the target account. */
export interface Link {
  appId: string;
  objectType: ObjectType;
  sourceId: string;
  targetId: string | null;
  /** Hash of the resource last exported, to detect "nothing changed" without a request. */
  exportedHash: string | null;
  /**
   * The attribute values last exported (update paths only; secrets as hashes), so an update is one
   * PATCH computed from them with no read of the target. Absent or null: not known yet (a link made
   * before Ferry kept them, or never exported): the target is read once.
   */
  exportedValues?: ExportedValues | null;
  active: boolean;
  failureCount: number;
  /** Escrow: when the next retry is due (ISO string), null when not escrowed. */
  nextRetryAt: string | null;
  lastError: string | null;
}

export type ProvisioningAction = 'Create' | 'Update' | 'Disable' | 'Delete' | 'StagedDelete' | 'Skip' | 'Other';
export type LogStatus = 'Success' | 'Failure' | 'Skipped' | 'Warning';

/** Entra's error-code vocabulary used in provisioning logs. */
export type ErrorCode =
  | 'Conflict'
  | 'TooManyRequests'
  | 'Unauthorized'
  | 'InvalidDomain'
  | 'Timeout'
  | 'DuplicateTargetEntries'
  | 'SchemaAttributeNotFound'
  | 'MandatoryFieldsMissing'
  | 'NotFound'
  | 'BadRequest'
  | 'ServiceUnavailable'
  | 'NonScimResponse'
  /** The TLS handshake with the target failed: certificate self-signed, untrusted, expired or for another host. */
  | 'TlsError'
  /** The target's address is in a network Ferry's outbound address policy refuses (nothing was sent). */
  | 'AddressNotAllowed'
  | 'TooManyDeletes'
  | 'ExpressionError'
  | 'Unknown';

export type StepName = 'import' | 'scoping' | 'matching' | 'processing' | 'referenceResolution' | 'export';
export type StepStatus = 'Success' | 'Failure' | 'Skipped' | 'Warning';

export interface LogStep {
  name: StepName;
  status: StepStatus;
  /** Human-readable facts of the step, e.g. `{ "scopingFilter[0].clause[1]": "department EQUALS Sales: true" }`. */
  details: Record<string, unknown>;
}

export interface ModifiedAttribute {
  name: string;
  oldValue: unknown;
  newValue: unknown;
}

/** One entry per object per action. */
export interface ProvisioningLogEntry {
  id: string;
  time: string;
  appId: string;
  cycleId: string | null;
  changeId: string | null;
  objectType: ObjectType;
  sourceId: string;
  sourceDisplayName: string | null;
  targetId: string | null;
  action: ProvisioningAction;
  status: LogStatus;
  errorCode: ErrorCode | null;
  errorMessage: string | null;
  steps: LogStep[];
  modifiedAttributes: ModifiedAttribute[];
  durationMs: number;
  onDemand: boolean;
}

/** A SCIM resource as JSON (RFC 7643). */
export interface ScimResource {
  schemas: string[];
  id?: string;
  externalId?: string;
  [attribute: string]: unknown;
}

/** One RFC 7644 PatchOp operation; `op` is lowercase here, profiles rewrite it on the wire. */
export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path?: string;
  value?: unknown;
}

export const SCIM_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCIM_ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SCIM_PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SCIM_LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type CompatibilityProfile = 'strict' | 'entra-2017' | 'put-only';

/** Job states of the provisioning workflow. */
export type JobState = 'initial' | 'steady' | 'paused' | 'quarantined' | 'disabled';
export type CycleKind = 'initial' | 'incremental';

export interface CycleCounts {
  created: number;
  updated: number;
  disabled: number;
  deleted: number;
  skipped: number;
  failed: number;
  escrowed: number;
  stagedDeletes: number;
}
