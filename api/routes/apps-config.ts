// Turning an API request (template + target + settings + mappings) into the app configuration the
// store keeps and the worker runs, checked by the engine's parseAppConfig so every problem names
// its path IN THE REQUEST (`mappings.user[2].expression`, `settings.cycleIntervalMinutes`).
// Secrets (bearer token, OAuth client secret) are split off here: they go to the store's
// encrypted secrets and are never part of the configuration, a response or a log line.
import { isIP } from 'node:net';
import { z } from '@hono/zod-openapi';
import {
  appConfigFromTemplate,
  DEFAULT_RECONCILE_INTERVAL_HOURS,
  deletionThresholdSchema,
  MAX_RECONCILE_INTERVAL_HOURS,
  ORPHAN_POLICIES,
  parseAppConfig,
  refusedValue,
  type OrphanPolicy,
  type AppConfig,
  type AppTemplate,
  type ConfigIssue,
} from '../../engine/config/index.ts';
import { DEFAULT_LOG_RETENTION_DAYS, MAX_LOG_RETENTION_DAYS } from '../../engine/policies/retention.ts';
import { ADDRESS_NOT_ALLOWED_MESSAGE, isAddressAllowed, type NetworkRange } from '../../scim/index.ts';
import type { AppRecord, AppSecrets } from '../../store/index.ts';
import { ApiError, type ErrorDetail } from '../errors.ts';
import { credentialOriginIssues } from './apps-credential-origins.ts';

export const PROFILES = ['strict', 'entra-2017', 'put-only'] as const;

const oauthSchema = z
  .object({
    tokenUrl: z.url().openapi({ example: 'https://login.example.com/oauth2/token' }),
    clientId: z.string().min(1).max(512),
    clientSecret: z.string().min(1).max(4096).openapi({ description: 'Write-only' }),
    scope: z.string().max(1024).optional(),
  })
  .strict()
  .openapi('OAuthClientCredentials');

const targetFields = {
  url: z.url().max(2048).openapi({ example: 'https://app.example.com/scim/v2' }),
  token: z.string().min(1).max(8192).openapi({ description: 'Bearer token (write-only: answers say `hasToken`)' }),
  oauth: oauthSchema,
};

export const newTargetSchema = z
  .object(targetFields)
  .partial({ token: true, oauth: true })
  .strict()
  .refine((t) => (t.token === undefined) !== (t.oauth === undefined), {
    message: 'give exactly one of token or oauth',
    path: ['token'],
  })
  .openapi('NewTarget');

export const targetPatchSchema = z
  .object({ ...targetFields, oauth: oauthSchema.partial({ clientSecret: true }) })
  .partial()
  .strict()
  .refine((t) => !(t.token !== undefined && t.oauth !== undefined), {
    message: 'give at most one of token or oauth',
    path: ['token'],
  })
  .openapi('TargetPatch');

