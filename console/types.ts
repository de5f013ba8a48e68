// The shapes of the API answers the console reads (a subset of the OpenAPI document's schemas).
import type { ProvisioningJobStatus } from '../api/cycle-progress.ts';

/** GET /apps/{id}/provisioning's `status`: the job's status query with its running cycle's progress. */
export type JobStatus = ProvisioningJobStatus;

export interface Me {
  keyId: string;
  name: string;
  role: 'admin' | 'operator' | 'viewer';
  permissions: string[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Provisioning {
  appId: string;
  workflowId: string;
  running: boolean;
  status: JobStatus | null;
  temporalUiUrl: string | null;
}

export interface AppView {
  id: string;
  name: string;
  template: string;
  target: {
    url: string;
    auth: 'bearer' | 'oauth2';
    hasToken: boolean;
    hasClientSecret?: boolean;
    oauth?: { tokenUrl: string; clientId: string; scope?: string };
  };
  settings: {
    scope: 'assigned' | 'all';
    notificationEmail: string | null;
    cycleIntervalMinutes: number;
    deletionThreshold: { count: number } | { percent: number };
    profile: string;
    /** SCIM Bulk for a cycle's writes when the target advertises it (default false). */
    bulk?: boolean;
    rateLimit: { requestsPerSecond: number; concurrency: number; maxRetryAfterSeconds: number };
    retention?: { logDays: number };
  };
  mappings: { user: Mapping[]; group?: Mapping[] };
  scopingFilters: { user: ScopingFilter[]; group?: ScopingFilter[] };
  provisioningEnabled: boolean;
  provisioning?: { state: string | null; reason?: string | null; message?: string };
}

/** One attribute mapping (the API's mapping shape): where a target attribute's value comes from. */
export interface Mapping {
  type: 'direct' | 'constant' | 'expression';
  target: string;
  source?: string;
  value?: string | number | boolean;
  expression?: string;
  apply?: 'always' | 'create';
  default?: string | number | boolean | null;
  matchingPrecedence?: number;
  targetType?: string;
}

export interface ScopingFilter {
  title: string;
  clauses: { attribute: string; operator: string; value?: string }[];
}

export interface Cycle {
  id: string;
  number: number;
  kind: string;
  status: 'running' | 'succeeded' | 'failed' | 'stopped';
  counts: Record<string, number>;
  processed: number;
  total: number;
  pendingDeletions: number;
  deletionThresholdExceeded: boolean;
  startedAt: string;
  endedAt: string | null;
  failure: Record<string, unknown> | null;
}

export interface Step {
  name: string;
  status: string;
  details?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface LogEntry {
  id: string;
  time: string;
  cycleId: string | null;
  objectType: 'user' | 'group';
  sourceId: string;
  sourceDisplayName: string | null;
  targetId: string | null;
  action: string;
  status: string;
  errorCode: string | null;
  errorMessage: string | null;
  steps: Step[];
  modifiedAttributes: { name: string; oldValue: unknown; newValue: unknown }[];
  durationMs: number;
  onDemand: boolean;
}

export interface OnDemandReport {
  objectType: 'user' | 'group';
  objectId: string;
  action: string;
  status: string;
  targetId: string | null;
  steps: Step[];
  modifiedAttributes: { name: string; oldValue?: unknown; newValue?: unknown }[];
  durationMs: number;
  logId: string | null;
}

/** GET /apps/{id}/provision-on-demand/{requestId}: the steps done so far, then the report or the failure. */
export interface OnDemandProgress {
  requestId: string;
  objectType: 'user' | 'group' | null;
  objectId: string | null;
  finished: boolean;
  attempt: number;
  steps: (Step & { objectId?: string; at: string })[];
  report: OnDemandReport | null;
  error: { code: string; message: string } | null;
}

export interface DirectoryUser {
  id: string;
  displayName: string | null;
  userPrincipalName: string;
  mail?: string | null;
  givenName?: string | null;
  surname?: string | null;
  jobTitle?: string | null;
  department?: string | null;
  accountEnabled?: boolean;
  /** Set while the user is soft-deleted (in the recycle bin). */
  deletedDateTime?: string | null;
}

export interface DirectoryGroup {
  id: string;
  displayName: string;
  description?: string | null;
  deletedDateTime?: string | null;
}

/** GET /directory/groups/{id}/members: one member with its name. */
export interface Member {
  groupId: string;
  memberId: string;
  memberType: 'user' | 'group';
  displayName: string | null;
}

export interface Template {
  id: string;
  name: string;
  description?: string;
}

export interface Assignment {
  principalId: string;
  principalType: 'user' | 'group';
  role: string;
}

/** GET /directory/{users|groups}/{id}/assignments: one app the object is assigned to. */
export interface ObjectAssignment {
  appId: string;
  appName: string;
  role: string;
  principalId: string;
  viaGroupId: string | null;
  viaGroupName: string | null;
}

/** GET /sources/{id}: a source's settings (never its secrets) and state. Fields beyond these are shown as they come. */
export interface Source {
  id: string;
  name: string;
  type: string;
  enabled: boolean;
  config: Record<string, unknown>;
  hasBindPassword?: boolean;
  hasClientSecret?: boolean;
  state?: Record<string, unknown> | null;
  status?: unknown;
  createdAt?: string;
  updatedAt?: string;
  scimUrl?: string;
  token?: string;
  [key: string]: unknown;
}

/** A quarantined source's `quarantine` (GET /sources/{id}). */
export interface SourceQuarantine {
  since: string;
  failingSince: string;
  failures: number;
  code: string;
  message: string;
}

/** GET /sources/{id}/runs: one import. */
export interface SourceRun {
  id: number;
  mode: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  stagedDeletions: number;
  error: string | null;
  /** Attempts of the import (its retries update the run); absent from older APIs: 1. */
  attempts?: number;
}

/** POST /directory/import's answer. */
export interface ImportReport {
  users: ImportCounts;
  groups: ImportCounts;
  memberships: ImportCounts;
  errors: { section: string; row: number; field: string; message: string }[];
}

export interface ImportCounts {
  received: number;
  created: number;
  updated: number;
  failed: number;
}
