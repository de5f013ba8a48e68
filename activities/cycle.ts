// The cycle activities: stage the work, guard deletions, export batch by batch, close the cycle.
// Every one can run twice with the same result: staging ignores objects already staged, a batch
// skips work items already decided, and links + logs + work outcomes commit in one transaction.
import { Context, heartbeat as temporalHeartbeat } from '@temporalio/activity';
import { TransientError } from '../engine/errors.ts';
import { deletionLimit, exceedsDeletionThreshold } from '../engine/policies/deletionThreshold.ts';
import type { TargetIndex } from '../engine/matching/index.ts';
import { planObject } from '../engine/planning/index.ts';
import { evaluateScope } from '../engine/scoping/index.ts';
import type { CycleCounts, DirectoryGroup, DirectoryUser, ObjectType, ProvisioningLogEntry } from '../engine/types.ts';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import { cycleWork } from '../store/schema.ts';
import {
  EMPTY_COUNTS,
  logEntryId,
  type LinkRecord,
  type LinkUpsert,
  type Repositories,
  type Store,
  type WorkItem,
} from '../store/index.ts';
import type { AppRuntime, AppRuntimes } from './app-runtime.ts';
import type { CycleContexts, DirectoryContext } from './cycle-context.ts';
import type { ActivityDeps } from './deps.ts';
import { claimAll, releaseClaims } from './object-locks.ts';
import { CycleStop, provisionObject, resolveReferences, type ObjectOutcome, type SourceObject } from './pipeline.ts';
import type {
  BeginCycleInput,
  BeginCycleResult,
  CycleFailure,
  CycleProgress,
  CycleSummary,
  DeletionGuardResult,
  ProcessBatchInput,
  ProcessBatchResult,
} from './types.ts';

const LOCK_TTL_MS = 5 * 60_000;
/** Work items read per page in the references phase, which only acts on a few of them. */
const REFERENCES_SCAN = 5000;
/** Staged objects above which the work table's statistics are refreshed before exporting. */
const ANALYZE_AFTER_STAGING = 1_000;
/** When a batch retries for objects on-demand provisioning held past the wait. */
const UNCLAIMED_RETRY_MS = 5_000;
/**
 * How long one processBatch call keeps starting pages (of `batchSize`) before it returns to the
 * workflow: a page's reads and claims run ahead while the page before it is exported, so at full
 * speed the fixed cost between batches (reads, the last write, the workflow's turn) mostly vanishes,
 * and a pause still takes effect within this budget plus one page.
 */
const BATCH_TIME_BUDGET_MS = 2_000;
/** A page holds at most what the app's rate limit lets through in this time (but at least MIN_PAGE objects). */
const PAGE_SECONDS_AT_RATE_LIMIT = 60;
const MIN_PAGE = 10;
/** How often a processBatch call heartbeats while it runs (its heartbeat timeout is 1 minute). */
const HEARTBEAT_INTERVAL_MS = 10_000;
/** Outcomes per write transaction while a batch is exported. */
const FLUSH_EVERY = 250;

export interface CycleServices {
  deps: ActivityDeps;
  store: Store;
  runtimes: AppRuntimes;
  contexts: CycleContexts;
  now: () => Date;
}

function heartbeat(details: unknown): void {
  try {
    temporalHeartbeat(details);
  } catch {
    // Not inside an activity (direct calls in tests and on-demand): nothing to report to.
  }
}

/** The activity's cancellation (heartbeat timeout, workflow cancelled), or null outside an activity. */
function cancellation(): AbortSignal | null {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return null;
  }
}

async function requireCycle(store: Store, cycleId: string) {
  const cycle = await store.cycles.get(cycleId);
  if (!cycle) throw new Error(`Cycle ${cycleId} does not exist`);
  return cycle;
}

