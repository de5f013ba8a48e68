// Sources that feed the directory: POST/GET /api/v1/sources, GET/PATCH/DELETE /api/v1/sources/{id},
// POST …/{id}/sync (import now), POST …/{id}/resume (leave quarantine), POST …/{id}/approve-deletions,
// GET …/{id}/runs, and a csv source's uploaded snapshots (source-snapshots.ts). The LDAP bind
// password and the Entra client secret or certificate private key are write-only: stored encrypted,
// answered as `hasBindPassword` / `hasClientSecret` / `hasPrivateKey`, never logged (the
// audit entry names the field, not its value). Each source runs as its workflow `source:<id>`.
import { createRoute, z } from '@hono/zod-openapi';
import { randomBytes } from 'node:crypto';
import { access, constants as fsConstants, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { DEFAULT_AUTHORITY, DEFAULT_GRAPH_URL } from '../../sources/graph-client.ts';
import { certificateCredentialProblem } from '../../sources/client-assertion.ts';
import { usesCertificate } from '../../sources/entra.ts';
import { leaveSourceQuarantine } from '../../sources/quarantine.ts';
import { approveStagedDeletions } from '../../sources/run.ts';
import { SOURCE_ATTRIBUTES } from '../../engine/policies/attributePrecedence.ts';
import { hashApiKey, JOIN_ATTRIBUTES, type SourceRecord, type Store } from '../../store/index.ts';
import { SCIM_INBOUND_PATH } from '../scim-inbound/router.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { movesToAnotherOrigin } from './apps-credential-origins.ts';
import type { SourceControl } from '../source-control.ts';
import { snapshotRoutes } from './source-snapshots.ts';

const TAG = 'sources';

const percent = z.number().min(0).max(100);
const common = {
  name: z.string().trim().min(1).max(200).openapi({ example: 'Head office LDAP' }),
  enabled: z.boolean().optional().openapi({ description: 'A disabled source does not import (default true)' }),
  intervalMinutes: z
    .number()
    .int()
    .min(1)
    .max(10_080)
    .optional()
    .openapi({ description: 'Minutes between imports (default 60)' }),
  fullImportHours: z.number().min(1).max(720).optional().openapi({
    description: 'Hours between full imports (the only ones that find deletions; default 24)',
  }),
  deletionThresholdPercent: percent.optional().openapi({
    description:
      'A full import that would soft-delete more than this share of the source’s objects stages the deletions for approval instead (default 20)',
  }),
};

const rank = z.number().int().min(0).max(10_000);
/** Attribute precedence (docs/sources.md): every source type has it, scim sources too. */
const precedenceSettings = {
  precedence: rank.optional().openapi({
    description:
      'Rank of this source when several provide the same user: for each attribute the lowest number that provides a value wins (default 100; equal: the older source)',
  }),
  attributePrecedence: z
    .partialRecord(z.enum(SOURCE_ATTRIBUTES), rank)
    .optional()
    .openapi({
      description: 'Per-attribute ranks that replace precedence for those attributes',
      example: { department: 1, jobTitle: 1 },
    }),
};
/** Sources that import (not scim) may join their rows to users already in the directory. */
const joinSetting = {
  joinOn: z.enum(JOIN_ATTRIBUTES).optional().openapi({
    description:
      'Join each row to the existing user with the same value of this attribute (case-insensitive) instead of creating a user: several sources then provide one person',
  }),
};

const attributeName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z][A-Za-z0-9;-]*$/, 'an LDAP attribute name');

