// Who may call what: the roles of API keys, the permissions each role holds, and — in ONE table —
// the permission every route needs, with the name the audit log gives the call and the resource it
// acts on. A route missing from the table is refused to every key but admin's, and a test checks
// that every route of the OpenAPI document is in it, so a new route cannot be forgotten.
import { API_KEY_ROLES, type ApiKeyRole } from '../store/api-keys.ts';

export { API_KEY_ROLES };
export type Role = ApiKeyRole;

export const PERMISSIONS = [
  /** Read anything but keys and the audit log (apps are read without their secrets). */
  'read',
  /** Create, change, delete and import directory users, groups and memberships. */
  'directory:write',
  /** Provisioning actions (start, pause, resume, run, restart, quarantine, release, approve/reject deletions), test-connection and the capability probe. */
  'provisioning:control',
  /** Provision one user or group now, and retry failed objects now. */
  'provisioning:onDemand',
  /** Create, change and delete apps (their secrets included) and their assignments. */
  'apps:write',
  /** Create, change and delete sources (their bind passwords included) and approve their staged deletions. */
  'sources:write',
  /** Ask a source to import now, and upload a snapshot (an HR export) to a csv source, which imports it. */
  'sources:sync',
  /** Create, list and revoke API keys. */
  'keys:manage',
  /** Read the audit log. */
  'audit:read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  viewer: ['read'],
  operator: ['read', 'directory:write', 'provisioning:control', 'provisioning:onDemand', 'sources:sync'],
  admin: PERMISSIONS,
};

export const hasPermission = (role: Role, permission: Permission): boolean =>
  ROLE_PERMISSIONS[role].includes(permission);

export interface RouteRule {
  /** What the caller needs; `public` routes need no key at all. */
  permission: Permission | 'public';
  /** The audit log's name for the call (mutating routes), e.g. `app.update`. */
  action?: string;
  /**
   * What the call acts on, for the audit log: `{name}` is a path parameter, `{@id}` the `id` of the
   * JSON answer (what a create made), `{body.name}` a string field of the request body.
   */
  resource?: string;
}

const provisioningAction = (name: string, action: string): [string, RouteRule] => [
  `POST /api/v1/apps/{id}/provisioning/${name}`,
  { permission: 'provisioning:control', action: `provisioning.${action}`, resource: 'app:{id}' },
];