export async function beginCycle(s: CycleServices, input: BeginCycleInput): Promise<BeginCycleResult> {
  const { store } = s;
  const runtime = await s.runtimes.get(input.appId);
  const watermark = input.kind === 'incremental' ? (input.watermark ?? runtime.app.watermark) : null;
  const { cycle, created } = await store.cycles.create({
    appId: input.appId,
    number: input.cycleNumber,
    kind: watermark === null ? 'initial' : input.kind,
    watermarkFrom: watermark,
    startedAt: s.now(),
  });
  let watermarkTo = cycle.watermarkTo;
  if (created || watermarkTo === null) {
    watermarkTo = await store.changes.latestSeq();
    await store.cycles.update(cycle.id, { watermarkTo });
  }
  const cycleId = cycle.id;

  // Held-back disables/deletes of an earlier cycle: approved → export them now; rejected → drop them.
  const held = await heldDeletionsCycle(store, input.appId, input.cycleNumber);
  if (held && input.deletionsRejected) await store.cycleWork.markAll(held.id, 'staged', 'dropped');
  if (held && input.deletionsApproved) {
    const items = await store.cycleWork.readBatch(held.id, { afterSeq: 0, limit: 1_000_000, status: 'staged' });
    await store.cycleWork.stage(
      cycleId,
      items.map((i) => ({ objectType: i.objectType, objectId: i.objectId, changeSeq: i.changeSeq })),
    );
    await store.cycleWork.markAll(held.id, 'staged', 'approved');
  }

  if (watermark === null) {
    await store.cycleWork.stageInitial(cycleId, runtime.config.scope);
  } else {
    await store.cycleWork.stageChanges(cycleId, watermark, watermarkTo);
    // Escrowed objects due for a retry, and the groups containing them (their members may change).
    const due = await store.links.escrowDue(input.appId, s.now(), 100_000);
    await store.cycleWork.stageEscrowDue(cycleId, s.now());
    const groups = new Set<string>();
    for (const link of due) for (const g of await store.directory.transitiveGroupsOf(link.sourceId)) groups.add(g);
    await store.cycleWork.stage(
      cycleId,
      [...groups].sort().map((objectId) => ({ objectType: 'group' as const, objectId })),
    );
  }
  const total = await store.cycleWork.count(cycleId);
  if (total >= ANALYZE_AFTER_STAGING) await store.cycleWork.analyze();
  await store.cycles.update(cycleId, { total });
  return { cycleId, total, watermarkTo };
}

/** The latest earlier cycle of the app that still holds staged deletions. */
async function heldDeletionsCycle(store: Store, appId: string, beforeNumber: number) {
  const page = await store.cycles.list(appId, { limit: 20 });
  for (const cycle of page.items) {
    if (cycle.number >= beforeNumber) continue;
    if (!cycle.deletionThresholdExceeded) continue;
    if ((await store.cycleWork.count(cycle.id, { status: 'staged' })) > 0) return cycle;
  }
  return null;
}

interface LoadedObjects {
  users: Map<string, DirectoryUser>;
  groups: Map<string, DirectoryGroup>;
}

async function loadObjects(store: Store, items: readonly WorkItem[]): Promise<LoadedObjects> {
  const userIds = items.filter((i) => i.objectType === 'user').map((i) => i.objectId);
  const groupIds = items.filter((i) => i.objectType === 'group').map((i) => i.objectId);
  const [users, groups] = await Promise.all([
    userIds.length ? store.directory.getUsers(userIds) : Promise.resolve([]),
    groupIds.length ? store.directory.getGroups(groupIds) : Promise.resolve([]),
  ]);
  return { users: new Map(users.map((u) => [u.id, u])), groups: new Map(groups.map((g) => [g.id, g])) };
}

function sourceOf(item: WorkItem, loaded: LoadedObjects): SourceObject {
  return item.objectType === 'user'
    ? { type: 'user', object: loaded.users.get(item.objectId) ?? null }
    : { type: 'group', object: loaded.groups.get(item.objectId) ?? null };
}

/**
 * Counts what this cycle would disable or delete (linked objects that left scope or were deleted).
 * Above the app's threshold, and not approved, they are held as StagedDelete: logged, not exported.
 */