const ldapConfig = {
  url: z
    .string()
    .url()
    .regex(/^ldaps?:\/\//i, 'ldap:// or ldaps://')
    .openapi({ example: 'ldaps://dc1.corp.example:636' }),
  startTls: z.boolean().optional().openapi({ description: 'Upgrade an ldap:// connection with StartTLS' }),
  bindDn: z.string().min(1).max(1000),
  baseDn: z.string().min(1).max(1000),
  profile: z.enum(['openldap', 'activeDirectory']).optional().openapi({
    description: 'Default attribute map and filters: inetOrgPerson/groupOfNames (default) or Active Directory',
  }),
  userFilter: z.string().min(1).max(2000).optional(),
  groupFilter: z.string().min(1).max(2000).optional(),
  attributes: z.record(z.string(), z.union([attributeName, z.array(attributeName).min(1)])).optional(),
  pageSize: z.number().int().min(1).max(5000).optional(),
  timeoutMs: z.number().int().min(100).max(300_000).optional(),
};

const isLoopbackHost = (host: string) => host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** https, or plain http to a loopback host (used only when the worker allows loopback: FERRY_ALLOW_INSECURE_LOOPBACK). */
const serviceUrl = z
  .string()
  .max(2000)
  .url()
  .refine((url) => {
    // Runs after a failed .url() too (zod goes on checking): an unparseable value is refused here as well.
    if (!URL.canParse(url)) return false;
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname));
  }, 'an https URL (plain http only to a loopback host, with FERRY_ALLOW_INSECURE_LOOPBACK)');

const graphProperty = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,119}$/, 'a Microsoft Graph property name (letters, digits, _)');

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const entraConfig = {
  tenantId: z
    .string()
    .regex(/^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$/i, {
      message: 'the directory (tenant) id, a GUID, or a verified domain such as contoso.onmicrosoft.com',
    })
    .openapi({ example: '4a1f0c3e-8b2d-4e55-9d0a-6f3b2c1d0e9f' }),
  clientId: z
    .string()
    .regex(GUID, 'the application (client) id, a GUID')
    .openapi({ example: '0b7c6d5e-4f3a-4b2c-9d1e-0f9a8b7c6d5e' }),
  authority: serviceUrl
    .optional()
    .openapi({ description: 'Token endpoint base (default https://login.microsoftonline.com)' }),
  graphUrl: serviceUrl
    .optional()
    .openapi({ description: 'Microsoft Graph base (default https://graph.microsoft.com)' }),
  userSelect: z.array(graphProperty).max(50).optional().openapi({
    description: 'User properties to read besides the mapped ones; kept in the user’s extensions',
  }),
  groupSelect: z.array(graphProperty).max(50).optional().openapi({
    description: 'Group properties to read besides the mapped ones; kept in the group’s extensions',
  }),
  certificate: z.string().min(1).max(20_000).optional().openapi({
    description:
      'Certificate credentials: the PEM certificate registered on the app (public; with privateKey, instead of clientSecret)',
  }),
  certificateThumbprint: z.string().min(40).max(100).optional().openapi({
    description:
      'Certificate credentials without the certificate: its hex thumbprint, SHA-1 (40 digits) or SHA-256 (64)',
  }),
};

const privateKeyField = z.string().min(1).max(20_000).openapi({
  description:
    'entra sources, certificate credentials: the certificate’s PEM private key (RSA, unencrypted). Write-only: stored encrypted, never answered',
});

const csvConfig = {
  origin: z.enum(['path', 'upload', 'folder']).optional().openapi({
    description:
      'path (default): the worker reads the file at path; upload: the import reads the newest snapshot uploaded to POST …/{id}/snapshots; folder: the import reads the newest complete .csv or .json file in folder',
  }),
  folder: z.string().min(1).max(4096).optional().openapi({
    description:
      'origin folder: an absolute path of a directory the worker watches (checked at create: it must exist and be readable)',
  }),
  settleSeconds: z.number().int().min(0).max(86_400).optional().openapi({
    description:
      'origin folder: a file counts as complete once it has not been modified for this many seconds (default 30)',
  }),
  path: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .openapi({ description: 'Path of the CSV file on the worker’s machine (origin path only)' }),
  columns: z.record(z.string(), z.string().min(1).max(200)).optional().openapi({
    description: 'Attribute → column name (id and userPrincipalName required; others default to their own name)',
  }),
  pageSize: z.number().int().min(1).max(5000).optional(),
};