export const settingsSchema = z
  .object({
    scope: z
      .enum(['assigned', 'all'])
      .openapi({ description: '`assigned` (default): only assigned users and groups; `all`: the whole directory' }),
    notificationEmail: z.email().nullable().openapi({ description: 'Receives quarantine e-mails' }),
    cycleIntervalMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .openapi({ description: 'Minutes between incremental cycles (default 40)' }),
    pushChanges: z.boolean().openapi({
      description:
        '`true` (default): a directory change reaches the target within seconds (a small incremental cycle per burst of changes); `false`: only at the next cycle of the cadence',
    }),
    driftRepair: z.enum(['report', 'repair']).openapi({
      description:
        'What a reconcile pass (POST /apps/{id}/reconcile without `mode`) does with accounts edited or deleted in the target: `report` (default) only records them, `repair` restores the last exported values and re-creates deleted accounts',
    }),
    orphanPolicy: z
      .enum(ORPHAN_POLICIES, {
        error: (issue) =>
          `${refusedValue(issue.input)} is not an orphan policy; expected one of ${ORPHAN_POLICIES.join(', ')}`,
      })
      .openapi({
        description:
          'What a reconcile pass in `repair` mode does with orphans (target accounts no link points at): `report` (default) only records them, `adopt` links one to the in-scope directory user it matches by the matching attributes (the next cycle manages it), `disable` sets it active=false once (never deletes; an orphan that matches an unlinked in-scope user is left for the next cycle to adopt)',
      }),
    reconcileIntervalHours: z
      .number()
      .int()
      .min(0)
      .max(MAX_RECONCILE_INTERVAL_HOURS)
      .openapi({
        description: `Hours between scheduled reconcile passes while provisioning is on (default ${DEFAULT_RECONCILE_INTERVAL_HOURS}, at most ${MAX_RECONCILE_INTERVAL_HOURS}); 0: only on request`,
      }),
    deletionThreshold: deletionThresholdSchema.openapi({
      description: '`{ "count": 500 }` (default) or `{ "percent": 10 }`: more disables/deletes in one cycle are staged',
    }),
    profile: z.enum(PROFILES).openapi({ description: 'SCIM compatibility profile (default strict)' }),
    bulk: z.boolean().openapi({
      description:
        "`true`: when the target advertises SCIM Bulk, a cycle sends its creates, updates and disables as `/Bulk` requests within the target's `maxOperations` and `maxPayloadSize` (each object logged from its own operation's answer; a target answering 404/405/501 to `/Bulk` gets single requests); `false` (default): one request per write",
    }),
    rateLimit: z
      .object({
        requestsPerSecond: z.number().positive().max(10_000),
        concurrency: z.number().int().min(1).max(256),
        maxRetryAfterSeconds: z.number().int().min(1).max(86_400),
      })
      .partial()
      .strict()
      .openapi({
        description:
          'Requests per second (default 25) and in flight (default 5) to the target; `maxRetryAfterSeconds` (default 900, at most a day): the longest Retry-After the app is paused for, a longer one escrows the object until then',
      }),
    allowInsecureLoopback: z.boolean().openapi({
      description:
        'Kept for compatibility: `true` is accepted only when the server runs with FERRY_ALLOW_INSECURE_LOOPBACK=1, which alone decides whether apps may use loopback targets (development and tests)',
    }),
    retention: z
      .object({ logDays: z.number().int().min(1).max(MAX_LOG_RETENTION_DAYS) })
      .partial()
      .strict()
      .openapi({
        description: `\`logDays\` (default ${DEFAULT_LOG_RETENTION_DAYS}, 1 to ${MAX_LOG_RETENTION_DAYS}): how many days the app's provisioning logs are kept, also after the app is deleted (unless deleted with \`purge=true\`)`,
      }),
  })
  .partial()
  .strict()
  .openapi('AppSettings');

const perObjectType = (description: string) =>
  z
    .object({ user: z.array(z.unknown()), group: z.array(z.unknown()) })
    .partial()
    .strict()
    .openapi({ description });

export const mappingsSchema = perObjectType(
  "Attribute mappings per object type, replacing the template's; checked when saved",
).openapi('AppMappings');
export const scopingFiltersSchema = perObjectType(
  'Scoping filters per object type: filters are ORed, clauses within one ANDed',
).openapi('AppScopingFilters');

export const connectorLimitationsSchema = z
  .object({
    allowedUsernameDomains: z
      .array(z.string().trim().min(1).max(253))
      .max(1000)
      .openapi({
        description:
          'Only users whose userName is in one of these domains are sent (iPass SmartConnect: the domains registered in its admin console); others are skipped with `InvalidDomain`. Empty: no restriction.',
        example: ['contoso.com'],
      }),
  })
  .partial()
  .strict()
  .openapi('ConnectorLimitations', {
    description: "Limits the target app puts on what it accepts (the template's `limitationNotes` explain them)",
  });

export type NewAppTarget = z.infer<typeof newTargetSchema>;
export type TargetPatch = z.infer<typeof targetPatchSchema>;
export type AppSettings = z.infer<typeof settingsSchema>;

export interface AppChanges {
  name?: string;
  target?: TargetPatch;
  settings?: AppSettings;
  mappings?: { user?: unknown[]; group?: unknown[] };
  scopingFilters?: { user?: unknown[]; group?: unknown[] };
  connectorLimitations?: z.infer<typeof connectorLimitationsSchema>;
}

/** The configuration the store keeps: a parsed AppConfig without secret values, plus Ferry's own flags. */
export type StoredConfiguration = Omit<AppConfig, 'auth'> & {
  auth: { type: 'bearer' } | { type: 'oauth2'; tokenUrl: string; clientId: string; scope?: string };
  allowInsecureLoopback?: boolean;
};

const SETTINGS_PATHS: Record<string, string> = {
  scope: 'settings.scope',
  notificationEmail: 'settings.notificationEmail',
  cycleIntervalMinutes: 'settings.cycleIntervalMinutes',
  pushChanges: 'settings.pushChanges',
  driftRepair: 'settings.driftRepair',
  orphanPolicy: 'settings.orphanPolicy',
  reconcileIntervalHours: 'settings.reconcileIntervalHours',
  deletionThreshold: 'settings.deletionThreshold',
  compatibilityProfile: 'settings.profile',
  bulk: 'settings.bulk',
  rateLimit: 'settings.rateLimit',
  retention: 'settings.retention',
};

