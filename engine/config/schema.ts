// The app configuration: what the control API accepts and the store keeps.
// Secrets are plain fields here; the store encrypts them at rest and the API never echoes them.
import { z } from 'zod';
import { DEFAULT_INTERVAL_MINUTES } from '../policies/cadence.ts';
import { DEFAULT_LOG_RETENTION_DAYS, MAX_LOG_RETENTION_DAYS } from '../policies/retention.ts';
import { SCOPING_OPERATORS, TARGET_TYPES } from './vocabulary.ts';

/**
 * A refused value as an error message names it: a short string or scalar as is, anything else by
 * its kind — never the whole value, which may be megabytes or thousands of levels deep.
 */
export function refusedValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (value === null || typeof value !== 'object') return String(value);
  return 'an object';
}

export {
  SCOPING_OPERATORS,
  TARGET_TYPES,
  UNARY_SCOPING_OPERATORS,
  type ScopingOperator,
  type TargetType,
} from './vocabulary.ts';

const constantValue = z.union([z.string(), z.number(), z.boolean()]);

const mappingCommon = {
  /** SCIM path of the target attribute. */
  target: z.string().min(1),
  apply: z.enum(['always', 'create']).default('always'),
  /** Used when the source value is null or empty. */
  default: constantValue.nullable().optional(),
  /** 1, 2, … for matching attributes, in the order they are tried. */
  matchingPrecedence: z.number().int().min(1).optional(),
  targetType: z.enum(TARGET_TYPES).default('String'),
};

export const mappingSchema = z.discriminatedUnion('type', [
  z.object({ ...mappingCommon, type: z.literal('direct'), source: z.string().min(1) }),
  z.object({ ...mappingCommon, type: z.literal('constant'), value: constantValue }),
  z.object({ ...mappingCommon, type: z.literal('expression'), expression: z.string().min(1) }),
]);
export type Mapping = z.infer<typeof mappingSchema>;
export type MappingInput = z.input<typeof mappingSchema>;

export const scopingClauseSchema = z.object({
  /** Source attribute name, e.g. `department` or `extension_costCenter`. */
  attribute: z.string().min(1),
  operator: z.enum(SCOPING_OPERATORS),
  value: z.string().optional(),
});
export type ScopingClause = z.infer<typeof scopingClauseSchema>;

export const scopingFilterSchema = z.object({
  title: z.string().default(''),
  clauses: z.array(scopingClauseSchema).min(1),
});
export type ScopingFilter = z.infer<typeof scopingFilterSchema>;

export const objectActionsSchema = z.object({
  create: z.boolean().default(true),
  update: z.boolean().default(true),
  disable: z.boolean().default(true),
  delete: z.boolean().default(true),
});
export type ObjectActions = z.infer<typeof objectActionsSchema>;

/** Group members per PATCH request unless the app says otherwise. */
export const DEFAULT_MEMBER_CHUNK_SIZE = 100;

export const objectTypeConfigSchema = z.object({
  enabled: z.boolean().default(true),
  actions: objectActionsSchema.default({ create: true, update: true, disable: true, delete: true }),
  /** Leave accounts alone when their object leaves scope (Entra's SkipOutOfScopeDeletions). */
  skipOutOfScopeDeletions: z.boolean().default(false),
  mappings: z.array(mappingSchema).min(1),
  /** Filters are ORed, clauses within one are ANDed; no filter = everything passes. */
  scopingFilters: z.array(scopingFilterSchema).default([]),
  /** Group members per PATCH request. */
  memberChunkSize: z.number().int().min(1).max(10_000).default(DEFAULT_MEMBER_CHUNK_SIZE),
});
export type ObjectTypeConfig = z.infer<typeof objectTypeConfigSchema>;

export const authSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bearer'), token: z.string().min(1) }),
  z.object({
    type: z.literal('oauth2'),
    tokenUrl: z.url(),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    scope: z.string().optional(),
  }),
]);
export type AuthConfig = z.infer<typeof authSchema>;