/** Settings that belong to one source type: refused on the others. */
const TYPE_SETTINGS: Record<string, string[]> = {
  ldap: [...Object.keys(ldapConfig), 'bindPassword'],
  csv: Object.keys(csvConfig),
  entra: [...Object.keys(entraConfig), 'clientSecret', 'privateKey'],
};

const createSourceSchema = z
  .discriminatedUnion('type', [
    z
      .object({
        type: z.literal('ldap'),
        ...common,
        ...precedenceSettings,
        ...joinSetting,
        ...ldapConfig,
        bindPassword: z.string().min(1).max(1000).optional().openapi({ description: 'Write-only' }),
      })
      .strict(),
    z.object({ type: z.literal('csv'), ...common, ...precedenceSettings, ...joinSetting, ...csvConfig }).strict(),
    z
      .object({
        type: z.literal('entra'),
        ...common,
        ...precedenceSettings,
        ...joinSetting,
        ...entraConfig,
        clientSecret: z
          .string()
          .min(1)
          .max(1000)
          .optional()
          .openapi({ description: 'Write-only; or privateKey with certificate or certificateThumbprint' }),
        privateKey: privateKeyField.optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal('scim'),
        name: common.name,
        enabled: common.enabled,
        ...precedenceSettings,
      })
      .strict(),
  ])
  .openapi('CreateSource');

const patchSourceSchema = z
  .object({
    name: common.name.optional(),
    enabled: common.enabled,
    intervalMinutes: common.intervalMinutes,
    fullImportHours: common.fullImportHours,
    deletionThresholdPercent: common.deletionThresholdPercent,
    ...precedenceSettings,
    ...joinSetting,
    ...Object.fromEntries(
      Object.entries({ ...ldapConfig, ...csvConfig, ...entraConfig }).map(([k, v]) => [k, v.optional()]),
    ),
    bindPassword: z
      .string()
      .min(1)
      .max(1000)
      .nullable()
      .optional()
      .openapi({ description: 'Write-only; null removes it' }),
    clientSecret: z.string().min(1).max(1000).optional().openapi({
      description: 'entra sources: write-only; on a source with certificate credentials, switches it to the secret',
    }),
    privateKey: privateKeyField.optional(),
    rotateToken: z.literal(true).optional().openapi({
      description:
        'scim sources: replace the bearer token; the answer holds the new one, once (the old one stops working)',
    }),
  })
  .strict()
  .openapi('PatchSource');

const sourceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.enum(['ldap', 'csv', 'scim', 'entra']),
    enabled: z.boolean(),
    config: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'The settings, never the bind password or client secret' }),
    hasBindPassword: z.boolean(),
    hasClientSecret: z.boolean().optional().openapi({ description: 'entra sources: whether a client secret is set' }),
    hasPrivateKey: z.boolean().optional().openapi({
      description: 'entra sources with certificate credentials: whether the private key is set (it is never answered)',
    }),
    status: z.enum(['active', 'quarantined', 'disabled']).openapi({
      description:
        'quarantined: every import failed for 24 h (3 imports at least); no imports on the cadence until POST …/resume or a manual sync that succeeds',
    }),
    quarantine: z
      .object({
        since: z.string(),
        failingSince: z.string().openapi({ description: 'When the first of the failed imports in a row ended' }),
        failures: z.number().int().openapi({ description: 'Failed imports in a row when quarantined' }),
        code: z.string().openapi({ description: 'The last error’s code, e.g. Unauthorized or TransportError' }),
        message: z.string().openapi({ description: 'The last error’s message (as in GET …/runs, never a secret)' }),
      })
      .nullable(),
    state: z.object({
      lastFullImportAt: z.string().nullable(),
      highWater: z.string().nullable(),
      stagedDeletions: z.number().int().openapi({ description: 'Deletions waiting for approve-deletions' }),
      folderFile: z
        .object({
          name: z.string(),
          size: z.number().int(),
          sha256: z.string(),
          modifiedAt: z.string(),
          importedAt: z.string(),
        })
        .nullable()
        .optional()
        .openapi({
          description:
            'csv sources with origin folder: the last file imported (the same name and content is not imported again)',
        }),
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
    scimUrl: z.string().optional().openapi({
      description: 'scim sources: the base URL identity providers push to (the Tenant URL in Entra ID)',
    }),
    token: z.string().optional().openapi({
      description:
        'scim sources: the bearer token, answered only when the source is created or its token rotated; Ferry keeps only its hash',
    }),
  })
  .openapi('Source');