/** A configuration path → the request field it came from. */
export function requestPath(path: string): string {
  const objectType = /^objectTypes\.(user|group)\.(mappings|scopingFilters)(.*)$/.exec(path);
  if (objectType) return `${objectType[2]}.${objectType[1]}${objectType[3]}`;
  const auth = /^auth\.(\w+)(.*)$/.exec(path);
  if (auth) return auth[1] === 'token' || auth[1] === 'type' ? 'target.token' : `target.oauth.${auth[1]}${auth[2]}`;
  const head = /^(\w+)(.*)$/.exec(path);
  if (head && SETTINGS_PATHS[head[1]]) return `${SETTINGS_PATHS[head[1]]}${head[2]}`;
  return path;
}

const configError = (issues: ConfigIssue[]): ApiError => {
  const details: ErrorDetail[] = issues.map((i) => ({ path: requestPath(i.path), message: i.message, in: 'body' }));
  const first = details[0];
  return new ApiError(
    'validation_failed',
    `Invalid app configuration: ${first.path || '(root)'}: ${first.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}`,
    { details },
  );
};

/** Where the server lets apps connect: FERRY_ALLOW_INSECURE_LOOPBACK and FERRY_ALLOWED_TARGET_NETWORKS. */
export interface TargetEnvironment {
  allowInsecureLoopback?: boolean;
  allowedTargetNetworks?: readonly NetworkRange[];
}

const isLoopbackName = (host: string) => host === 'localhost' || host.endsWith('.localhost');
const isLoopback = (host: string) => isLoopbackName(host) || host === '[::1]' || /^127\./.test(host);

/**
 * https, or plain http to loopback when the server allows loopback; an address written in the URL
 * (or `localhost`) must be one the outbound address policy allows. Host names are not resolved
 * here: every connection checks the address it resolves to (the SCIM client enforces all of it).
 */
export function checkUrl(url: string, environment: TargetEnvironment, path: string, issues: ConfigIssue[]): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return; // the schema reports it
  }
  const loopbackAllowed = environment.allowInsecureLoopback === true;
  if (parsed.protocol === 'http:' && isLoopback(parsed.hostname)) {
    if (!loopbackAllowed)
      issues.push({
        path,
        message: 'plain http is allowed only to loopback, when the server runs with FERRY_ALLOW_INSECURE_LOOPBACK=1',
      });
    return;
  }
  if (parsed.protocol !== 'https:') {
    issues.push({ path, message: 'must be an https URL' });
    return;
  }
  const policy = { allowLoopback: loopbackAllowed, allowedNetworks: environment.allowedTargetNetworks ?? [] };
  const literal = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const address = isLoopbackName(literal) ? '127.0.0.1' : literal;
  if (isIP(address) !== 0 && !isAddressAllowed(policy, address))
    issues.push({ path, message: `${parsed.hostname}: ${ADDRESS_NOT_ALLOWED_MESSAGE}` });
}

/**
 * Applies changes to a configuration (the template's defaults for a new app) and checks the result.
 * Returns the configuration to store (no secrets) and the secrets to merge (null removes one).
 */
