// What a cycle reads once and keeps in memory in this worker: the app's assignments and the
// directory's memberships (scoping, group flattening), and — in initial cycles — one listing of
// the target per object type for in-memory matching. Lost on a worker restart: then rebuilt.
import { memberships } from '../store/schema.ts';
import {
  buildMembershipIndex,
  createScopeContext,
  type MembershipIndex,
  type ScopeContext,
} from '../engine/scoping/index.ts';
import { buildTargetIndex, type TargetIndex } from '../engine/matching/index.ts';
import type { Membership, ObjectType } from '../engine/types.ts';
import type { Store } from '../store/index.ts';
import type { AppRuntime } from './app-runtime.ts';

export interface DirectoryContext {
  scope: Record<ObjectType, ScopeContext>;
  memberships: MembershipIndex;
}

export async function loadDirectoryContext(store: Store, runtime: AppRuntime): Promise<DirectoryContext> {
  const [assignments, rows] = await Promise.all([
    store.assignments.listByApp(runtime.app.id),
    store.db
      .select({ groupId: memberships.groupId, memberId: memberships.memberId, memberType: memberships.memberType })
      .from(memberships),
  ]);
  const index = buildMembershipIndex(rows as Membership[]);
  const { config } = runtime;
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
  fingerprint: string;
  directory: Promise<DirectoryContext>;
  targetIndex: Partial<Record<ObjectType, Promise<TargetIndex | null>>>;
}

/** Per-cycle caches, newest few cycles only. */
export class CycleContexts {
  private readonly entries = new Map<string, CycleEntry>();

  constructor(private readonly store: Store) {}

  private entry(cycleId: string, runtime: AppRuntime): CycleEntry {
    let entry = this.entries.get(cycleId);
    if (!entry || entry.fingerprint !== runtime.fingerprint) {
      entry = {
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

  /** The target listed once and indexed by the matching attributes; null when `wanted` says no. */
  targetIndex(
    cycleId: string,
    runtime: AppRuntime,
    type: ObjectType,
    wanted: () => Promise<boolean>,
  ): Promise<TargetIndex | null> {
    const entry = this.entry(cycleId, runtime);
    let index = entry.targetIndex[type];
    if (!index) {
      index = (async () => {
        if (!(await wanted())) return null;
        const compiled = type === 'user' ? runtime.compiled.user : runtime.compiled.group;
        if (!compiled) return null;
        const resources = await runtime.client.listAll(type === 'user' ? 'Users' : 'Groups', {
          count: 1000,
          ...(type === 'group' ? { excludedAttributes: ['members'] } : {}),
        });
        return buildTargetIndex(
          resources,
          compiled.matching.map((m) => m.target),
        );
      })();
      index.catch(() => delete entry.targetIndex[type]);
      entry.targetIndex[type] = index;
    }
    return index;
  }

  /** Forget a cycle's caches (after a failed batch, so a retry starts from what the target holds now). */
  forget(cycleId: string): void {
    this.entries.delete(cycleId);
  }
}