const runSchema = z
  .object({
    id: z.number().int(),
    mode: z.enum(['full', 'incremental']),
    status: z.enum(['running', 'succeeded', 'failed', 'needsApproval']),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    created: z.number().int(),
    updated: z.number().int(),
    deleted: z.number().int(),
    unchanged: z.number().int(),
    stagedDeletions: z.number().int(),
    error: z.string().nullable(),
    attempts: z.number().int().openapi({
      description:
        'Attempts of the import (a failed attempt is retried up to 3 times; each retry updates this run): 1 when it was not retried',
    }),
  })
  .openapi('SourceRun');

const syncSchema = z
  .object({ mode: z.enum(['auto', 'full', 'incremental']).optional().openapi({ description: 'Default auto' }) })
  .strict()
  .openapi('SourceSync');

const runsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  before: z.coerce.number().int().min(1).optional().openapi({ description: 'Id of the last run of the previous page' }),
});

/** The bearer token of a scim source: `fst_` and 43 base64url characters (256 bits). */
const newScimToken = (): string => `fst_${randomBytes(32).toString('base64url')}`;

const scimUrlOf = (requestUrl: string) => `${new URL(requestUrl).origin}${SCIM_INBOUND_PATH}`;

const view = (s: SourceRecord) => ({
  id: s.id,
  name: s.name,
  type: s.type,
  enabled: s.enabled,
  config: s.config,
  hasBindPassword: s.type !== 'entra' && s.hasSecret,
  ...(s.type === 'entra'
    ? usesCertificate(s.config)
      ? { hasClientSecret: false, hasPrivateKey: s.hasSecret }
      : { hasClientSecret: s.hasSecret }
    : {}),
  status: !s.enabled ? ('disabled' as const) : s.state.quarantine ? ('quarantined' as const) : ('active' as const),
  quarantine: s.state.quarantine ?? null,
  state: {
    lastFullImportAt: s.state.lastFullImportAt ?? null,
    highWater: s.state.highWater ?? null,
    stagedDeletions: (s.state.stagedDeletions?.users.length ?? 0) + (s.state.stagedDeletions?.groups.length ?? 0),
    ...(s.config.origin === 'folder' ? { folderFile: s.state.folderFile ?? null } : {}),
  },
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
});

/** The stored config of a request: every field but the type, name, enabled flag and the password. */
function configOf(body: Record<string, unknown>): Record<string, unknown> {
  const {
    type: _type,
    name: _name,
    enabled: _enabled,
    bindPassword: _password,
    clientSecret: _secret,
    privateKey: _key,
    rotateToken: _rotate,
    ...config
  } = body;
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
}

/**
 * A csv source reads a file at `path` (origin path, the default), uploaded snapshots (`origin:
 * 'upload'`) or the newest complete file of a watched `folder` (`origin: 'folder'`): one of them.
 * Settings of another origin are refused when given, and forgotten when the origin changes.
 */
async function csvConfigOf(
  config: Record<string, unknown>,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const origin = (config.origin as string | undefined) ?? 'path';
  const refuse = (path: string, message: string): never => {
    throw new ApiError('validation_failed', message, { details: [{ path, message, in: 'body' }] });
  };
  if (origin !== 'path' && body.path !== undefined) {
    refuse('path', `a csv source with origin "${origin}" does not read a path: leave path out`);
  }
  if (origin !== 'folder' && (body.folder !== undefined || body.settleSeconds !== undefined)) {
    refuse('folder', 'folder and settleSeconds are for a csv source with origin "folder"');
  }
  if (origin === 'path' && config.path === undefined) {
    refuse(
      'path',
      'a csv source needs path (a file the worker reads), origin "upload" to take uploaded snapshots, or origin "folder" and folder',
    );
  }
  if (origin === 'folder') {
    if (config.folder === undefined) refuse('folder', 'a csv source with origin "folder" needs folder (a directory)');
    if (body.folder !== undefined || body.origin === 'folder') await checkFolder(config.folder as string, refuse);
  }
  const { path, folder, settleSeconds, ...rest } = config;
  if (origin === 'path') return { ...rest, path };
  if (origin === 'folder') return { ...rest, folder, ...(settleSeconds === undefined ? {} : { settleSeconds }) };
  return rest;
}