export function applyAppChanges(
  base: StoredConfiguration,
  currentSecrets: AppSecrets,
  changes: AppChanges,
  template: AppTemplate | undefined,
  environment: TargetEnvironment = {},
): { configuration: StoredConfiguration; secrets: Record<string, string | null> } {
  const next = structuredClone(base) as StoredConfiguration & Record<string, unknown>;
  const secrets: Record<string, string | null> = {};
  if (changes.name !== undefined) next.name = changes.name;
  const target = changes.target;
  if (target?.url !== undefined) next.target = { url: target.url };
  if (target?.token !== undefined) {
    next.auth = { type: 'bearer' };
    secrets.token = target.token;
    if (currentSecrets.clientSecret !== undefined) secrets.clientSecret = null;
  } else if (target?.oauth !== undefined) {
    const { clientSecret, ...rest } = target.oauth;
    const previous = next.auth.type === 'oauth2' ? next.auth : null;
    next.auth = {
      type: 'oauth2',
      tokenUrl: rest.tokenUrl ?? previous?.tokenUrl ?? '',
      clientId: rest.clientId ?? previous?.clientId ?? '',
      ...(rest.scope !== undefined ? { scope: rest.scope } : previous?.scope ? { scope: previous.scope } : {}),
    };
    if (clientSecret !== undefined) secrets.clientSecret = clientSecret;
    if (currentSecrets.token !== undefined) secrets.token = null;
  }
  const s = changes.settings ?? {};
  if (s.scope !== undefined) next.scope = s.scope;
  if (s.notificationEmail !== undefined) next.notificationEmail = s.notificationEmail;
  if (s.cycleIntervalMinutes !== undefined) next.cycleIntervalMinutes = s.cycleIntervalMinutes;
  if (s.pushChanges !== undefined) next.pushChanges = s.pushChanges;
  if (s.driftRepair !== undefined) next.driftRepair = s.driftRepair;
  if (s.orphanPolicy !== undefined) next.orphanPolicy = s.orphanPolicy;
  if (s.reconcileIntervalHours !== undefined) next.reconcileIntervalHours = s.reconcileIntervalHours;
  if (s.deletionThreshold !== undefined) next.deletionThreshold = s.deletionThreshold;
  if (s.profile !== undefined) next.compatibilityProfile = s.profile;
  if (s.bulk !== undefined) next.bulk = s.bulk;
  if (s.rateLimit !== undefined)
    next.rateLimit = { ...next.rateLimit, ...s.rateLimit } as StoredConfiguration['rateLimit'];
  if (s.allowInsecureLoopback !== undefined) next.allowInsecureLoopback = s.allowInsecureLoopback;
  if (s.retention !== undefined)
    next.retention = { ...next.retention, ...s.retention } as StoredConfiguration['retention'];
  if (changes.connectorLimitations !== undefined)
    next.connectorLimitations = { ...next.connectorLimitations, ...changes.connectorLimitations };
  const objectTypes = next.objectTypes as Record<string, Record<string, unknown> | undefined>;
  for (const key of ['mappings', 'scopingFilters'] as const) {
    for (const objectType of ['user', 'group'] as const) {
      const value = changes[key]?.[objectType];
      if (value === undefined) continue;
      objectTypes[objectType] = { ...(objectTypes[objectType] ?? { mappings: [] }), [key]: value };
    }
  }

  const merged: AppSecrets = { ...currentSecrets };
  for (const [k, v] of Object.entries(secrets)) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  const withSecrets = {
    ...next,
    auth: {
      ...next.auth,
      ...(next.auth.type === 'bearer' ? { token: merged.token } : { clientSecret: merged.clientSecret }),
    },
  };
  const parsed = parseAppConfig(withSecrets, template);
  const issues: ConfigIssue[] = parsed.ok ? [] : [...parsed.errors];
  issues.push(...credentialOriginIssues(base, target, next));
  const insecure = next.allowInsecureLoopback === true;
  // Only the environment lets apps reach loopback (FERRY_ALLOW_INSECURE_LOOPBACK=1), for every app;
  // an API key alone cannot turn it on for one app.
  if (s.allowInsecureLoopback === true && environment.allowInsecureLoopback !== true)
    issues.push({
      path: 'settings.allowInsecureLoopback',
      message: 'is accepted only when the server runs with FERRY_ALLOW_INSECURE_LOOPBACK=1 (development and tests)',
    });
  checkUrl(next.target.url, environment, 'target.url', issues);
  if (next.auth.type === 'oauth2') checkUrl(next.auth.tokenUrl, environment, 'target.oauth.tokenUrl', issues);
  if (issues.length > 0 || !parsed.ok) throw configError(issues);

  const { auth, ...config } = parsed.config;
  const storedAuth: StoredConfiguration['auth'] =
    auth.type === 'bearer'
      ? { type: 'bearer' }
      : {
          type: 'oauth2',
          tokenUrl: auth.tokenUrl,
          clientId: auth.clientId,
          ...(auth.scope ? { scope: auth.scope } : {}),
        };
  return {
    configuration: { ...config, auth: storedAuth, ...(insecure ? { allowInsecureLoopback: true } : {}) },
    secrets,
  };
}

/** The template's defaults as a stored configuration (auth decided by the request's target). */
export function templateConfiguration(template: AppTemplate, name: string, url: string): StoredConfiguration {
  const input = appConfigFromTemplate(template, { name, target: { url }, auth: { type: 'bearer', token: '' } });
  return { ...(input as unknown as StoredConfiguration), auth: { type: 'bearer' } };
}