export async function deletionGuard(
  s: CycleServices,
  input: { appId: string; cycleId: string; deletionsApproved: boolean },
): Promise<DeletionGuardResult> {
  const { store } = s;
  const cycle = await requireCycle(store, input.cycleId);
  const runtime = await s.runtimes.get(input.appId);
  const directory = await s.contexts.directory(input.cycleId, runtime);
  const removals: { item: WorkItem; action: 'Disable' | 'Delete'; link: LinkRecord; reason: string }[] = [];
  let already = 0;
  for (let cursor = 0; ;) {
    const items = await store.cycleWork.readBatch(input.cycleId, { afterSeq: cursor, limit: REFERENCES_SCAN });
    if (items.length === 0) break;
    cursor = items[items.length - 1].seq;
    already += items.filter((i) => i.status === 'staged').length;
    const pending = items.filter((i) => i.status === 'pending');
    for (const type of ['user', 'group'] as const) {
      const ofType = pending.filter((i) => i.objectType === type);
      if (ofType.length === 0) continue;
      const links = await store.links.getMany(
        input.appId,
        type,
        ofType.map((i) => i.objectId),
      );
      const linked = ofType.filter((i) => links.get(i.objectId)?.targetId);
      if (linked.length === 0) continue;
      const loaded = await loadObjects(store, linked);
      for (const item of linked) {
        const link = links.get(item.objectId) as LinkRecord;
        const decision = wouldRemove(runtime, directory, sourceOf(item, loaded), link);
        if (decision) removals.push({ item, link, ...decision });
      }
    }
    heartbeat({ cursor });
  }
  if (cycle.deletionThresholdExceeded && already > 0) {
    return { pendingDeletions: already, exceeded: true };
  }
  const linkedObjects = await store.links.countActive(input.appId);
  const threshold = runtime.config.deletionThreshold;
  const exceeded =
    !input.deletionsApproved && exceedsDeletionThreshold({ deletions: removals.length, linkedObjects, threshold });
  if (exceeded) {
    const now = s.now();
    const limit = deletionLimit(threshold, linkedObjects);
    const logs: ProvisioningLogEntry[] = removals.map(({ item, action, link, reason }) => ({
      id: logEntryId(input.cycleId, item.objectType, item.objectId, 'export'),
      time: now.toISOString(),
      appId: input.appId,
      cycleId: input.cycleId,
      changeId: item.changeSeq === null ? null : String(item.changeSeq),
      objectType: item.objectType,
      sourceId: item.objectId,
      sourceDisplayName: null,
      targetId: link.targetId,
      action: 'StagedDelete',
      status: 'Warning',
      errorCode: 'TooManyDeletes',
      errorMessage: `${removals.length} disables/deletes exceed the deletion threshold of ${limit}; held for approval`,
      steps: [{ name: 'processing', status: 'Warning', details: { heldAction: action, reason } }],
      modifiedAttributes: [],
      durationMs: 0,
      onDemand: false,
    }));
    await store.transaction(async (tx) => {
      await tx.cycleWork.mark(
        input.cycleId,
        removals.map((r) => r.item.seq),
        { status: 'staged', action: 'StagedDelete' },
      );
      await tx.logs.insert(logs);
      await tx.cycles.update(input.cycleId, { pendingDeletions: removals.length, deletionThresholdExceeded: true });
    });
  } else {
    await store.cycles.update(input.cycleId, { pendingDeletions: removals.length, deletionThresholdExceeded: false });
  }
  return { pendingDeletions: removals.length, exceeded };
}

function wouldRemove(
  runtime: AppRuntime,
  directory: DirectoryContext,
  source: SourceObject,
  link: LinkRecord,
): { action: 'Disable' | 'Delete'; reason: string } | null {
  const typeConfig = runtime.config.objectTypes[source.type];
  if (!typeConfig || !typeConfig.enabled) return null;
  let inScope = false;
  if (source.object) {
    inScope =
      source.type === 'user'
        ? evaluateScope({ objectType: 'user', object: source.object }, directory.scope.user).inScope
        : evaluateScope({ objectType: 'group', object: source.object }, directory.scope.group).inScope;
  }
  if (source.object && inScope) return null;
  const plan = planObject({
    objectType: source.type,
    source: source.object ? 'present' : 'hardDeleted',
    inScope: false,
    link,
    target: undefined,
    desired: null,
    settings: { actions: typeConfig.actions, skipOutOfScopeDeletions: typeConfig.skipOutOfScopeDeletions },
  });
  return plan.action === 'Disable' || plan.action === 'Delete' ? { action: plan.action, reason: plan.reason } : null;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let stop: unknown = null;
  const worker = async () => {
    while (stop === null && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]);
      } catch (error) {
        stop = error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (stop !== null) throw stop;
  return results;
}

/** Writes the outcomes of a batch in ONE transaction: links, log entries, work status. */
export async function recordOutcomes(
  tx: Repositories,
  appId: string,
  cycleId: string | null,
  outcomes: readonly { seq: number | null; outcome: ObjectOutcome }[],
): Promise<void> {
  // Link upserts go in multi-row statements, one per set of fields written.
  const upserts = new Map<string, LinkUpsert[]>();
  for (const { outcome } of outcomes) {
    if (outcome.link.kind !== 'upsert') continue;
    const fields = Object.keys(outcome.link.link).sort().join(',');
    const list = upserts.get(fields) ?? [];
    list.push(outcome.link.link);
    upserts.set(fields, list);
  }
  for (const list of upserts.values()) await tx.links.bulkUpsert(list);
  for (const { outcome } of outcomes) {
    const key = { appId, objectType: outcome.objectType, sourceId: outcome.objectId };
    const write = outcome.link;
    if (write.kind === 'delete') await tx.links.delete(key);
    else if (write.kind === 'failure') {
      await tx.links.markFailure(key, {
        error: write.error,
        errorCode: write.errorCode,
        nextRetryAt: write.nextRetryAt,
      });
    }
  }
  await tx.logs.insert(outcomes.map((o) => o.outcome.log));
  if (cycleId === null) return;
  const groups = new Map<
    string,
    { seqs: number[]; status: string; action: string; detail: Record<string, unknown> | null }
  >();
  for (const { seq, outcome } of outcomes) {
    if (seq === null) continue;
    const detail =
      outcome.unresolvedPaths.length > 0 || outcome.linkChanged
        ? {
            ...(outcome.unresolvedPaths.length > 0 ? { unresolved: outcome.unresolvedPaths } : {}),
            ...(outcome.linkChanged ? { linkChanged: true } : {}),
          }
        : null;
    const action = outcome.workAction ?? outcome.action;
    const key = JSON.stringify([outcome.status, action, detail]);
    const group = groups.get(key) ?? { seqs: [] as number[], status: outcome.status as string, action, detail };
    group.seqs.push(seq);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    await tx.cycleWork.mark(cycleId, group.seqs, { status: group.status, action: group.action, detail: group.detail });
  }
}