/** A watched folder must be an absolute path of a directory this process can list and read. */
async function checkFolder(folder: string, refuse: (path: string, message: string) => never): Promise<void> {
  if (!isAbsolute(folder)) refuse('folder', `folder ${folder} is not an absolute path`);
  let info;
  try {
    info = await stat(folder);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return refuse(
      'folder',
      `folder ${folder} cannot be read (${code === 'ENOENT' ? 'it does not exist' : String(code)})`,
    );
  }
  if (!info.isDirectory()) refuse('folder', `folder ${folder} is not a directory`);
  try {
    await access(folder, fsConstants.R_OK | fsConstants.X_OK);
  } catch {
    refuse('folder', `folder ${folder} cannot be read (no permission to list it)`);
  }
}

/** A scim source takes only name, enabled, rotateToken and the precedence settings; rotateToken is for scim sources only. */
function refuseForeignSettings(source: SourceRecord, body: Record<string, unknown>): void {
  const given = Object.keys(body).filter((k) => body[k] !== undefined);
  const own = TYPE_SETTINGS[source.type] ?? [];
  const others = Object.entries(TYPE_SETTINGS).flatMap(([type, keys]) => (type === source.type ? [] : keys));
  const foreign =
    source.type === 'scim'
      ? given.filter((k) => !['name', 'enabled', 'rotateToken', 'precedence', 'attributePrecedence'].includes(k))
      : given.filter((k) => k === 'rotateToken' || (others.includes(k) && !own.includes(k)));
  if (foreign.length) {
    throw new ApiError('validation_failed', `${foreign.join(', ')} do not apply to ${source.type} sources`, {
      details: foreign.map((path) => ({ path, message: `not a ${source.type} setting`, in: 'body' as const })),
    });
  }
}

/**
 * A secret is bound to the servers it was given for: a move of the LDAP url, or of the Entra
 * authority or Graph URL, to another origin must bring the secret again (never sent elsewhere).
 */
function refuseSecretMove(before: SourceRecord, body: Record<string, unknown>): void {
  if (!before.hasSecret) return;
  const moved =
    before.type === 'entra'
      ? body.clientSecret === undefined &&
        body.privateKey === undefined &&
        (movesToAnotherOrigin(before.config.authority ?? DEFAULT_AUTHORITY, body.authority) ||
          movesToAnotherOrigin(before.config.graphUrl ?? DEFAULT_GRAPH_URL, body.graphUrl))
      : body.bindPassword === undefined && movesToAnotherOrigin(before.config.url, body.url);
  if (!moved) return;
  const field =
    before.type === 'entra' ? (usesCertificate(before.config) ? 'privateKey' : 'clientSecret') : 'bindPassword';
  throw new ApiError('validation_failed', `a new server origin needs the ${field} again`, {
    details: [{ path: field, message: `give ${field} with the new URL`, in: 'body' }],
  });
}

const refuse = (path: string, message: string): never => {
  throw new ApiError('validation_failed', message, { details: [{ path, message, in: 'body' }] });
};

/**
 * An Entra source's credential: a client secret, or a private key with its certificate (or the
 * certificate's thumbprint). Checks what is given and answers the config and the secret to store:
 * a switch to the secret forgets the certificate; a new certificate must bring its private key.
 */
