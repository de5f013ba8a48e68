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
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { ExportedValues } from '../engine/types.ts';

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
    /** The source that owns the user (sources table); null = written through the API. */
    sourceId: text('source_id'),
    /** The user's reference in its source (an LDAP DN, a CSV key), to resolve members and managers. */
    sourceRef: text('source_ref'),
    /** Attribute → the source whose value won it at the last source write (engine/policies/attributePrecedence.ts). */
    attributeSources: jsonb('attribute_sources').$type<Record<string, string>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('directory_users_upn_key').on(sql`lower(${t.userPrincipalName})`),
    index('directory_users_manager_idx').on(t.managerId),
    index('directory_users_source_idx').on(t.sourceId, t.sourceRef),
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
    /** The source that owns the group; null = written through the API. */
    sourceId: text('source_id'),
    sourceRef: text('source_ref'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('directory_groups_display_name_idx').on(t.displayName),
    index('directory_groups_source_idx').on(t.sourceId, t.sourceRef),
  ],
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
  /**
   * Increases with every change of the app's row through the API (name, target, secrets, settings,
   * provisioning on/off): the app's ETag, so a PATCH with If-Match cannot overwrite a change it did not see.
   */
  version: integer('version').notNull().default(1),
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
    /** What the last export sent (update paths; redacted ones as hashes): updates are computed from it. */
    exportedValues: jsonb('exported_values').$type<ExportedValues>(),
    active: boolean('active').notNull().default(true),
    failureCount: integer('failure_count').notNull().default(0),
    firstFailedAt: ts('first_failed_at'),
    nextRetryAt: ts('next_retry_at'),
    lastError: text('last_error'),
    lastErrorCode: text('last_error_code'),
    /**
     * Set just before Ferry sends a create (POST) for the object, cleared when its outcome is saved: an
     * account a later match finds while it is set is the one Ferry created (the outcome was lost).
     */
    createRequestedAt: ts('create_requested_at'),
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
    /** Temporal run of the cycle workflow that began it (null when begun outside a workflow). */
    runId: text('run_id'),
  },
  (t) => [
    uniqueIndex('cycles_app_number_key').on(t.appId, t.number),
    uniqueIndex('cycles_run_id_key').on(t.runId),
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
    /**
     * Held back for approval (`status` is `staged`). No index holds `status`, so marking an item done
     * rewrites it in place (a HOT update; the table keeps half of each page free for that, fillfactor
     * 50 in migration 0024); staged items are found by this.
     */
    held: boolean('held').generatedAlwaysAs(sql`status = 'staged'`),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('cycle_work_object_key').on(t.cycleId, t.objectType, t.objectId),
    index('cycle_work_cursor_idx').on(t.cycleId, t.objectType, t.seq),
    index('cycle_work_held_idx')
      .on(t.cycleId)
      .where(sql`${t.held}`),
  ],
);

/**
 * An initial cycle's listing of the target per object type, streamed page by page for matching: how
 * far it got (`next_index`, the next SCIM startIndex) so an interrupted listing continues there.
 */
export const cycleTargetListings = pgTable(
  'cycle_target_listings',
  {
    cycleId: text('cycle_id')
      .notNull()
      .references(() => cycles.id, { onDelete: 'cascade' }),
    objectType: text('object_type').$type<'user' | 'group'>().notNull(),
    /** The matching attributes the keys were computed for; other attributes start the listing over. */
    attributes: jsonb('attributes').$type<string[]>().notNull(),
    nextIndex: integer('next_index').notNull().default(1),
    done: boolean('done').notNull().default(false),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.cycleId, t.objectType] })],
);

/** The accounts of a cycle's target listing (`first_index`: the startIndex of the page that first held it). */
export const cycleTargetAccounts = pgTable(
  'cycle_target_accounts',
  {
    cycleId: text('cycle_id').notNull(),
    objectType: text('object_type').$type<'user' | 'group'>().notNull(),
    targetId: text('target_id').notNull(),
    firstIndex: integer('first_index').notNull(),
    resource: jsonb('resource').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.cycleId, t.objectType, t.targetId] })],
);