/**
 * The groups of a batch whose flattened members may differ from what was last exported: all of them
 * in initial cycles; otherwise new or escrowed groups, groups changed themselves (membership), groups
 * with a changed group below them, and groups with a user whose link changed (created, disabled,
 * re-enabled, deleted) in this cycle.
 */
async function groupsNeedingMemberCheck(
  store: Store,
  cycle: { id: string; kind: string },
  directory: DirectoryContext,
  items: readonly WorkItem[],
  links: ReadonlyMap<string, LinkRecord>,
): Promise<Set<string>> {
  if (cycle.kind === 'initial') return new Set(items.map((i) => i.objectId));
  const [changedGroups, linkChangedUsers] = await Promise.all([
    store.db
      .select({ id: cycleWork.objectId })
      .from(cycleWork)
      .where(and(eq(cycleWork.cycleId, cycle.id), eq(cycleWork.objectType, 'group'), isNotNull(cycleWork.changeSeq))),
    store.db
      .select({ id: cycleWork.objectId })
      .from(cycleWork)
      .where(
        and(
          eq(cycleWork.cycleId, cycle.id),
          eq(cycleWork.objectType, 'user'),
          sql`${cycleWork.detail}->>'linkChanged' = 'true'`,
        ),
      ),
  ]);
  const seeds = new Set(changedGroups.map((r) => r.id));
  const users = new Set(linkChangedUsers.map((r) => r.id));
  const result = new Set<string>();
  for (const item of items) {
    const link = links.get(item.objectId);
    if (!link || link.targetId === null || link.failureCount > 0 || item.changeSeq !== null) {
      result.add(item.objectId);
      continue;
    }
    const below = descendantGroups(directory, item.objectId);
    if ([...below].some((g) => seeds.has(g))) {
      result.add(item.objectId);
      continue;
    }
    for (const userId of flattenUsers(directory, item.objectId)) {
      if (users.has(userId)) {
        result.add(item.objectId);
        break;
      }
    }
  }
  return result;
}

function descendantGroups(directory: DirectoryContext, groupId: string): Set<string> {
  const seen = new Set<string>([groupId]);
  const queue = [groupId];
  while (queue.length > 0) {
    const current = queue.pop() as string;
    for (const m of directory.memberships.membersOf.get(current) ?? []) {
      if (m.memberType === 'group' && !seen.has(m.memberId)) {
        seen.add(m.memberId);
        queue.push(m.memberId);
      }
    }
  }
  seen.delete(groupId);
  return seen;
}

/** Links of the users an object refers to: managers of users, flattened members of groups. */
async function referencedUserLinks(
  store: Store,
  appId: string,
  directory: DirectoryContext,
  items: readonly WorkItem[],
  loaded: LoadedObjects,
): Promise<Map<string, LinkRecord>> {
  const ids = new Set<string>();
  for (const item of items) {
    if (item.objectType === 'user') {
      const managerId = loaded.users.get(item.objectId)?.managerId;
      if (managerId) ids.add(managerId);
    } else {
      for (const userId of flattenUsers(directory, item.objectId)) ids.add(userId);
    }
  }
  return ids.size === 0 ? new Map() : store.links.getMany(appId, 'user', [...ids]);
}

function flattenUsers(directory: DirectoryContext, groupId: string): Set<string> {
  const users = new Set<string>();
  const seen = new Set<string>([groupId]);
  const queue = [groupId];
  while (queue.length > 0) {
    const current = queue.pop() as string;
    for (const m of directory.memberships.membersOf.get(current) ?? []) {
      if (m.memberType === 'user') users.add(m.memberId);
      else if (!seen.has(m.memberId)) {
        seen.add(m.memberId);
        queue.push(m.memberId);
      }
    }
  }
  return users;
}