function entraCredential(
  body: Record<string, unknown>,
  config: Record<string, unknown>,
  creating: boolean,
): { config: Record<string, unknown>; secret: string | undefined } {
  const secret = body.clientSecret as string | undefined;
  const key = body.privateKey as string | undefined;
  const certificateGiven = body.certificate !== undefined || body.certificateThumbprint !== undefined;
  if (secret !== undefined && (key !== undefined || certificateGiven))
    refuse('clientSecret', 'give clientSecret, or privateKey with certificate or certificateThumbprint, not both');
  if (secret !== undefined) {
    const { certificate: _c, certificateThumbprint: _t, ...rest } = config;
    return { config: rest, secret };
  }
  if (creating && key === undefined)
    refuse(
      'clientSecret',
      'an entra source needs clientSecret, or privateKey with certificate or certificateThumbprint',
    );
  if (body.certificate !== undefined && body.certificateThumbprint !== undefined)
    refuse('certificateThumbprint', 'give certificate or certificateThumbprint, not both');
  if (certificateGiven && key === undefined)
    refuse('privateKey', 'a new certificate needs its privateKey in the same request');
  if (key === undefined) return { config, secret: undefined };
  if (!certificateGiven)
    refuse('certificate', 'privateKey needs certificate (PEM) or certificateThumbprint in the same request');
  // The one given replaces the other.
  const { certificate: _c, certificateThumbprint: _t, ...rest } = config;
  const next: Record<string, unknown> = { ...rest };
  if (body.certificate !== undefined) next.certificate = body.certificate;
  if (body.certificateThumbprint !== undefined) next.certificateThumbprint = body.certificateThumbprint;
  const problem = certificateCredentialProblem(key, {
    certificate: body.certificate as string | undefined,
    thumbprint: body.certificateThumbprint as string | undefined,
  });
  if (problem) refuse(problem.field, problem.message);
  return { config: next, secret: key };
}

export interface SourcesRouterDeps {
  store: Store;
  /** The sources' workflows; absent: sources are stored but sync answers 503. */
  control?: SourceControl;
}

const listSourcesRoute = createRoute({
  method: 'get',
  path: '/sources',
  tags: [TAG],
  summary: 'List sources',
  responses: {
    200: jsonContent(z.object({ items: z.array(sourceSchema) }), 'Sources'),
    ...errorResponses(401, 429),
  },
});

const createSourceRoute = createRoute({
  method: 'post',
  path: '/sources',
  tags: [TAG],
  summary:
    'Create a source (ldap, csv, entra or scim); an ldap, csv or entra source’s workflow starts with a full import',
  description:
    'A scim source has no workflow: identity providers push to its scimUrl with its token, which this answer holds once.',
  request: { body: jsonBody(createSourceSchema) },
  responses: { 201: jsonContent(sourceSchema, 'The source'), ...errorResponses(400, 401, 403, 429, 503) },
});

const getSourceRoute = createRoute({
  method: 'get',
  path: '/sources/{id}',
  tags: [TAG],
  summary: 'Get a source (never its bind password or client secret)',
  request: { params: idParams },
  responses: { 200: jsonContent(sourceSchema, 'The source'), ...errorResponses(400, 401, 404, 429) },
});

const patchSourceRoute = createRoute({
  method: 'patch',
  path: '/sources/{id}',
  tags: [TAG],
  summary: 'Change a source’s settings, bind password or client secret',
  description:
    'Settings given replace the stored ones; a setting set to null is not accepted except bindPassword (removes it).',
  request: { params: idParams, body: jsonBody(patchSourceSchema) },
  responses: { 200: jsonContent(sourceSchema, 'The source'), ...errorResponses(400, 401, 403, 404, 429, 503) },
});

const deleteSourceRoute = createRoute({
  method: 'delete',
  path: '/sources/{id}',
  tags: [TAG],
  summary: 'Delete a source',
  description:
    'Its workflow ends; the users and groups it imported stay in the directory, owned by nobody (API-owned).',
  request: { params: idParams },
  responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 401, 403, 404, 429, 503) },
});