/** The app's orphan policy (`report` for one stored before the setting existed). */
export function orphanPolicyOf(config: { orphanPolicy?: unknown }): OrphanPolicy {
  return (ORPHAN_POLICIES as readonly unknown[]).includes(config.orphanPolicy)
    ? (config.orphanPolicy as OrphanPolicy)
    : 'report';
}

/** Hours between the app's scheduled reconcile passes (the default for one stored before the setting existed). */
export function reconcileIntervalOf(config: { reconcileIntervalHours?: unknown }): number {
  const hours = config.reconcileIntervalHours;
  return typeof hours === 'number' && Number.isInteger(hours) && hours >= 0 ? hours : DEFAULT_RECONCILE_INTERVAL_HOURS;
}

/** What the API shows of an app: never a secret value. */
export function appView(app: AppRecord) {
  const config = app.configuration as Partial<StoredConfiguration>;
  const auth = config.auth ?? { type: 'bearer' as const };
  const objectTypes = (config.objectTypes ?? {}) as Partial<
    Record<'user' | 'group', { mappings?: unknown[]; scopingFilters?: unknown[] }>
  >;
  const perType = (key: 'mappings' | 'scopingFilters') => ({
    user: objectTypes.user?.[key] ?? [],
    ...(objectTypes.group ? { group: objectTypes.group[key] ?? [] } : {}),
  });
  return {
    id: app.id,
    name: app.name,
    template: app.template,
    target: {
      url: config.target?.url ?? '',
      auth: auth.type,
      hasToken: app.hasToken,
      hasClientSecret: app.hasClientSecret,
      ...(auth.type === 'oauth2'
        ? { oauth: { tokenUrl: auth.tokenUrl, clientId: auth.clientId, ...(auth.scope ? { scope: auth.scope } : {}) } }
        : {}),
    },
    hasToken: app.hasToken,
    settings: {
      scope: config.scope ?? 'assigned',
      notificationEmail: config.notificationEmail ?? null,
      cycleIntervalMinutes: config.cycleIntervalMinutes ?? 40,
      pushChanges: config.pushChanges !== false,
      driftRepair: config.driftRepair === 'repair' ? ('repair' as const) : ('report' as const),
      orphanPolicy: orphanPolicyOf(config),
      reconcileIntervalHours: reconcileIntervalOf(config),
      deletionThreshold: config.deletionThreshold ?? { count: 500 },
      profile: config.compatibilityProfile ?? 'strict',
      bulk: config.bulk === true,
      rateLimit: { requestsPerSecond: 25, concurrency: 5, maxRetryAfterSeconds: 900, ...config.rateLimit },
      allowInsecureLoopback: config.allowInsecureLoopback === true,
      retention: { logDays: DEFAULT_LOG_RETENTION_DAYS, ...config.retention },
    },
    mappings: perType('mappings'),
    scopingFilters: perType('scopingFilters'),
    connectorLimitations: config.connectorLimitations ?? {},
    provisioningEnabled: app.provisioningEnabled,
    configVersion: app.configVersion,
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
  };
}

export const appViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    template: z.string(),
    target: z.object({
      url: z.string(),
      auth: z.enum(['bearer', 'oauth2']),
      hasToken: z.boolean(),
      hasClientSecret: z.boolean(),
      oauth: z.object({ tokenUrl: z.string(), clientId: z.string(), scope: z.string().optional() }).optional(),
    }),
    hasToken: z.boolean().openapi({ description: 'A bearer token is stored (its value is never returned)' }),
    settings: z.object({
      scope: z.enum(['assigned', 'all']),
      notificationEmail: z.string().nullable(),
      cycleIntervalMinutes: z.number().int(),
      pushChanges: z.boolean(),
      driftRepair: z.enum(['report', 'repair']),
      orphanPolicy: z.enum(ORPHAN_POLICIES),
      reconcileIntervalHours: z.number().int(),
      deletionThreshold: z.union([z.object({ count: z.number() }), z.object({ percent: z.number() })]),
      profile: z.enum(PROFILES),
      bulk: z.boolean(),
      rateLimit: z.object({
        requestsPerSecond: z.number(),
        concurrency: z.number().int(),
        maxRetryAfterSeconds: z.number().int(),
      }),
      allowInsecureLoopback: z.boolean(),
      retention: z.object({ logDays: z.number().int() }),
    }),
    mappings: z.object({ user: z.array(z.unknown()), group: z.array(z.unknown()).optional() }),
    scopingFilters: z.object({ user: z.array(z.unknown()), group: z.array(z.unknown()).optional() }),
    connectorLimitations: connectorLimitationsSchema,
    provisioningEnabled: z.boolean(),
    configVersion: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('App');