/** The listing's accounts by matching attribute and normalized value (engine/matching/targetIndex.ts). */
export const cycleTargetKeys = pgTable(
  'cycle_target_keys',
  {
    cycleId: text('cycle_id').notNull(),
    objectType: text('object_type').$type<'user' | 'group'>().notNull(),
    attribute: text('attribute').notNull(),
    key: text('key').notNull(),
    targetId: text('target_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.cycleId, t.objectType, t.attribute, t.key, t.targetId] })],
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
 * `holder` names the cycle or on-demand request; `fence` the attempt (an activity attempt), from
 * `object_lock_fence_seq`: a later attempt of the same holder takes the lock over, and an attempt
 * whose fence is no longer on the lock must not export the object. The table is unlogged (migration
 * 0024): a crash of Postgres that empties it only makes the attempts holding claims stop at their next
 * fencing check; their retries claim again.
 */
export const objectLocks = pgTable(
  'object_locks',
  {
    appId: text('app_id').notNull(),
    objectType: text('object_type').$type<'user' | 'group'>().notNull(),
    objectId: text('object_id').notNull(),
    holder: text('holder').notNull(),
    fence: bigint('fence', { mode: 'number' }).notNull().default(0),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.objectType, t.objectId] })],
);

/** Fencing tokens of object locks: one per attempt that claims locks (strictly increasing). */
export const objectLockFence = pgSequence('object_lock_fence_seq');

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

/**
 * API keys kept in the database (FERRY_API_KEYS are not here). Only the SHA-256 of a key is kept,
 * and its first characters (`key_prefix`) so a person can tell keys apart; a revoked key stays as
 * a record, so the audit log keeps naming it.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    role: text('role').$type<'admin' | 'operator' | 'viewer'>().notNull(),
    keyHash: text('key_hash').notNull(),
    keyPrefix: text('key_prefix').notNull(),
    createdAt: createdAt(),
    /** Id of the key (or `cli`) that created it. */
    createdBy: text('created_by'),
    /** Updated at most once a minute per key. */
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [uniqueIndex('api_keys_key_hash_key').on(t.keyHash), index('api_keys_created_idx').on(t.createdAt, t.id)],
);

/**
 * The audit log: one row per mutating API call (and per key created or revoked from the command
 * line). Append-only: a trigger refuses UPDATE, TRUNCATE and every DELETE but retention's.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    time: ts('time').notNull().defaultNow(),
    keyId: text('key_id'),
    keyName: text('key_name'),
    role: text('role'),
    action: text('action').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    resource: text('resource'),
    requestId: text('request_id'),
    status: integer('status').notNull(),
    outcome: text('outcome').$type<'success' | 'failure' | 'denied'>().notNull(),
    /** Names (dotted paths) of the request body's fields — never their values. */
    fields: text('fields')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
  },
  (t) => [
    index('audit_log_time_idx').on(t.time),
    index('audit_log_key_idx').on(t.keyId, t.id),
    index('audit_log_action_idx').on(t.action, t.id),
    index('audit_log_resource_idx').on(t.resource, t.id),
  ],
);

/** Sources that feed the directory (LDAP, CSV files). `secret` is a SecretBox envelope, never plaintext. */
export const sources = pgTable(
  'sources',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    type: text('type').notNull(),
    config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
    secret: text('secret'),
    /** SCIM inbound sources: SHA-256 of the bearer token identity providers push with (shown once). */
    tokenHash: text('token_hash'),
    enabled: boolean('enabled').notNull().default(true),
    /** Import bookkeeping: high-water mark, last full import, deletions staged for approval. */
    state: jsonb('state').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('sources_token_hash_idx').on(t.tokenHash)],
);