const syncSourceRoute = createRoute({
  method: 'post',
  path: '/sources/{id}/sync',
  tags: [TAG],
  summary: 'Import now',
  description: 'Asks the source’s workflow to import now; the outcome appears in GET …/runs.',
  request: { params: idParams, body: { ...jsonBody(syncSchema), required: false } },
  responses: {
    202: jsonContent(z.object({ id: idSchema, mode: z.string() }), 'Import requested'),
    ...errorResponses(400, 401, 403, 404, 409, 429, 503),
  },
});

const resumeSourceRoute = createRoute({
  method: 'post',
  path: '/sources/{id}/resume',
  tags: [TAG],
  summary: 'Release a quarantined source',
  description:
    'Ends the quarantine at once and asks the source’s workflow to import now; the imports then follow the cadence again (a new failure streak must last 24 h to quarantine it again). 409 when the source is not quarantined.',
  request: { params: idParams },
  responses: {
    202: jsonContent(sourceSchema, 'The source, released; the import’s outcome appears in GET …/runs'),
    ...errorResponses(400, 401, 403, 404, 409, 429, 503),
  },
});

const approveSourceDeletionsRoute = createRoute({
  method: 'post',
  path: '/sources/{id}/approve-deletions',
  tags: [TAG],
  summary: 'Apply the deletions the last full import staged',
  request: { params: idParams },
  responses: {
    200: jsonContent(z.object({ deleted: z.number().int() }), 'How many objects were soft-deleted'),
    ...errorResponses(400, 401, 403, 404, 429),
  },
});

const listSourceRunsRoute = createRoute({
  method: 'get',
  path: '/sources/{id}/runs',
  tags: [TAG],
  summary: 'Import history, newest first',
  request: { params: idParams, query: runsQuery },
  responses: {
    200: jsonContent(z.object({ items: z.array(runSchema) }), 'Runs'),
    ...errorResponses(400, 401, 404, 429),
  },
});

export function sourcesRouter({ store, control }: SourcesRouterDeps) {
  const router = createRouter();
  const requireSource = async (id: string) => {
    const source = await store.sources.get(id);
    if (!source) throw new ApiError('not_found', `Source ${id} not found`);
    return source;
  };

  router.openapi(listSourcesRoute, async (c) => c.json({ items: (await store.sources.list()).map(view) }, 200));

  router.openapi(createSourceRoute, async (c) => {
    const body = c.req.valid('json');
    const config = configOf(body);
    const entra = body.type === 'entra' ? entraCredential(body, config, true) : null;
    const source = await store.sources.create({
      name: body.name,
      type: body.type,
      enabled: body.enabled,
      config: body.type === 'csv' ? await csvConfigOf(config, body) : (entra?.config ?? config),
      secret: body.type === 'ldap' ? (body.bindPassword ?? null) : (entra?.secret ?? null),
    });
    if (source.type === 'scim') {
      const token = newScimToken();
      await store.sources.setTokenHash(source.id, hashApiKey(token));
      return c.json({ ...view(source), scimUrl: scimUrlOf(c.req.url), token }, 201);
    }
    if (source.enabled && control) await control.ensure(source.id);
    return c.json(view(source), 201);
  });

  router.openapi(getSourceRoute, async (c) => {
    const source = await requireSource(c.req.valid('param').id);
    return c.json({ ...view(source), ...(source.type === 'scim' ? { scimUrl: scimUrlOf(c.req.url) } : {}) }, 200);
  });

  router.openapi(patchSourceRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json') as Record<string, unknown>;
    const before = await requireSource(id);
    refuseForeignSettings(before, body);
    refuseSecretMove(before, body);
    const merged = { ...before.config, ...configOf(body) };
    const entra = before.type === 'entra' ? entraCredential(body, merged, false) : null;
    const config = entra?.config ?? merged;
    const source = await store.sources.update(id, {
      name: body.name as string | undefined,
      enabled: body.enabled as boolean | undefined,
      config: before.type === 'csv' ? await csvConfigOf(config, body) : config,
      secret: (entra ? entra.secret : body.bindPassword) as string | null | undefined,
    });
    // New ranks apply at once to the users this source shares with others, not at their next change.
    if (body.precedence !== undefined || body.attributePrecedence !== undefined) {
      await store.directory.remergeSource(id);
    }
    if (source.type === 'scim') {
      if (!body.rotateToken) return c.json({ ...view(source), scimUrl: scimUrlOf(c.req.url) }, 200);
      const token = newScimToken();
      await store.sources.setTokenHash(id, hashApiKey(token));
      return c.json({ ...view(source), scimUrl: scimUrlOf(c.req.url), token }, 200);
    }
    if (control && before.enabled !== source.enabled) {
      if (source.enabled) await control.ensure(id);
      else await control.stop(id);
    }
    // Its workflow ended with an import perhaps under way: that run would otherwise show `running`
    // until the source is enabled again and its next import begins.
    if (before.enabled && !source.enabled) {
      await store.sources.endRunningRuns(id, 'Stopped: the source was disabled during this import');
    }
    // A disabled source's workflow was ended; enabled again, it starts afresh, out of quarantine.
    if (!before.enabled && source.enabled && source.state.quarantine) {
      await leaveSourceQuarantine(store, id, 'enabled');
      return c.json(view((await store.sources.get(id)) ?? source), 200);
    }
    return c.json(view(source), 200);
  });

  router.openapi(deleteSourceRoute, async (c) => {
    const { id } = c.req.valid('param');
    await requireSource(id);
    if (control) await control.stop(id);
    await store.sources.delete(id);
    return c.body(null, 204);
  });

  actionRoutes(router, { store, control }, requireSource);
  snapshotRoutes(router, { store, control }, requireSource);
  return router;
}

