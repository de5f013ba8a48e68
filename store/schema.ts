// Ferry's tables (drizzle-orm). `npx drizzle-kit generate` turns changes here into SQL under
// store/migrations/, which store/migrate.ts applies. Postgres 15 features only, so the same SQL
// runs on PGlite and on a real server.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const createdAt = () => ts('created_at').notNull().defaultNow();
const updatedAt = () => ts('updated_at').notNull().defaultNow();

export const users = pgTable(
  'directory_users',
  {
    id: text('id').primaryKey(),
    userPrincipalName: text('user_principal_name').notNull(),
    mail: text('mail'),
    mailNickname: text('mail_nickname'),
    displayName: text('display_name'),
    givenName: text('given_name'),
    surname: text('surname'),
    accountEnabled: boolean('account_enabled').notNull().default(true),
    jobTitle: text('job_title'),
    department: text('department'),
    companyName: text('company_name'),
    employeeId: text('employee_id'),
    mobilePhone: text('mobile_phone'),
    businessPhones: text('business_phones')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    officeLocation: text('office_location'),
    city: text('city'),
    country: text('country'),
    managerId: text('manager_id'),
    extensions: jsonb('extensions').$type<Record<string, unknown>>().notNull().default({}),
    deletedDateTime: ts('deleted_date_time'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('directory_users_upn_key').on(sql`lower(${t.userPrincipalName})`),
    index('directory_users_manager_idx').on(t.managerId),
  ],
);

export const groups = pgTable(
  'directory_groups',
  {
    id: text('id').primaryKey(),
    displayName: text('display_name').notNull(),
    mailNickname: text('mail_nickname'),
    description: text('description'),
    mail: text('mail'),
    extensions: jsonb('extensions').$type<Record<string, unknown>>().notNull().default({}),
    deletedDateTime: ts('deleted_date_time'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('directory_groups_display_name_idx').on(t.displayName)],
);

/** Group members: users or (nested) groups. No foreign key on member_id: it points at either table. */
export const memberships = pgTable(
  'directory_memberships',
  {
    groupId: text('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    memberId: text('member_id').notNull(),
    memberType: text('member_type').$type<'user' | 'group'>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.memberId] }), index('directory_memberships_member_idx').on(t.memberId)],
);

/**
 * The directory change log: every directory write appends one row in the same transaction.
 * `seq` is the watermark of incremental cycles; writers serialise on an advisory lock so that
 * seq order is also commit order (a reader never sees seq n+1 before seq n).
 */
export const changes = pgTable(
  'directory_changes',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    objectType: text('object_type').$type<'user' | 'group'>().notNull(),
    objectId: text('object_id').notNull(),
    op: text('op').notNull(),
    /** Set for assignment changes. */
    appId: text('app_id'),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('directory_changes_object_idx').on(t.objectType, t.objectId)],
);

export const apps = pgTable('apps', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  template: text('template').notNull(),
  configuration: jsonb('configuration').$type<Record<string, unknown>>().notNull().default({}),
  /** AES-256-GCM envelope (store/crypto.ts) of a JSON object of secrets; never plaintext. */
  secrets: text('secrets'),
  /** Names of the secrets held, so the safe view can say `hasToken` without decrypting. */
  secretNames: text('secret_names')
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  provisioningEnabled: boolean('provisioning_enabled').notNull().default(false),
  configVersion: integer('config_version').notNull().default(1),
  /** Directory change seq provisioned so far; null = next cycle is initial. */
  watermark: bigint('watermark', { mode: 'number' }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const assignments = pgTable(
  'app_role_assignments',
  {
    appId: text('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    principalId: text('principal_id').notNull(),
    principalType: text('principal_type').$type<'user' | 'group'>().notNull(),
    role: text('role').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.principalId, t.role] }),
    index('app_role_assignments_principal_idx').on(t.principalId),
  ],
);

export const links = pgTable(
  'links',
  {
    appId: text('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    objectType: text('object_type').$type<'user' | 'group'>().notNull(),
    sourceId: text('source_id').notNull(),
    targetId: text('target_id'),
    exportedHash: text('exported_hash'),
    active: boolean('active').notNull().default(true),
    failureCount: integer('failure_count').notNull().default(0),
    firstFailedAt: ts('first_failed_at'),
    nextRetryAt: ts('next_retry_at'),
    lastError: text('last_error'),
    lastErrorCode: text('last_error_code'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.objectType, t.sourceId] }),
    // Led by target_id on purpose: an index led by (app_id, object_type) competes with the primary
    // key for `source_id = any(...)` lookups, and with statistics taken while the table was small the
    // planner picked it and filtered every link of the app (linear in links; 1.3 s per batch at 100k).
    index('links_target_idx').on(t.targetId, t.appId, t.objectType),
    index('links_retry_idx')
      .on(t.appId, t.nextRetryAt)
      .where(sql`${t.nextRetryAt} is not null`),
  ],
);