/** `METHOD /path/{param}` (the OpenAPI document's spelling) → the route's rule. */
export const ROUTE_RULES: Readonly<Record<string, RouteRule>> = Object.fromEntries<RouteRule>([
  ['GET /healthz', { permission: 'public' }],
  ['GET /readyz', { permission: 'public' }],
  ['GET /metrics', { permission: 'read' }],
  ['GET /docs', { permission: 'public' }],
  ['GET /', { permission: 'public' }],
  ['GET /favicon.ico', { permission: 'public' }],
  ['GET /openapi.json', { permission: 'read' }],
  // Temporal's remote codec (the Web UI, the CLI): decoded payloads hold what a viewer reads through
  // the API anyway (directory objects, reports); each call is in the audit log.
  ['POST /codec/encode', { permission: 'read', action: 'codec.encode' }],
  ['POST /codec/decode', { permission: 'read', action: 'codec.decode' }],
  ['GET /api/v1/me', { permission: 'read' }],

  ['GET /api/v1/directory/users', { permission: 'read' }],
  ['GET /api/v1/directory/users/{id}', { permission: 'read' }],
  ['POST /api/v1/directory/users', { permission: 'directory:write', action: 'user.create', resource: 'user:{@id}' }],
  [
    'PATCH /api/v1/directory/users/{id}',
    { permission: 'directory:write', action: 'user.update', resource: 'user:{id}' },
  ],
  [
    'DELETE /api/v1/directory/users/{id}',
    { permission: 'directory:write', action: 'user.delete', resource: 'user:{id}' },
  ],
  [
    'POST /api/v1/directory/users/{id}/restore',
    { permission: 'directory:write', action: 'user.restore', resource: 'user:{id}' },
  ],
  ['GET /api/v1/directory/groups', { permission: 'read' }],
  ['GET /api/v1/directory/groups/{id}', { permission: 'read' }],
  ['POST /api/v1/directory/groups', { permission: 'directory:write', action: 'group.create', resource: 'group:{@id}' }],
  [
    'PATCH /api/v1/directory/groups/{id}',
    { permission: 'directory:write', action: 'group.update', resource: 'group:{id}' },
  ],
  [
    'DELETE /api/v1/directory/groups/{id}',
    { permission: 'directory:write', action: 'group.delete', resource: 'group:{id}' },
  ],
  [
    'POST /api/v1/directory/groups/{id}/restore',
    { permission: 'directory:write', action: 'group.restore', resource: 'group:{id}' },
  ],
  ['GET /api/v1/directory/groups/{id}/members', { permission: 'read' }],
  ['GET /api/v1/directory/users/{id}/assignments', { permission: 'read' }],
  ['GET /api/v1/directory/groups/{id}/assignments', { permission: 'read' }],
  [
    'POST /api/v1/directory/groups/{id}/members',
    { permission: 'directory:write', action: 'group.addMember', resource: 'group:{id}/member:{body.memberId}' },
  ],
  [
    'DELETE /api/v1/directory/groups/{id}/members/{memberId}',
    { permission: 'directory:write', action: 'group.removeMember', resource: 'group:{id}/member:{memberId}' },
  ],
  [
    'POST /api/v1/directory/import',
    { permission: 'directory:write', action: 'directory.import', resource: 'directory' },
  ],

  ['GET /api/v1/gallery', { permission: 'read' }],

  ['GET /api/v1/apps', { permission: 'read' }],
  ['GET /api/v1/apps/{id}', { permission: 'read' }],
  ['POST /api/v1/apps', { permission: 'apps:write', action: 'app.create', resource: 'app:{@id}' }],
  ['PATCH /api/v1/apps/{id}', { permission: 'apps:write', action: 'app.update', resource: 'app:{id}' }],
  ['DELETE /api/v1/apps/{id}', { permission: 'apps:write', action: 'app.delete', resource: 'app:{id}' }],
  [
    'POST /api/v1/apps/{id}/test-connection',
    { permission: 'provisioning:control', action: 'app.testConnection', resource: 'app:{id}' },
  ],
  // A probe may write (a throwaway user, deleted again) when asked: an operator's action like test-connection.
  ['POST /api/v1/apps/{id}/probe', { permission: 'provisioning:control', action: 'app.probe', resource: 'app:{id}' }],
  ['GET /api/v1/apps/{id}/probe', { permission: 'read' }],
  // A preview writes nothing to the app or the target, but it is part of changing the app.
  ['POST /api/v1/apps/{id}/preview', { permission: 'apps:write', action: 'app.preview', resource: 'app:{id}' }],
  ['GET /api/v1/apps/{id}/previews/{previewId}', { permission: 'read' }],
  [
    'POST /api/v1/apps/{id}/previews/{previewId}/apply',
    { permission: 'apps:write', action: 'app.applyPreview', resource: 'app:{id}/preview:{previewId}' },
  ],
  ['GET /api/v1/apps/{id}/assignments', { permission: 'read' }],
  [
    'POST /api/v1/apps/{id}/assignments',
    { permission: 'apps:write', action: 'assignment.create', resource: 'app:{id}/assignment:{body.principalId}' },
  ],
  [
    'DELETE /api/v1/apps/{id}/assignments/{principalId}',
    { permission: 'apps:write', action: 'assignment.delete', resource: 'app:{id}/assignment:{principalId}' },
  ],

  ['GET /api/v1/apps/{id}/provisioning', { permission: 'read' }],
  [
    'POST /api/v1/apps/{id}/reconcile',
    { permission: 'provisioning:control', action: 'provisioning.reconcile', resource: 'app:{id}' },
  ],
  ['GET /api/v1/apps/{id}/drift', { permission: 'read' }],
  provisioningAction('start', 'start'),
  provisioningAction('pause', 'pause'),
  provisioningAction('resume', 'resume'),
  provisioningAction('run', 'run'),
  provisioningAction('restart', 'restart'),
  provisioningAction('quarantine', 'quarantine'),
  provisioningAction('release', 'release'),
  provisioningAction('approve-deletions', 'approveDeletions'),
  provisioningAction('reject-deletions', 'rejectDeletions'),
  [
    'POST /api/v1/apps/{id}/provision-on-demand',
    {
      permission: 'provisioning:onDemand',
      action: 'provisioning.onDemand',
      resource: 'app:{id}/object:{body.objectId}',
    },
  ],
  ['GET /api/v1/apps/{id}/provision-on-demand/{requestId}', { permission: 'read' }],
  ['GET /api/v1/apps/{id}/objects/{objectId}', { permission: 'read' }],
  [
    'POST /api/v1/apps/{id}/objects/{objectId}/retry',
    { permission: 'provisioning:onDemand', action: 'provisioning.retry', resource: 'app:{id}/object:{objectId}' },
  ],
  [
    'POST /api/v1/apps/{id}/retry',
    { permission: 'provisioning:onDemand', action: 'provisioning.retryFailed', resource: 'app:{id}' },
  ],
  ['GET /api/v1/apps/{id}/staged-deletions', { permission: 'read' }],
  [
    'POST /api/v1/apps/{id}/staged-deletions/approve',
    { permission: 'provisioning:control', action: 'provisioning.approveStagedDeletions', resource: 'app:{id}' },
  ],
  [
    'POST /api/v1/apps/{id}/staged-deletions/reject',
    { permission: 'provisioning:control', action: 'provisioning.rejectStagedDeletions', resource: 'app:{id}' },
  ],
  ['GET /api/v1/apps/{id}/cycles', { permission: 'read' }],
  // The expression tester reads one directory object (as GET /directory/users/{id} does) and writes nothing.
  [
    'POST /api/v1/apps/{id}/expressions/evaluate',
    { permission: 'read', action: 'expression.evaluate', resource: 'app:{id}/object:{body.objectId}' },
  ],
  ['GET /api/v1/apps/{id}/logs', { permission: 'read' }],
  // Counting what a draft scope selects reads the directory and the app, and writes nothing.
  ['POST /api/v1/apps/{id}/scope/count', { permission: 'read', action: 'scope.count', resource: 'app:{id}' }],

  ['GET /api/v1/sources', { permission: 'read' }],
  ['GET /api/v1/sources/{id}', { permission: 'read' }],
  ['GET /api/v1/sources/{id}/runs', { permission: 'read' }],
  ['POST /api/v1/sources', { permission: 'sources:write', action: 'source.create', resource: 'source:{@id}' }],
  ['PATCH /api/v1/sources/{id}', { permission: 'sources:write', action: 'source.update', resource: 'source:{id}' }],
  ['DELETE /api/v1/sources/{id}', { permission: 'sources:write', action: 'source.delete', resource: 'source:{id}' }],
  ['POST /api/v1/sources/{id}/sync', { permission: 'sources:sync', action: 'source.sync', resource: 'source:{id}' }],
  // Like sync: an operator may ask a quarantined source to import again.
  [
    'POST /api/v1/sources/{id}/resume',
    { permission: 'sources:sync', action: 'source.resume', resource: 'source:{id}' },
  ],
  // An upload feeds people the way directory:write does and starts an import, as sync does; deletions
  // beyond the source's threshold still wait for approve-deletions (sources:write).
  [
    'POST /api/v1/sources/{id}/snapshots',
    { permission: 'sources:sync', action: 'source.uploadSnapshot', resource: 'source:{id}' },
  ],
  ['GET /api/v1/sources/{id}/snapshots', { permission: 'read' }],
  [
    'POST /api/v1/sources/{id}/approve-deletions',
    { permission: 'sources:write', action: 'source.approveDeletions', resource: 'source:{id}' },
  ],

  ['GET /api/v1/webhooks', { permission: 'read' }],
  ['POST /api/v1/webhooks', { permission: 'apps:write', action: 'webhook.create', resource: 'webhook:{@id}' }],
  ['GET /api/v1/webhooks/{id}', { permission: 'read' }],
  ['PATCH /api/v1/webhooks/{id}', { permission: 'apps:write', action: 'webhook.update', resource: 'webhook:{id}' }],
  ['DELETE /api/v1/webhooks/{id}', { permission: 'apps:write', action: 'webhook.delete', resource: 'webhook:{id}' }],
  ['GET /api/v1/webhooks/{id}/deliveries', { permission: 'read' }],

  ['GET /api/v1/keys', { permission: 'keys:manage' }],
  ['POST /api/v1/keys', { permission: 'keys:manage', action: 'key.create', resource: 'key:{@id}' }],
  ['DELETE /api/v1/keys/{id}', { permission: 'keys:manage', action: 'key.revoke', resource: 'key:{id}' }],
  ['GET /api/v1/audit', { permission: 'audit:read' }],
]);

/** Hono's `/apps/:id` → the table's `/apps/{id}`. */
export const openApiPath = (honoPath: string): string => honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export const routeRule = (method: string, openApiRoutePath: string): RouteRule | undefined =>
  ROUTE_RULES[`${method.toUpperCase()} ${openApiRoutePath}`];

/** The audit resource of a call from its rule's template, or null when it names none. */
export function auditResource(
  template: string | undefined,
  values: { params: Record<string, string>; responseId?: unknown; body?: unknown },
): string | null {
  if (!template) return null;
  return template.replace(/\{(@id|body\.[A-Za-z0-9_]+|[A-Za-z0-9_]+)\}/g, (_, name: string) => {
    let value: unknown;
    if (name === '@id') value = values.responseId;
    else if (name.startsWith('body.')) {
      const body = values.body;
      value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name.slice(5)] : undefined;
    } else value = values.params[name];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : '?';
  });
}