/** Import now, release from quarantine, approve staged deletions, import history. */
function actionRoutes(
  router: ReturnType<typeof createRouter>,
  { store, control }: SourcesRouterDeps,
  requireSource: (id: string) => Promise<SourceRecord>,
): void {
  const requireControl = (): SourceControl => {
    if (!control) throw new ApiError('unavailable', 'Source imports are not available in this process');
    return control;
  };

  router.openapi(syncSourceRoute, async (c) => {
    const { id } = c.req.valid('param');
    const source = await requireSource(id);
    if (!source.enabled) throw new ApiError('conflict', `Source ${id} is disabled: enable it first`);
    if (source.type === 'scim') {
      throw new ApiError(
        'conflict',
        `Source ${id} is a scim source: identity providers push to it; there is nothing to import`,
      );
    }
    const mode = (await c.req.json().catch(() => ({})))?.mode ?? 'auto';
    const parsed = syncSchema.safeParse({ mode });
    if (!parsed.success) throw new ApiError('validation_failed', 'mode must be auto, full or incremental');
    await requireControl().syncNow(id, parsed.data.mode ?? 'auto');
    return c.json({ id, mode: parsed.data.mode ?? 'auto' }, 202);
  });

  router.openapi(resumeSourceRoute, async (c) => {
    const { id } = c.req.valid('param');
    const source = await requireSource(id);
    if (!source.enabled) throw new ApiError('conflict', `Source ${id} is disabled: enable it first`);
    if (!source.state.quarantine) throw new ApiError('conflict', `Source ${id} is not quarantined`);
    // The workflow first (a Temporal that does not answer changes nothing), then the state the API shows.
    await requireControl().resume(id);
    await leaveSourceQuarantine(store, id, 'resume');
    return c.json(view(await requireSource(id)), 202);
  });

  router.openapi(approveSourceDeletionsRoute, async (c) => {
    const { id } = c.req.valid('param');
    await requireSource(id);
    return c.json({ deleted: await approveStagedDeletions(store, id) }, 200);
  });

  router.openapi(listSourceRunsRoute, async (c) => {
    const { id } = c.req.valid('param');
    await requireSource(id);
    const { limit, before } = c.req.valid('query');
    const runs = await store.sources.runs(id, { limit, before });
    return c.json({ items: runs.map(({ sourceId: _s, ...run }) => run) }, 200);
  });
}