export const cycles = pgTable(
  'cycles',
  {
    id: text('id').primaryKey(),
    appId: text('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    kind: text('kind').$type<'initial' | 'incremental'>().notNull(),
    status: text('status').$type<'running' | 'succeeded' | 'failed' | 'stopped'>().notNull().default('running'),
    counts: jsonb('counts').$type<Record<string, number>>().notNull(),
    processed: integer('processed').notNull().default(0),
    total: integer('total').notNull().default(0),
    operations: integer('operations').notNull().default(0),
    watermarkFrom: bigint('watermark_from', { mode: 'number' }),
    watermarkTo: bigint('watermark_to', { mode: 'number' }),
    failure: jsonb('failure').$type<Record<string, unknown>>(),
    pendingDeletions: integer('pending_deletions').notNull().default(0),
    deletionThresholdExceeded: boolean('deletion_threshold_exceeded').notNull().default(false),
    startedAt: ts('started_at').notNull().defaultNow(),
    endedAt: ts('ended_at'),
  },
  (t) => [
    uniqueIndex('cycles_app_number_key').on(t.appId, t.number),
    index('cycles_app_started_idx').on(t.appId, t.startedAt),
  ],
);

/**
 * Objects staged for one cycle. `seq` orders the work (a global sequence, so a batch is simply
 * "seq > cursor" within the cycle); re-staging the same object is a no-op.
 */
export const cycleWork = pgTable(
  'cycle_work',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    cycleId: text('cycle_id')
      .notNull()
      .references(() => cycles.id, { onDelete: 'cascade' }),
    objectType: text('object_type').$type<'user' | 'group'>().notNull(),
    objectId: text('object_id').notNull(),
    /** The latest directory change that staged it (log `changeId`), null in initial cycles. */
    changeSeq: bigint('change_seq', { mode: 'number' }),
    status: text('status').notNull().default('pending'),
    action: text('action'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('cycle_work_object_key').on(t.cycleId, t.objectType, t.objectId),
    index('cycle_work_cursor_idx').on(t.cycleId, t.objectType, t.seq),
    index('cycle_work_status_idx').on(t.cycleId, t.status),
  ],
);

export const provisioningLogs = pgTable(
  'provisioning_logs',
  {
    id: text('id').primaryKey(),
    time: ts('time').notNull(),
    appId: text('app_id').notNull(),
    cycleId: text('cycle_id'),
    changeId: text('change_id'),
    objectType: text('object_type').$type<'user' | 'group'>().notNull(),
    sourceId: text('source_id').notNull(),
    sourceDisplayName: text('source_display_name'),
    targetId: text('target_id'),
    action: text('action').notNull(),
    status: text('status').notNull(),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    steps: jsonb('steps').$type<unknown[]>().notNull().default([]),
    modifiedAttributes: jsonb('modified_attributes').$type<unknown[]>().notNull().default([]),
    durationMs: integer('duration_ms').notNull().default(0),
    onDemand: boolean('on_demand').notNull().default(false),
  },
  (t) => [
    index('provisioning_logs_app_time_idx').on(t.appId, t.time, t.id),
    index('provisioning_logs_cycle_idx').on(t.cycleId, t.time),
    index('provisioning_logs_source_idx').on(t.appId, t.sourceId, t.time),
    index('provisioning_logs_target_idx').on(t.appId, t.targetId),
    index('provisioning_logs_action_idx').on(t.appId, t.action, t.time),
    index('provisioning_logs_status_idx').on(t.appId, t.status, t.time),
  ],
);

/**
 * Object locks: on-demand and cycles claim (app, object) before touching the target, so they
 * never race on the same object. A lock expires, so a crashed holder cannot block forever.
 */
export const objectLocks = pgTable(
  'object_locks',
  {
    appId: text('app_id').notNull(),
    objectType: text('object_type').$type<'user' | 'group'>().notNull(),
    objectId: text('object_id').notNull(),
    holder: text('holder').notNull(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.objectType, t.objectId] })],
);

/** Small key-value state (job state, sent notifications, generated keys …), scoped by a namespace. */
export const keyValues = pgTable(
  'key_values',
  {
    namespace: text('namespace').notNull(),
    key: text('key').notNull(),
    value: jsonb('value').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.key] })],
);