/** `report`: only recorded; `adopt`: linked to the directory object it matches; `disable`: PATCH active=false (never deleted). */
export const ORPHAN_POLICIES = ['report', 'adopt', 'disable'] as const;
export type OrphanPolicy = (typeof ORPHAN_POLICIES)[number];
export const DEFAULT_RECONCILE_INTERVAL_HOURS = 24;
export const MAX_RECONCILE_INTERVAL_HOURS = 24 * 30;

export const deletionThresholdSchema = z.union([
  z.object({ count: z.number().int().min(0) }).strict(),
  z.object({ percent: z.number().min(0).max(100) }).strict(),
]);
export type DeletionThreshold = z.infer<typeof deletionThresholdSchema>;

export const connectorLimitationsSchema = z.object({
  /** iPass: only user names in these domains are accepted; empty or absent = no restriction. */
  allowedUsernameDomains: z.array(z.string().min(1)).optional(),
});
export type ConnectorLimitations = z.infer<typeof connectorLimitationsSchema>;

export const appConfigSchema = z.object({
  /** Gallery template this app was created from. */
  templateId: z.string().default('generic-scim'),
  name: z.string().min(1),
  target: z.object({ url: z.url() }),
  auth: authSchema,
  scope: z.enum(['assigned', 'all']).default('assigned'),
  objectTypes: z.object({
    user: objectTypeConfigSchema,
    group: objectTypeConfigSchema.optional(),
  }),
  cycleIntervalMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(DEFAULT_INTERVAL_MINUTES),
  /** Push directory changes within seconds (an incremental cycle per burst); off = only the cadence. */
  pushChanges: z.boolean().default(true),
  /** What a reconcile pass does with accounts edited or deleted in the target when not told: report only, or repair. */
  driftRepair: z.enum(['report', 'repair']).default('report'),
  /** What a repair pass does with orphans (target accounts no link points at): report, adopt (link by matching) or disable. */
  orphanPolicy: z
    .enum(ORPHAN_POLICIES, {
      error: (issue) =>
        `${refusedValue(issue.input)} is not an orphan policy; expected one of ${ORPHAN_POLICIES.join(', ')}`,
    })
    .default('report'),
  /** Hours between scheduled reconcile passes of an app whose provisioning is on; 0 = only on request. */
  reconcileIntervalHours: z
    .number()
    .int()
    .min(0)
    .max(MAX_RECONCILE_INTERVAL_HOURS)
    .default(DEFAULT_RECONCILE_INTERVAL_HOURS),
  deletionThreshold: deletionThresholdSchema.default({ count: 500 }),
  notificationEmail: z.email().nullable().default(null),
  compatibilityProfile: z.enum(['strict', 'entra-2017', 'put-only']).default('strict'),
  /**
   * Send a cycle's creates, updates and disables as SCIM `/Bulk` requests when the target advertises
   * Bulk (activities/pipeline/bulk-writes.ts); off = one request per write.
   */
  bulk: z.boolean().default(false),
  connectorLimitations: connectorLimitationsSchema.default({}),
  rateLimit: z
    .object({
      requestsPerSecond: z.number().positive().default(25),
      concurrency: z.number().int().min(1).default(5),
      /**
       * The longest Retry-After the app is paused for. A longer one fails the object as transient
       * (escrowed until the time the target named) and holds the app back for this long only.
       */
      maxRetryAfterSeconds: z.number().int().min(1).max(86_400).default(900),
    })
    .default({ requestsPerSecond: 25, concurrency: 5, maxRetryAfterSeconds: 900 }),
  /** How long Ferry keeps the app's provisioning logs (days; also after the app is deleted, unless purged). */
  retention: z
    .object({
      logDays: z.number().int().min(1).max(MAX_LOG_RETENTION_DAYS).default(DEFAULT_LOG_RETENTION_DAYS),
    })
    .default({ logDays: DEFAULT_LOG_RETENTION_DAYS }),
});
export type AppConfig = z.infer<typeof appConfigSchema>;
export type AppConfigInput = z.input<typeof appConfigSchema>;