/** One import of a source: its outcome and counts. */
export const sourceRuns = pgTable(
  'source_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    mode: text('mode').$type<'full' | 'incremental'>().notNull(),
    status: text('status').$type<'running' | 'succeeded' | 'failed' | 'needsApproval'>().notNull(),
    startedAt: ts('started_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
    created: integer('created').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    deleted: integer('deleted').notNull().default(0),
    unchanged: integer('unchanged').notNull().default(0),
    stagedDeletions: integer('staged_deletions').notNull().default(0),
    error: text('error'),
    /** Attempts of the import activity this run records (a retried attempt updates its run). */
    attempts: integer('attempts').notNull().default(1),
  },
  (t) => [index('source_runs_source_idx').on(t.sourceId, t.id)],
);

/** HR exports uploaded to a csv source (`origin: 'upload'`), as received; the import reads the newest. */
export const sourceSnapshots = pgTable(
  'source_snapshots',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    format: text('format').$type<'csv' | 'json'>().notNull(),
    content: text('content').notNull(),
    rows: integer('rows').notNull(),
    bytes: integer('bytes').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('source_snapshots_source_idx').on(t.sourceId, t.id)],
);

/**
 * What each source says about a user it provides (its "contribution"): the user's attributes are
 * merged from these by attribute precedence. A source's row joined to another source's user
 * (`joinOn`) has one here but does not own the user. Gone with the user or the source.
 */
export const userContributions = pgTable(
  'directory_user_sources',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    /** The stable id of the row in the source (null: the directory id says it, or a SCIM source). */
    externalId: text('external_id'),
    /** The row's reference in the source (a DN, a CSV key, a SCIM externalId), for managers and members. */
    ref: text('ref'),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.sourceId] }),
    index('directory_user_sources_external_idx').on(t.sourceId, t.externalId),
    index('directory_user_sources_ref_idx').on(t.sourceId, t.ref),
  ],
);

/** Webhook subscriptions: an app's (appId set) or global (null). `secret` is sealed like app secrets. */
export const webhooks = pgTable(
  'webhooks',
  {
    id: text('id').primaryKey(),
    appId: text('app_id').references(() => apps.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    events: text('events').array().notNull(),
    description: text('description'),
    secret: text('secret').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('webhooks_app_idx').on(t.appId)],
);

/** The outbox: events written where they happen (often in the same transaction), fanned out by the dispatcher. */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    appId: text('app_id'),
    type: text('type').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    dispatchedAt: ts('dispatched_at'),
  },
  (t) => [
    index('webhook_events_pending_idx')
      .on(t.id)
      .where(sql`${t.dispatchedAt} is null`),
  ],
);

