// GET /api/v1/apps/{id}/objects/{objectId}: everything Ferry knows and would do about one object of
// one app — its link, the scope decision, the mapping, the matching key, the next export and its
// latest log entries. Reads the store only; the decisions come from engine/ exactly as a cycle makes
// them (engine/planning/explainObject.ts). Nothing is written and no request reaches the target.
import { randomUUID } from 'node:crypto';
import {
  configWithSecrets,
  formatConfigIssue,
  parseAppConfig,
  type AppConfig,
  type CompiledAppConfig,
} from '../engine/config/index.ts';
import { REDACTED } from '../engine/expressions/index.ts';
import { explainObject, type Explanation } from '../engine/planning/index.ts';
import { createScopeContext } from '../engine/scoping/index.ts';
import type {
  DirectoryGroup,
  DirectoryUser,
  ExportedValues,
  ObjectType,
  ProvisioningLogEntry,
} from '../engine/types.ts';
import type { AppRecord, LinkRecord, Store } from '../store/index.ts';
import { ApiError } from './errors.ts';

export interface ObjectLinkView {
  targetId: string | null;
  active: boolean;
  exportedHash: string | null;
  /** The attribute values last exported, secrets as `[Redact]`; null before Ferry kept them. */
  exportedValues: Record<string, unknown> | null;
  escrow: {
    failureCount: number;
    firstFailedAt: string | null;
    nextRetryAt: string | null;
    lastError: string | null;
    lastErrorCode: string | null;
    /** Given up on: failed, with no retry scheduled. */
    givenUp: boolean;
  } | null;
  updatedAt: string;
}

export interface ObjectExplanation extends Explanation {
  appId: string;
  objectType: ObjectType;
  objectId: string;
  displayName: string | null;
  inDirectory: boolean;
  link: ObjectLinkView | null;
  logs: ProvisioningLogEntry[];
}

function valuesView(exported: ExportedValues | null | undefined): Record<string, unknown> | null {
  if (!exported) return null;
  const hidden = Object.fromEntries(Object.keys(exported.hashes ?? {}).map((path) => [path, REDACTED]));
  return { ...exported.values, ...hidden };
}

function linkView(link: LinkRecord): ObjectLinkView {
  return {
    targetId: link.targetId,
    active: link.active,
    exportedHash: link.exportedHash,
    exportedValues: valuesView(link.exportedValues),
    escrow:
      link.failureCount > 0
        ? {
            failureCount: link.failureCount,
            firstFailedAt: link.firstFailedAt,
            nextRetryAt: link.nextRetryAt,
            lastError: link.lastError,
            lastErrorCode: link.lastErrorCode,
            givenUp: link.nextRetryAt === null,
          }
        : null,
    updatedAt: link.updatedAt,
  };
}

/** The app's configuration parsed with its secrets (a stored one, or one proposed for it); 409 when invalid. */
export function parseStoredConfiguration(
  app: AppRecord,
  configuration: Record<string, unknown>,
  secrets: Record<string, string>,
): { config: AppConfig; compiled: CompiledAppConfig } {
  const parsed = parseAppConfig(configWithSecrets(configuration, secrets, app.name));
  if (!parsed.ok) {
    throw new ApiError('conflict', `App ${app.id} has an invalid configuration`, {
      details: parsed.errors.map((issue) => ({ path: issue.path, message: formatConfigIssue(issue) })),
    });
  }
  return { config: parsed.config, compiled: parsed.compiled };
}

/** What logs and answers call a directory object. */
export function displayNameOf(objectType: ObjectType, object: DirectoryUser | DirectoryGroup): string {
  return objectType === 'user'
    ? ((object as DirectoryUser).displayName ?? (object as DirectoryUser).userPrincipalName)
    : (object as DirectoryGroup).displayName;
}

/** The object's type: the directory's, or its link's when it was hard-deleted. Null when Ferry knows nothing of it. */
export async function objectTypeIn(store: Store, appId: string, objectId: string): Promise<ObjectType | null> {
  const inDirectory = await store.directory.objectTypeOf(objectId);
  if (inDirectory) return inDirectory;
  if (await store.links.get(appId, 'user', objectId)) return 'user';
  if (await store.links.get(appId, 'group', objectId)) return 'group';
  return null;
}

export async function explainAppObject(
  store: Store,
  appId: string,
  objectId: string,
  options: { logs: number },
): Promise<ObjectExplanation> {
  const app = await store.apps.get(appId);
  if (!app) throw new ApiError('not_found', `App ${appId} not found`);
  const objectType = await objectTypeIn(store, appId, objectId);
  if (!objectType)
    throw new ApiError('not_found', `No user or group ${objectId} in the directory or linked to app ${appId}`);

  const { config, compiled } = parseStoredConfiguration(app, app.configuration, await store.apps.getSecrets(appId));
  const [object, link, assignments, memberships, logs] = await Promise.all([
    objectType === 'user' ? store.directory.getUser(objectId) : store.directory.getGroup(objectId),
    store.links.get(appId, objectType, objectId),
    store.assignments.listByApp(appId),
    store.directory.membershipsAbove(objectId),
    store.logs.query({ appId, objectId, objectType, limit: options.logs }),
  ]);
  const managerId = objectType === 'user' ? ((object as DirectoryUser | null)?.managerId ?? null) : null;
  const managerLink = managerId ? await store.links.get(appId, 'user', managerId) : null;
  const now = new Date();
  const explanation = explainObject({
    objectType,
    object,
    link,
    typeConfig: config.objectTypes[objectType] ?? null,
    compiled: objectType === 'user' ? compiled.user : compiled.group,
    scope: createScopeContext({
      appScope: config.scope,
      assignments,
      memberships,
      scopingFilters: config.objectTypes[objectType]?.scopingFilters ?? [],
    }),
    env: { now: () => now, random: Math.random, guid: () => randomUUID() },
    resolveReference: (sourceId) =>
      sourceId === managerId && managerLink?.targetId && managerLink.active ? managerLink.targetId : null,
  });
  const lastName = logs.items[0]?.sourceDisplayName ?? null;
  return {
    appId,
    objectType,
    objectId,
    displayName: object ? displayNameOf(objectType, object) : lastName,
    inDirectory: object !== null,
    link: link ? linkView(link) : null,
    ...explanation,
    logs: logs.items,
  };
}
