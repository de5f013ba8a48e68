// Preview of a proposed app change: what the next cycle would do for every object if the change were
// saved, computed from the directory, the links and the proposed configuration with the same engine
// decisions a cycle and the object explanation make (engine/planning/explainObject.ts). Nothing is
// written to the target or to the app; the result goes to the previews tables, batch by batch.
import { randomUUID } from 'node:crypto';
import type { AppConfig, CompiledAppConfig } from '../engine/config/index.ts';
import { explainObject } from '../engine/planning/index.ts';
import { createScopeContext, type ScopeContext } from '../engine/scoping/index.ts';
import type { DirectoryGroup, DirectoryUser, ObjectType } from '../engine/types.ts';
import type { AppRecord, PreviewItem, Store } from '../store/index.ts';
import { displayNameOf } from './object-explain.ts';

/** Objects read and written per batch. */
const BATCH = 500;

interface PreviewContext {
  store: Store;
  appId: string;
  previewId: string;
  config: AppConfig;
  compiled: CompiledAppConfig;
  counts: Record<string, number>;
  seq: number;
}

function itemOf(
  ctx: PreviewContext,
  objectType: ObjectType,
  objectId: string,
  object: DirectoryUser | DirectoryGroup | null,
  link: Parameters<typeof explainObject>[0]['link'],
  scope: ScopeContext,
  resolveReference: (sourceId: string) => string | null,
): PreviewItem {
  const now = new Date();
  const { next } = explainObject({
    objectType,
    object,
    link,
    typeConfig: ctx.config.objectTypes[objectType] ?? null,
    compiled: objectType === 'user' ? ctx.compiled.user : ctx.compiled.group,
    scope,
    env: { now: () => now, random: Math.random, guid: () => randomUUID() },
    resolveReference,
  });
  ctx.counts[next.action] = (ctx.counts[next.action] ?? 0) + 1;
  return {
    objectType,
    objectId,
    displayName: object ? displayNameOf(objectType, object) : null,
    action: next.action,
    reason: next.reason,
    dependsOnMatch: next.dependsOnMatch,
    modifiedAttributes: next.modifiedAttributes,
  };
}

async function flush(ctx: PreviewContext, items: PreviewItem[]): Promise<void> {
  await ctx.store.previews.addItems(ctx.previewId, ctx.seq, items);
  ctx.seq += items.length;
}

/** The directory's objects of one type (soft-deleted included), page by page. */
async function previewDirectory(ctx: PreviewContext, objectType: ObjectType, scope: ScopeContext) {
  const { store, appId } = ctx;
  let cursor: string | null = null;
  do {
    const page: { items: (DirectoryUser | DirectoryGroup)[]; nextCursor: string | null } =
      objectType === 'user'
        ? await store.directory.listUsers({ cursor, limit: BATCH, deleted: 'include' })
        : await store.directory.listGroups({ cursor, limit: BATCH, deleted: 'include' });
    const ids = page.items.map((o) => o.id);
    const links = await store.links.getMany(appId, objectType, ids);
    const managerIds =
      objectType === 'user'
        ? [...new Set(page.items.map((u) => (u as DirectoryUser).managerId).filter((m): m is string => !!m))]
        : [];
    const managers = managerIds.length > 0 ? await store.links.getMany(appId, 'user', managerIds) : new Map();
    const resolve = (sourceId: string) => {
      const manager = managers.get(sourceId);
      return manager?.targetId && manager.active ? (manager.targetId as string) : null;
    };
    await flush(
      ctx,
      page.items.map((o) => itemOf(ctx, objectType, o.id, o, links.get(o.id) ?? null, scope, resolve)),
    );
    cursor = page.nextCursor;
  } while (cursor);
}

/** Linked objects no longer in the directory (hard-deleted): the cycle removes their accounts. */
async function previewHardDeleted(ctx: PreviewContext, objectType: ObjectType, scope: ScopeContext) {
  const { store, appId } = ctx;
  let cursor: string | null = null;
  do {
    const page = await store.links.list(appId, { objectType, cursor, limit: BATCH });
    const ids = page.items.map((l) => l.sourceId);
    const present = objectType === 'user' ? await store.directory.getUsers(ids) : await store.directory.getGroups(ids);
    const known = new Set(present.map((o) => o.id));
    const gone = page.items.filter((l) => !known.has(l.sourceId));
    await flush(
      ctx,
      gone.map((l) => itemOf(ctx, objectType, l.sourceId, null, l, scope, () => null)),
    );
    cursor = page.nextCursor;
  } while (cursor);
}

/**
 * Computes the preview `previewId` of `app` under the proposed configuration and records its counts
 * (or its failure). Object types the proposed configuration does not provision are left out.
 */
export async function computePreview(
  store: Store,
  app: AppRecord,
  previewId: string,
  proposed: { config: AppConfig; compiled: CompiledAppConfig },
): Promise<void> {
  const ctx: PreviewContext = { store, appId: app.id, previewId, ...proposed, counts: {}, seq: 0 };
  try {
    const [assignments, memberships] = await Promise.all([
      store.assignments.listByApp(app.id),
      store.directory.membershipIndex(app.id, proposed.config.scope),
    ]);
    for (const objectType of ['user', 'group'] as const) {
      const typeConfig = proposed.config.objectTypes[objectType];
      if (!typeConfig?.enabled) continue;
      const scope = createScopeContext({
        appScope: proposed.config.scope,
        assignments,
        memberships,
        scopingFilters: typeConfig.scopingFilters ?? [],
      });
      await previewDirectory(ctx, objectType, scope);
      await previewHardDeleted(ctx, objectType, scope);
    }
    await store.previews.finish(previewId, { counts: ctx.counts, total: ctx.seq });
  } catch (error) {
    // The cause goes to the server log (the caller's); the answer only says that it failed.
    await store.previews.finish(previewId, { error: 'the preview could not be computed (see the server log)' });
    throw error;
  }
}