/** One row per (subscription, event): its delivery state and last attempt. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    webhookId: text('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    eventId: bigint('event_id', { mode: 'number' })
      .notNull()
      .references(() => webhookEvents.id, { onDelete: 'cascade' }),
    eventType: text('event_type').notNull(),
    status: text('status').$type<'pending' | 'delivered' | 'failed'>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    responseStatus: integer('response_status'),
    error: text('error'),
    createdAt: createdAt(),
    lastAttemptAt: ts('last_attempt_at'),
    deliveredAt: ts('delivered_at'),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_webhook_event_key').on(t.webhookId, t.eventId),
    index('webhook_deliveries_list_idx').on(t.webhookId, t.createdAt, t.id),
  ],
);

/** A preview of a proposed app change: what the next cycle would do under it, computed without a write to the target. */
export const previews = pgTable(
  'previews',
  {
    id: text('id').primaryKey(),
    appId: text('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    /** The app's version (ETag) the preview was computed against: apply is refused once it moved on. */
    baseVersion: integer('base_version').notNull(),
    /** The proposed change as the request gave it (no secrets: previews take no target). */
    changes: jsonb('changes').$type<Record<string, unknown>>().notNull(),
    status: text('status').$type<'running' | 'completed' | 'failed' | 'applied'>().notNull(),
    counts: jsonb('counts').$type<Record<string, number>>().notNull().default({}),
    total: integer('total').notNull().default(0),
    error: text('error'),
    createdAt: createdAt(),
    finishedAt: ts('finished_at'),
    appliedAt: ts('applied_at'),
  },
  (t) => [index('previews_app_idx').on(t.appId, t.createdAt)],
);

/** One object of a preview: the action the next cycle would take and the attributes it would change. */
export const previewItems = pgTable(
  'preview_items',
  {
    previewId: text('preview_id')
      .notNull()
      .references(() => previews.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    objectType: text('object_type').$type<'user' | 'group'>().notNull(),
    objectId: text('object_id').notNull(),
    displayName: text('display_name'),
    action: text('action').notNull(),
    reason: text('reason').notNull(),
    dependsOnMatch: boolean('depends_on_match').notNull().default(false),
    modifiedAttributes: jsonb('modified_attributes')
      .$type<{ name: string; oldValue?: unknown; newValue?: unknown }[]>()
      .notNull()
      .default([]),
  },
  (t) => [
    primaryKey({ columns: [t.previewId, t.seq] }),
    index('preview_items_action_idx').on(t.previewId, t.action, t.seq),
  ],
);

/**
 * The shared request schedule of an app (migration 0014): the next free request start time and the
 * end of a Retry-After pause. Every worker reserves its next run of start times here in one upsert,
 * so the app's rate limit holds across workers (store/rate-slots.ts).
 */
export const appRateSlots = pgTable('app_rate_slots', {
  appId: text('app_id')
    .primaryKey()
    .references(() => apps.id, { onDelete: 'cascade' }),
  nextStart: ts('next_start').notNull(),
  pausedUntil: ts('paused_until'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** The latest capability probe of an app's target (POST /apps/{id}/probe): what it found, when, by whom. */
export const appProbes = pgTable('app_probes', {
  appId: text('app_id')
    .primaryKey()
    .references(() => apps.id, { onDelete: 'cascade' }),
  /** The probe's report (no secrets: statuses and what was learnt). */
  result: jsonb('result').$type<Record<string, unknown>>().notNull(),
  writes: boolean('writes').notNull().default(false),
  /** The name of the API key (or console user's key) that asked. */
  probedBy: text('probed_by').notNull(),
  probedAt: ts('probed_at').notNull().defaultNow(),
});
/** One reconcile pass of an app: the target read page by page and compared with the links. */
export const reconcilePasses = pgTable(
  'reconcile_passes',
  {
    id: text('id').primaryKey(),
    appId: text('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    mode: text('mode').$type<'report' | 'repair'>().notNull(),
    status: text('status').$type<'running' | 'completed' | 'failed'>().notNull(),
    counts: jsonb('counts').$type<Record<string, number>>().notNull().default({}),
    error: text('error'),
    startedAt: ts('started_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
  },
  (t) => [index('reconcile_passes_app_idx').on(t.appId, t.startedAt)],
);

/** The target users and groups a pass has read: a linked one missing from them was deleted in the target. */
export const reconcileSeen = pgTable(
  'reconcile_seen',
  {
    passId: text('pass_id')
      .notNull()
      .references(() => reconcilePasses.id, { onDelete: 'cascade' }),
    objectType: text('object_type').$type<'user' | 'group'>().notNull().default('user'),
    targetId: text('target_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.passId, t.objectType, t.targetId] })],
);

/** What a pass found about one target user or group (edited, deleted or orphan) and what it did about it. */
export const driftFindings = pgTable(
  'drift_findings',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    passId: text('pass_id')
      .notNull()
      .references(() => reconcilePasses.id, { onDelete: 'cascade' }),
    appId: text('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<'edited' | 'deleted' | 'orphan'>().notNull(),
    objectType: text('object_type').$type<'user' | 'group'>().notNull(),
    sourceId: text('source_id'),
    targetId: text('target_id').notNull(),
    displayName: text('display_name'),
    attributes: jsonb('attributes')
      .$type<{ name: string; oldValue?: unknown; newValue?: unknown }[]>()
      .notNull()
      .default([]),
    outcome: text('outcome')
      .$type<'reported' | 'repaired' | 'recreated' | 'adopted' | 'disabled' | 'failed' | 'busy'>()
      .notNull(),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    logId: text('log_id'),
    foundAt: ts('found_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('drift_findings_pass_type_target_idx').on(t.passId, t.objectType, t.targetId),
    index('drift_findings_app_idx').on(t.appId, t.kind, t.id),
  ],
);