export async function processBatch(s: CycleServices, input: ProcessBatchInput): Promise<ProcessBatchResult> {
  try {
    return await processBatchOnce(s, input);
  } catch (error) {
    // A retry must match against what the target holds now, not a listing taken before this batch.
    s.contexts.forget(input.cycleId);
    throw error;
  }
}

async function processBatchOnce(s: CycleServices, input: ProcessBatchInput): Promise<ProcessBatchResult> {
  const { store } = s;
  const runtime = await s.runtimes.get(input.appId);
  const cycle = await requireCycle(store, input.cycleId);
  const directory = await s.contexts.directory(input.cycleId, runtime);
  const call: BatchCall = {
    s,
    input,
    runtime,
    cycle,
    directory,
    objectType: input.phase === 'groups' ? 'group' : 'user',
    references: input.phase === 'references',
    now: s.now(),
    provisional: new Map(),
    pageSize: pageSizeFor(input.batchSize, runtime.config.rateLimit.requestsPerSecond),
  };
  const writer = new OutcomeWriter(store, input.appId, input.cycleId, input.cursor);
  const cancelled = cancellation();
  // Pages are started for at most this long; the references phase reads one page per call.
  const startPagesUntil = Date.now() + (call.references ? 0 : (s.deps.batchTimeBudgetMs ?? BATCH_TIME_BUDGET_MS));
  let processed = 0;
  let cursor = input.cursor;
  let done = false;
  let next: Promise<PreparedPage> | null = preparePage(call, input.cursor);
  // Chunks are written (and heartbeat) every FLUSH_EVERY objects; at a low rate limit that is minutes
  // apart, longer than the heartbeat timeout, so the call also heartbeats on a clock.
  const beat = setInterval(() => heartbeat({ cursor, processed }), s.deps.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS);
  try {
    while (next) {
      const page = await next;
      next = null;
      // Read ahead: the next page's reads and claims run while the end of this page is exported (not
      // the whole page: its claims would keep on-demand requests waiting for a page longer).
      const readAhead = () => {
        if (next || page.done || Date.now() >= startPagesUntil || cancelled?.aborted) return;
        next = preparePage(call, page.nextCursor);
        // Handled when awaited below; until then a failed read must not count as an unhandled rejection.
        next.catch(() => undefined);
      };
      const failure = await exportPage(call, page, writer, cancelled, readAhead);
      if (failure || page.unclaimed.length > 0 || writer.failed || cancelled?.aborted) {
        await writer.settle();
        if (writer.error !== null) throw writer.error;
        if (cancelled?.aborted) throw cancelled.reason ?? new Error('processBatch was cancelled');
        if (failure) {
          await updateProgress(store, input.cycleId, call.references);
          return { nextCursor: input.cursor, processed: 0, done: false, failure };
        }
        // Held past the wait by on-demand provisioning: passing over them would lose their changes once
        // the watermark moves on. The retry skips what this attempt decided and claims the rest.
        throw new TransientError(
          `${page.unclaimed.length} object(s) of this batch are held by on-demand provisioning (${page.unclaimed.slice(0, 5).join(', ')}${page.unclaimed.length > 5 ? ', …' : ''}); the batch is retried when they are released`,
          { code: 'Timeout', retryAfterMs: UNCLAIMED_RETRY_MS },
        );
      }
      processed += page.items.length;
      cursor = page.nextCursor;
      done = page.done;
    }
    await writer.settle();
    if (writer.error !== null) throw writer.error;
  } finally {
    clearInterval(beat);
    // A page read ahead but not exported gives its claims back (its reads are simply dropped).
    if (next) await next.then((unused) => unused.release()).catch(() => undefined);
    await writer.settle();
  }
  heartbeat({ cursor });
  await updateProgress(store, input.cycleId, call.references);
  return { nextCursor: cursor, processed, done, failure: null };
}

/**
 * Objects per page: `batchSize`, or what the app may send in about a minute when its rate limit is
 * low: a page of 1,000 at 1 request a second would outlast the activity's 15-minute timeout.
 */
export function pageSizeFor(batchSize: number, requestsPerSecond: number): number {
  return Math.min(batchSize, Math.max(MIN_PAGE, Math.floor(requestsPerSecond * PAGE_SECONDS_AT_RATE_LIMIT)));
}

/** What every page of one processBatch call shares. */
interface BatchCall {
  s: CycleServices;
  input: ProcessBatchInput;
  runtime: AppRuntime;
  cycle: { id: string; kind: string };
  directory: DirectoryContext;
  objectType: ObjectType;
  references: boolean;
  now: Date;
  /** Users linked by earlier pages of this call, not yet visible to a page whose reads ran ahead. */
  provisional: Map<string, LinkRecord>;
  /** Objects per page: `batchSize`, or less when the app's rate limit is low. */
  pageSize: number;
}

