// What a cycle reads once and keeps in memory in this worker: the app's assignments and the
// memberships its scope needs (scoping, group flattening), and — in initial cycles — the lookup into
// the target's listing (streamed into the store, target-listing.ts). Lost on a worker restart: then
// rebuilt (the listing itself is in the store and continues where it stopped).
import { createScopeContext, type MembershipIndex, type ScopeContext } from '../engine/scoping/index.ts';
import type { ObjectType } from '../engine/types.ts';
import type { Store } from '../store/index.ts';
import type { AppRuntime } from './app-runtime.ts';
import { streamTargetListing, type TargetLookup } from './target-listing.ts';
import type { TargetListingProgress } from '../store/index.ts';

export interface DirectoryContext {
  scope: Record<ObjectType, ScopeContext>;
  memberships: MembershipIndex;
}

/**
 * The app's assignments and memberships, ready for scoping. `around`: only the memberships walks
 * from these objects need (up: their groups; down: a group's members), e.g. for one on-demand object.
 */
export async function loadDirectoryContext(
  store: Store,
  runtime: AppRuntime,
  around?: { up: readonly string[]; down: readonly string[] },
): Promise<DirectoryContext> {
  const { config } = runtime;
  const [assignments, index] = await Promise.all([
    store.assignments.listByApp(runtime.app.id),
    around
      ? store.directory.membershipIndexAround(runtime.app.id, config.scope, around)
      : store.directory.membershipIndex(runtime.app.id, config.scope),
  ]);
  const scopeFor = (type: ObjectType) =>
    createScopeContext({
      appScope: config.scope,
      assignments,
      memberships: index,
      scopingFilters: config.objectTypes[type]?.scopingFilters ?? [],
    });
  return { scope: { user: scopeFor('user'), group: scopeFor('group') }, memberships: index };
}

interface CycleEntry {
  appId: string;
  fingerprint: string;
  directory: Promise<DirectoryContext>;
  targetIndex: Partial<Record<ObjectType, Promise<TargetLookup | null>>>;
}

/**
 * Per-cycle caches, newest few cycles only, and one cycle per app: a job runs one cycle at a time, so
 * a new cycle's entry drops the app's earlier ones (a directory's memberships can be large).
 */
export class CycleContexts {
  private readonly entries = new Map<string, CycleEntry>();

  constructor(private readonly store: Store) {}

  private entry(cycleId: string, runtime: AppRuntime): CycleEntry {
    let entry = this.entries.get(cycleId);
    if (!entry || entry.fingerprint !== runtime.fingerprint) {
      for (const [id, other] of this.entries)
        if (other.appId === runtime.app.id && id !== cycleId) this.entries.delete(id);
      entry = {
        appId: runtime.app.id,
        fingerprint: runtime.fingerprint,
        directory: loadDirectoryContext(this.store, runtime),
        targetIndex: {},
      };
      entry.directory.catch(() => this.entries.delete(cycleId));
      this.entries.set(cycleId, entry);
      while (this.entries.size > 8) this.entries.delete(this.entries.keys().next().value as string);
    }
    return entry;
  }

  directory(cycleId: string, runtime: AppRuntime): Promise<DirectoryContext> {
    return this.entry(cycleId, runtime).directory;
  }

  /**
   * The target listed once into the store and looked up by the matching attributes; null when
   * `wanted` says no. `listing.onPage` hears of each saved page (the activity heartbeats with it).
   */
  targetIndex(
    cycleId: string,
    runtime: AppRuntime,
    type: ObjectType,
    wanted: () => Promise<boolean>,
    listing: { pageSize?: number; onPage?: (progress: TargetListingProgress) => void } = {},
  ): Promise<TargetLookup | null> {
    const entry = this.entry(cycleId, runtime);
    let index = entry.targetIndex[type];
    if (!index) {
      index = (async () => {
        if (!(await wanted())) return null;
        const compiled = type === 'user' ? runtime.compiled.user : runtime.compiled.group;
        if (!compiled) return null;
        const attributes = compiled.matching.map((m) => m.target);
        return streamTargetListing(this.store, runtime, { cycleId, objectType: type, attributes, ...listing });
      })();
      index.catch(() => delete entry.targetIndex[type]);
      entry.targetIndex[type] = index;
    }
    return index;
  }

  /**
   * Forget a cycle's in-memory caches (after a failed batch, or when the cycle ends). The stored listing stays: a retry
   * continues it, and objects the failed attempt meant to create match by a GET (see exportPage).
   */
  forget(cycleId: string): void {
    this.entries.delete(cycleId);
  }
}