/** One page of staged work, read and claimed, ready to export. */
interface PreparedPage {
  items: WorkItem[];
  done: boolean;
  nextCursor: number;
  claimed: WorkItem[];
  unclaimed: string[];
  loaded: LoadedObjects;
  links: Map<string, LinkRecord>;
  memberCheck: Set<string> | null;
  userLinks: Map<string, LinkRecord>;
  targetIndex: TargetIndex | null;
  /** Gives the page's claims back; idempotent. */
  release(): Promise<void>;
}

async function preparePage(call: BatchCall, afterSeq: number): Promise<PreparedPage> {
  const { s, input, runtime, cycle, directory, objectType, references } = call;
  const { store } = s;
  const items = await store.cycleWork.readBatch(input.cycleId, {
    afterSeq,
    limit: references ? REFERENCES_SCAN : call.pageSize,
    objectType,
    ...(references ? { status: 'pendingRefs' } : {}),
  });
  const page = references ? items.slice(0, call.pageSize) : items;
  const done = references ? items.length <= call.pageSize : items.length < call.pageSize;
  const nextCursor = page.length > 0 ? page[page.length - 1].seq : afterSeq;
  const pending = page.filter((i) => i.status === (references ? 'pendingRefs' : 'pending'));
  if (pending.length === 0) {
    // Everything on this page was decided already (a retried call): nothing to claim or export.
    return {
      items: page,
      done,
      nextCursor,
      claimed: [],
      unclaimed: [],
      loaded: { users: new Map<string, DirectoryUser>(), groups: new Map<string, DirectoryGroup>() },
      links: new Map<string, LinkRecord>(),
      memberCheck: null,
      userLinks: new Map<string, LinkRecord>(),
      targetIndex: null,
      release: async () => {},
    };
  }
  const holder = `cycle:${input.cycleId}`;
  const ids = pending.map((i) => i.objectId);
  const unclaimed = await claimAll(store, input.appId, objectType, ids, holder, {
    ttlMs: LOCK_TTL_MS,
    waitMs: s.deps.lockWaitMs ?? 30_000,
  });
  let released: Promise<void> | null = null;
  const release = () => (released ??= releaseClaims(store, input.appId, objectType, ids, holder));
  try {
    const claimed = pending.filter((i) => !unclaimed.includes(i.objectId));
    const [loaded, links] = await Promise.all([
      loadObjects(store, claimed),
      store.links.getMany(
        input.appId,
        objectType,
        claimed.map((i) => i.objectId),
      ),
    ]);
    // Groups whose members cannot have changed are not re-planned (no member links loaded).
    const memberCheck =
      objectType === 'group' ? await groupsNeedingMemberCheck(store, cycle, directory, claimed, links) : null;
    const userLinks = await referencedUserLinks(
      store,
      input.appId,
      directory,
      memberCheck ? claimed.filter((i) => memberCheck.has(i.objectId)) : claimed,
      loaded,
    );
    const unlinked = claimed.length - [...links.values()].filter((l) => l.targetId !== null).length;
    const targetIndex =
      cycle.kind === 'initial' && !references
        ? await s.contexts.targetIndex(input.cycleId, runtime, objectType, async () => {
            if (unlinked >= (s.deps.bulkMatchThreshold ?? 50)) return true;
            const staged = await store.cycleWork.count(input.cycleId, { objectType, status: 'pending' });
            const linkedCount = await store.links.countActive(input.appId, objectType);
            return staged - linkedCount >= (s.deps.bulkMatchThreshold ?? 50);
          })
        : null;
    return {
      items: page,
      done,
      nextCursor,
      claimed,
      unclaimed,
      loaded,
      links,
      memberCheck,
      userLinks,
      targetIndex,
      release,
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * Exports a page's claimed objects, the app's concurrency at a time, handing each outcome to the writer;
 * calls `nearlyDone` once when the last tenth of the page (at least twice the concurrency) is left.
 * Returns the failure that stops the cycle, if any. The page's claims are given back once its last
 * outcome is written (or at once when nothing was exported).
 */
async function exportPage(
  call: BatchCall,
  page: PreparedPage,
  writer: OutcomeWriter,
  cancelled: AbortSignal | null,
  nearlyDone: () => void,
): Promise<CycleFailure | null> {
  const { s, input, runtime, directory, objectType, references, now, provisional } = call;
  const { loaded, links, userLinks, memberCheck, targetIndex } = page;
  // Reports of a manager linked by an earlier page of this call resolve through its new link.
  for (const [id, link] of provisional) if (!userLinks.get(id)?.targetId) userLinks.set(id, link);
  let failure: CycleFailure | null = null;
  const concurrency = s.deps.exportConcurrency ?? runtime.config.rateLimit.concurrency;
  // `nearlyDone` fires when this many objects are left to start: enough to hide the next page's reads.
  const readAheadAt = Math.max(2 * concurrency, Math.ceil(page.claimed.length / 10));
  if (page.claimed.length <= readAheadAt) nearlyDone();
  let started = 0;
  try {
    await mapLimit(page.claimed, concurrency, async (item) => {
      // A cancelled attempt (e.g. its heartbeat timed out and a retry runs elsewhere) stops exporting.
      if (failure || writer.failed || cancelled?.aborted) return;
      if (++started === page.claimed.length - readAheadAt) nearlyDone();
      const ctx = {
        runtime,
        directory,
        now,
        cycleId: input.cycleId,
        logId: logEntryId(input.cycleId, item.objectType, item.objectId, references ? 'references' : 'export'),
        changeId: item.changeSeq === null ? null : String(item.changeSeq),
        onDemand: false,
        targetIndex,
        userLinks,
        holdDeletions: false,
        checkMembers: memberCheck ? memberCheck.has(item.objectId) : true,
      };
      try {
        if (references) {
          const user = loaded.users.get(item.objectId);
          const link = links.get(item.objectId);
          const paths = (item.detail?.unresolved as string[] | undefined) ?? [];
          const outcome = user && link ? await resolveReferences(ctx, user, link, paths) : null;
          const result = outcome ?? settled(item);
          result.workAction = item.action ?? undefined;
          writer.push(item.seq, result);
        } else {
          const previous = links.get(item.objectId) ?? null;
          const outcome = await provisionObject(ctx, sourceOf(item, loaded), previous);
          outcome.linkChanged = membershipStateChanged(previous, outcome);
          // Later objects (reports of this manager) resolve through the new link, which commits in the
          // same transaction as theirs or before it: the writer commits chunks in order.
          if (objectType === 'user' && outcome.link.kind === 'upsert' && outcome.targetId) {
            const link = provisionalLink(input.appId, item.objectId, outcome.targetId);
            userLinks.set(item.objectId, link);
            provisional.set(item.objectId, link);
          }
          writer.push(item.seq, outcome);
        }
      } catch (error) {
        if (error instanceof CycleStop) failure = error.failure;
        else throw error;
      }
    });
  } finally {
    writer.flush();
    writer.then(page.release);
  }
  return failure;
}

/**
 * Commits outcomes in chunks of FLUSH_EVERY, one transaction each, in order, while later objects are
 * still being exported. The first failed write stops further writes; `error` holds it.
 */
class OutcomeWriter {
  private ready: { seq: number; outcome: ObjectOutcome }[] = [];
  private chain: Promise<void> = Promise.resolve();
  error: unknown = null;

  constructor(
    private readonly store: Store,
    private readonly appId: string,
    private readonly cycleId: string,
    private readonly cursor: number,
  ) {}

  get failed(): boolean {
    return this.error !== null;
  }

  push(seq: number, outcome: ObjectOutcome): void {
    this.ready.push({ seq, outcome });
    if (this.ready.length >= FLUSH_EVERY) this.flush();
  }

  /** Queues what is ready as one transaction. */
  flush(): void {
    if (this.ready.length === 0) return;
    const chunk = this.ready.splice(0);
    this.then(async () => {
      if (this.error !== null) return;
      await writeOutcomes(this.store, this.appId, this.cycleId, chunk);
      heartbeat({ cursor: this.cursor, written: chunk.length });
    });
  }

  /** Runs `step` after everything queued so far; a failure is kept, not thrown. */
  then(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((error: unknown) => {
      this.error ??= error;
    });
  }

  /** Waits for everything queued. */
  async settle(): Promise<void> {
    await this.chain;
  }
}

/** Whether the object's standing as a group member (linked target id, active) changed. */
function membershipStateChanged(previous: LinkRecord | null, outcome: ObjectOutcome): boolean {
  const before = previous && previous.targetId && previous.active ? previous.targetId : null;
  const write = outcome.link;
  let after = before;
  if (write.kind === 'delete') after = null;
  else if (write.kind === 'upsert') {
    const targetId = write.link.targetId !== undefined ? write.link.targetId : (previous?.targetId ?? null);
    const active = write.link.active !== undefined ? write.link.active : (previous?.active ?? true);
    after = targetId && active ? targetId : null;
  }
  return before !== after;
}

/** Writes a chunk of a batch's outcomes in ONE transaction (links, logs, work status, operation count). */
async function writeOutcomes(
  store: Store,
  appId: string,
  cycleId: string,
  chunk: { seq: number; outcome: ObjectOutcome }[],
): Promise<void> {
  await store.transaction(async (tx) => {
    await recordOutcomes(
      tx,
      appId,
      cycleId,
      chunk.filter((o) => o.outcome.log.id !== ''),
    );
    for (const o of chunk.filter((x) => x.outcome.log.id === '')) {
      await tx.cycleWork.mark(cycleId, [o.seq], {
        status: 'done',
        action: o.outcome.workAction ?? 'Skip',
        detail: null,
      });
    }
    await tx.cycles.addOperations(
      cycleId,
      chunk.reduce((n, o) => n + o.outcome.operations, 0),
    );
  });
}

function provisionalLink(appId: string, sourceId: string, targetId: string): LinkRecord {
  return {
    appId,
    objectType: 'user',
    sourceId,
    targetId,
    exportedHash: null,
    active: true,
    failureCount: 0,
    nextRetryAt: null,
    lastError: null,
    firstFailedAt: null,
    lastErrorCode: null,
    updatedAt: new Date().toISOString(),
  };
}

/** A references item with nothing left to resolve: closes it without a log entry. */
function settled(item: WorkItem): ObjectOutcome {
  return {
    objectType: item.objectType,
    objectId: item.objectId,
    status: 'done',
    action: 'Skip',
    targetId: null,
    link: { kind: 'none' },
    log: { id: '' } as ProvisioningLogEntry,
    unresolvedPaths: [],
    operations: 0,
    modifiedAttributes: [],
    bodies: [],
    scope: null,
    matching: null,
  };
}

async function updateProgress(store: Store, cycleId: string, references: boolean): Promise<void> {
  if (references) return;
  const processed = await store.cycleWork.count(cycleId, {
    status: ['done', 'pendingRefs', 'failed', 'escrowed', 'staged'],
  });
  await store.cycles.update(cycleId, { processed });
}

export async function cycleProgress(s: CycleServices, input: { cycleId: string }): Promise<CycleProgress> {
  const cycle = await requireCycle(s.store, input.cycleId);
  return { processed: cycle.processed, total: cycle.total };
}

function countsOf(tally: { status: string; action: string | null; count: number }[]): CycleCounts {
  const counts: CycleCounts = { ...EMPTY_COUNTS };
  for (const { status, action, count } of tally) {
    if (status === 'staged') counts.stagedDeletes += count;
    else if (status === 'failed') counts.failed += count;
    else if (status === 'escrowed') {
      counts.failed += count;
      counts.escrowed += count;
    } else if (status === 'done' || status === 'pendingRefs') {
      if (action === 'Create') counts.created += count;
      else if (action === 'Update') counts.updated += count;
      else if (action === 'Disable') counts.disabled += count;
      else if (action === 'Delete') counts.deleted += count;
      else if (action === 'Skip') counts.skipped += count;
    }
  }
  return counts;
}

export async function finishCycle(
  s: CycleServices,
  input: { appId: string; cycleId: string; failure: CycleFailure | null; stopped?: boolean },
): Promise<CycleSummary> {
  const { store } = s;
  let cycle = await requireCycle(store, input.cycleId);
  if (cycle.status === 'running') {
    const counts = countsOf(await store.cycleWork.tally(input.cycleId));
    const status = input.failure ? 'failed' : input.stopped ? 'stopped' : 'succeeded';
    cycle = await store.transaction(async (tx) => {
      const finished = await tx.cycles.finish(input.cycleId, {
        status,
        counts,
        failure: input.failure ? { ...input.failure } : null,
        endedAt: s.now(),
      });
      // A failed or stopped cycle keeps the old watermark: its changes are staged again next time.
      if (status === 'succeeded' && cycle.watermarkTo !== null)
        await tx.apps.setWatermark(input.appId, cycle.watermarkTo);
      return finished;
    });
  }
  const failure = (cycle.failure as CycleFailure | null) ?? null;
  return {
    cycleId: cycle.id,
    cycleNumber: cycle.number,
    kind: cycle.kind,
    status: cycle.status === 'running' ? 'succeeded' : cycle.status,
    startedAt: cycle.startedAt,
    endedAt: cycle.endedAt ?? s.now().toISOString(),
    counts: cycle.counts,
    operations: cycle.operations,
    watermarkTo: cycle.watermarkTo ?? 0,
    failure,
    pendingDeletions: cycle.pendingDeletions,
    deletionThresholdExceeded: cycle.deletionThresholdExceeded,
  };
}
