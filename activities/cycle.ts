// The cycle activities: stage the work, guard deletions, export batch by batch, close the cycle.
// Every one can run twice with the same result: staging ignores objects already staged, a batch
// skips work items already decided, and links + logs + work outcomes commit in one transaction.
import { Context, heartbeat as temporalHeartbeat } from '@temporalio/activity';
import { DEFAULT_MEMBER_CHUNK_SIZE } from '../engine/config/schema.ts';
import { TransientError } from '../engine/errors.ts';
import { deletionLimit, exceedsDeletionThreshold } from '../engine/policies/deletionThreshold.ts';
import { groupsWithinRequests, planObject, splitLinkHash, type MemberProgress } from '../engine/planning/index.ts';
import { descendantGroups, evaluateScope, flattenGroupUsers } from '../engine/scoping/index.ts';
import type { CycleCounts, DirectoryGroup, DirectoryUser, ObjectType, ProvisioningLogEntry } from '../engine/types.ts';
import {
  EMPTY_COUNTS,
  logEntryId,
  type LinkRecord,
  type LinkTarget,
  type LinkUpsert,
  type Repositories,
  type CycleRecord,
  type Store,
  type WorkItem,
} from '../store/index.ts';
import type { AppRuntime, AppRuntimes } from './app-runtime.ts';
import type { CycleContexts, DirectoryContext } from './cycle-context.ts';
import type { TargetLookup } from './target-listing.ts';
import { moduleLogger, type ActivityDeps } from './deps.ts';
import { createIntentRecorder, type RecordCreateIntent } from './create-intents.ts';
import { cycleNotFound } from './errors.ts';
import { ClaimFence, claimAll, newLockHolder, releaseClaims, type LockHolder } from './object-locks.ts';
import {
  bulkWritesFor,
  CycleStop,
  displayName,
  pendingMatchCandidates,
  provisionObject,
  resolveReferences,
  type ObjectOutcome,
  type SourceObject,
} from './pipeline.ts';
import type {
  BeginCycleInput,
  BeginCycleResult,
  CycleFailure,
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
/**
 * Outcomes per write transaction while a batch is exported. A chunk's statements are built on the event
 * loop in one go, while the answers of the requests in flight wait: small chunks keep that wait short
 * (at a 20 ms target the initial cycle ran ~5 % faster with 64 than with 250; `npm run bench`).
 */
const FLUSH_EVERY = 64;
/**
 * Objects in a page's pipeline per request the app may have in flight (its concurrency; the client
 * still sends no more at once): while some wait for their request's answer, the others' reads and
 * statements before their request (fencing, create intent, rate slot) run, so the target is kept busy.
 */
const OBJECTS_PER_REQUEST_SLOT = 2;

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

/** The run of the workflow calling this activity, or null outside an activity (direct calls, tests). */
function workflowRunId(): string | null {
  try {
    return Context.current().info.workflowExecution?.runId ?? null;
  } catch {
    return null;
  }
}

async function requireCycle(store: Store, cycleId: string) {
  const cycle = await store.cycles.get(cycleId);
  if (!cycle) throw cycleNotFound(cycleId);
  return cycle;
}

export async function beginCycle(s: CycleServices, input: BeginCycleInput): Promise<BeginCycleResult> {
  // Staging is a few statements that may each run for minutes on a large directory: the heartbeat says
  // the worker is alive (its timeout notices a lost worker in minutes, not at the 30-minute timeout).
  const beat = setInterval(() => heartbeat({ stage: 'staging' }), s.deps.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS);
  try {
    return await stageCycle(s, input);
  } finally {
    clearInterval(beat);
  }
}

async function stageCycle(s: CycleServices, input: BeginCycleInput): Promise<BeginCycleResult> {
  const { store } = s;
  const runtime = await s.runtimes.get(input.appId);
  const watermark = input.kind === 'incremental' ? (input.watermark ?? runtime.app.watermark) : null;
  // A finished cycle of this number (a job that numbered from an older state) is never begun again:
  // the store gives this run a new cycle with the app's next number.
  const { cycle, created } = await store.cycles.begin({
    appId: input.appId,
    number: input.cycleNumber,
    runId: workflowRunId(),
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

  // Disables/deletes held back by earlier cycles: approved → export them now; rejected → drop them.
  if (input.deletionsRejected) await store.cycleWork.resolveHeld(input.appId, cycleId, 'dropped');
  if (input.deletionsApproved) {
    await store.cycleWork.stageHeld(cycleId, input.appId);
    await store.cycleWork.resolveHeld(input.appId, cycleId, 'approved');
  }

  if (watermark === null) {
    await store.cycleWork.stageInitial(cycleId, runtime.config.scope);
  } else {
    await store.cycleWork.stageChanges(cycleId, watermark, watermarkTo);
    // Escrowed objects due for a retry, and the groups containing them (their members may change).
    await store.cycleWork.stageEscrowDue(cycleId, s.now());
  }
  const total = await store.cycleWork.count(cycleId);
  if (total >= ANALYZE_AFTER_STAGING) await store.cycleWork.analyze();
  await store.cycles.update(cycleId, { total });
  if (created) {
    moduleLogger(s.deps.logger, 'cycle').info('cycle started', {
      appId: input.appId,
      cycleId,
      cycleNumber: cycle.number,
      kind: cycle.kind,
      staged: total,
    });
    s.deps.metrics?.cycleStarted(input.appId, cycle.kind);
  }
  return { cycleId, cycleNumber: cycle.number, total, watermarkTo };
}

interface LoadedObjects {
  users: Map<string, DirectoryUser>;
  groups: Map<string, DirectoryGroup>;
  /** Last known display names of staged objects no longer in the directory (hard-deleted). */
  gone: Map<string, string>;
}

async function loadObjects(store: Store, items: readonly WorkItem[]): Promise<LoadedObjects> {
  const userIds = items.filter((i) => i.objectType === 'user').map((i) => i.objectId);
  const groupIds = items.filter((i) => i.objectType === 'group').map((i) => i.objectId);
  const [userRows, groupRows] = await Promise.all([
    userIds.length ? store.directory.getUsers(userIds) : Promise.resolve([]),
    groupIds.length ? store.directory.getGroups(groupIds) : Promise.resolve([]),
  ]);
  const users = new Map(userRows.map((u) => [u.id, u]));
  const groups = new Map(groupRows.map((g) => [g.id, g]));
  const gone = new Map<string, string>();
  for (const [type, ids, found] of [
    ['user', userIds, users],
    ['group', groupIds, groups],
  ] as const) {
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length === 0) continue;
    for (const [id, name] of await store.changes.lastKnownNames(type, missing)) gone.set(`${type}:${id}`, name);
  }
  return { users, groups, gone };
}

function sourceOf(item: WorkItem, loaded: LoadedObjects): SourceObject {
  const id = item.objectId;
  const lastKnownName = loaded.gone.get(`${item.objectType}:${id}`) ?? null;
  return item.objectType === 'user'
    ? { type: 'user', id, object: loaded.users.get(id) ?? null, lastKnownName }
    : { type: 'group', id, object: loaded.groups.get(id) ?? null, lastKnownName };
}

/** A disable or delete this cycle would send, with what its StagedDelete log entry tells. */
interface Removal {
  item: WorkItem;
  action: 'Disable' | 'Delete';
  link: LinkRecord;
  name: string | null;
  reason: string;
}

/**
 * The cycle's pending disables/deletes, one page of staged work at a time (never the whole list in
 * memory), heartbeating after each page.
 */
async function* removalsByPage(
  s: CycleServices,
  input: { appId: string; cycleId: string },
  runtime: AppRuntime,
  directory: DirectoryContext,
): AsyncGenerator<Removal[]> {
  const { store } = s;
  for (let cursor = 0; ;) {
    const items = await store.cycleWork.readBatch(input.cycleId, { afterSeq: cursor, limit: REFERENCES_SCAN });
    if (items.length === 0) return;
    cursor = items[items.length - 1].seq;
    const removals: Removal[] = [];
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
        const source = sourceOf(item, loaded);
        const decision = wouldRemove(runtime, directory, source, link);
        if (decision) removals.push({ item, link, name: displayName(source), ...decision });
      }
    }
    heartbeat({ cursor });
    yield removals;
  }
}

/**
 * Counts what this cycle would disable or delete (linked objects that left scope or were deleted).
 * Above the app's threshold, and not approved, they are held as StagedDelete: logged, not exported.
 * Deletions earlier cycles still hold keep this cycle's removals held too, whatever their number.
 */
export async function deletionGuard(
  s: CycleServices,
  input: { appId: string; cycleId: string; deletionsApproved: boolean },
): Promise<DeletionGuardResult> {
  const { store } = s;
  await requireCycle(store, input.cycleId);
  const runtime = await s.runtimes.get(input.appId);
  const directory = await s.contexts.directory(input.cycleId, runtime);
  // First pass: count. A retried call counts what its first attempt staged already, so it decides
  // as that attempt did and stages the rest.
  let removalCount = await store.cycleWork.count(input.cycleId, { status: 'staged' });
  for await (const page of removalsByPage(s, input, runtime, directory)) removalCount += page.length;
  // Deletions earlier cycles hold stay held until an operator decides, whatever cycles run meanwhile
  // (run now, a push, the timer); this cycle's removals join them rather than slip past the hold.
  const heldEarlier = input.deletionsApproved
    ? 0
    : await store.cycleWork.heldCount(input.appId, { exceptCycleId: input.cycleId });
  const linkedObjects = await store.links.countActive(input.appId);
  const threshold = runtime.config.deletionThreshold;
  const exceeded =
    !input.deletionsApproved &&
    (heldEarlier > 0 || exceedsDeletionThreshold({ deletions: removalCount, linkedObjects, threshold }));
  if (!exceeded) {
    await store.cycles.update(input.cycleId, { pendingDeletions: removalCount, deletionThresholdExceeded: false });
    return { pendingDeletions: removalCount, exceeded };
  }
  // Second pass: hold them, page by page.
  const limit = deletionLimit(threshold, linkedObjects);
  const why =
    heldEarlier > 0
      ? `held for approval with the ${heldEarlier} disables/deletes earlier cycles hold`
      : `${removalCount} disables/deletes exceed the deletion threshold of ${limit}; held for approval`;
  for await (const page of removalsByPage(s, input, runtime, directory)) {
    if (page.length === 0) continue;
    const logs = page.map((removal) => stagedDeleteLog(input, removal, s.now(), why));
    await store.transaction(async (tx) => {
      await tx.cycleWork.mark(
        input.cycleId,
        page.map((r) => r.item.seq),
        { status: 'staged', action: 'StagedDelete' },
      );
      await tx.logs.insert(logs);
    });
  }
  const pendingDeletions = await store.transaction(async (tx) => {
    const held = await tx.cycleWork.heldCount(input.appId);
    await tx.cycles.update(input.cycleId, { pendingDeletions: held, deletionThresholdExceeded: true });
    if (removalCount > 0) {
      await tx.webhooks.emit({
        appId: input.appId,
        type: 'deletions.staged',
        data: { appId: input.appId, cycleId: input.cycleId, pendingDeletions: held, threshold: limit },
      });
    }
    return held;
  });
  return { pendingDeletions, exceeded };
}

function stagedDeleteLog(
  input: { appId: string; cycleId: string },
  { item, action, link, name, reason }: Removal,
  now: Date,
  why: string,
): ProvisioningLogEntry {
  return {
    id: logEntryId(input.cycleId, item.objectType, item.objectId, 'export'),
    time: now.toISOString(),
    appId: input.appId,
    cycleId: input.cycleId,
    changeId: item.changeSeq === null ? null : String(item.changeSeq),
    objectType: item.objectType,
    sourceId: item.objectId,
    sourceDisplayName: name,
    targetId: link.targetId,
    action: 'StagedDelete',
    status: 'Warning',
    errorCode: 'TooManyDeletes',
    errorMessage: why,
    steps: [{ name: 'processing', status: 'Warning', details: { heldAction: action, reason } }],
    modifiedAttributes: [],
    durationMs: 0,
    onDemand: false,
  };
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
  for (const { outcome } of outcomes) {
    if (outcome.status !== 'failed') continue;
    await tx.webhooks.emit({
      appId,
      type: 'object.failed',
      data: {
        appId,
        cycleId,
        objectType: outcome.objectType,
        objectId: outcome.objectId,
        action: outcome.action,
        errorCode: outcome.log.errorCode ?? null,
        errorMessage: outcome.log.errorMessage ?? null,
      },
    });
  }
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
 * in initial cycles; otherwise new or escrowed groups, groups whose member writes are not finished
 * (a pass of a huge group saved the link without a member hash), groups changed themselves
 * (membership), groups with a changed group below them, and groups with a user whose link changed
 * (created, disabled, re-enabled, deleted) in this cycle.
 */
async function groupsNeedingMemberCheck(
  store: Store,
  cycle: { id: string; kind: string },
  directory: DirectoryContext,
  items: readonly WorkItem[],
  links: ReadonlyMap<string, LinkRecord>,
  membersMapped: boolean,
): Promise<Set<string>> {
  if (cycle.kind === 'initial') return new Set(items.map((i) => i.objectId));
  const [seeds, users] = await Promise.all([
    store.cycleWork.changedIds(cycle.id, 'group', 'changed'),
    store.cycleWork.changedIds(cycle.id, 'user', 'linkChanged'),
  ]);
  const result = new Set<string>();
  for (const item of items) {
    const link = links.get(item.objectId);
    if (
      !link ||
      link.targetId === null ||
      link.failureCount > 0 ||
      item.changeSeq !== null ||
      (membersMapped && membersUnfinished(link))
    ) {
      result.add(item.objectId);
      continue;
    }
    const below = descendantGroups(directory.memberships, item.objectId);
    if ([...below].some((g) => seeds.has(g))) {
      result.add(item.objectId);
      continue;
    }
    for (const userId of flattenGroupUsers(directory.memberships, item.objectId)) {
      if (users.has(userId)) {
        result.add(item.objectId);
        break;
      }
    }
  }
  return result;
}

/**
 * A group link saved by a pass that left member writes for later (members.ts): its member hash is
 * empty until the last pass. Once its escrow is cleared or the cycle that wrote it is over, nothing
 * else says its members still need writing.
 */
function membersUnfinished(link: LinkRecord): boolean {
  return splitLinkHash('group', link.exportedHash).members === '';
}

/** Links of the users an object refers to: managers of users, flattened members of groups. */
async function referencedUserLinks(
  store: Store,
  appId: string,
  directory: DirectoryContext,
  items: readonly WorkItem[],
  loaded: LoadedObjects,
): Promise<Map<string, LinkTarget>> {
  const ids = new Set<string>();
  for (const item of items) {
    if (item.objectType === 'user') {
      const managerId = loaded.users.get(item.objectId)?.managerId;
      if (managerId) ids.add(managerId);
    } else {
      for (const userId of flattenGroupUsers(directory.memberships, item.objectId)) ids.add(userId);
    }
  }
  return ids.size === 0 ? new Map() : store.links.targetsOf(appId, 'user', [...ids]);
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
  const pageSeconds = s.deps.pageSecondsAtRateLimit ?? PAGE_SECONDS_AT_RATE_LIMIT;
  const holder = await newLockHolder(store, `cycle:${input.cycleId}`);
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
    holder,
    fence: new ClaimFence(store, input.appId, input.phase === 'groups' ? 'group' : 'user', holder, s.now),
    pageSize: pageSizeFor(input.batchSize, runtime.config.rateLimit.requestsPerSecond, pageSeconds),
    requestBudget: Math.max(1, Math.floor(runtime.config.rateLimit.requestsPerSecond * pageSeconds)),
    recordCreateIntent: createIntentRecorder(store, input.appId, s.now),
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
      if (page.partial.length > 0) {
        // A group's members go on in the next call, from this group: its work item is still pending.
        await writer.settle();
        if (writer.error !== null) throw writer.error;
        cursor = Math.min(...page.partial) - 1;
        done = false;
        break;
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
export function pageSizeFor(
  batchSize: number,
  requestsPerSecond: number,
  pageSeconds = PAGE_SECONDS_AT_RATE_LIMIT,
): number {
  return Math.min(batchSize, Math.max(MIN_PAGE, Math.floor(requestsPerSecond * pageSeconds)));
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
  /** This attempt's claims: a retry of the call takes them over, and this attempt then exports no more. */
  holder: LockHolder;
  /** This attempt's fencing checks, answered together (one query for the checks asked meanwhile). */
  fence: ClaimFence;
  /** Objects per page: `batchSize`, or less when the app's rate limit is low. */
  pageSize: number;
  /** Requests a page of groups may cost (their members counted), from the app's rate limit. */
  requestBudget: number;
  recordCreateIntent: RecordCreateIntent;
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
  userLinks: Map<string, LinkTarget>;
  targetIndex: TargetLookup | null;
  /** Work items (seqs) of groups whose member writes go on in a later pass: the cursor stops before them. */
  partial: number[];
  /** Gives the page's claims back; idempotent. */
  release(): Promise<void>;
}

/**
 * An initial cycle's lookup in the target's listing (streamed into the store on first use), with the
 * accounts the page's unlinked objects will be matched by read in one query; null for other cycles.
 */
async function pageTargetLookup(
  call: BatchCall,
  page: Pick<PreparedPage, 'claimed' | 'loaded' | 'links' | 'userLinks'>,
): Promise<TargetLookup | null> {
  const { s, input, runtime, cycle, objectType, references } = call;
  if (cycle.kind !== 'initial' || references) return null;
  const { store } = s;
  const { claimed, links } = page;
  const unlinked = claimed.length - [...links.values()].filter((l) => l.targetId !== null).length;
  const threshold = s.deps.bulkMatchThreshold ?? 50;
  const lookup = await s.contexts.targetIndex(
    input.cycleId,
    runtime,
    objectType,
    async () => {
      if (unlinked >= threshold) return true;
      const staged = await store.cycleWork.count(input.cycleId, { objectType, status: 'pending' });
      const linkedCount = await store.links.countActive(input.appId, objectType);
      return staged - linkedCount >= threshold;
    },
    {
      pageSize: s.deps.listingPageSize,
      onPage: (progress) => heartbeat({ listing: objectType, nextIndex: progress.nextIndex }),
    },
  );
  if (!lookup) return null;
  // The objects the pipeline will match through the listing: present, not linked, no create requested.
  const toMatch = claimed
    .filter((item) => {
      const link = links.get(item.objectId);
      return !link?.targetId && !link?.createRequestedAt;
    })
    .map((item) => sourceOf(item, page.loaded));
  return lookup.prefetch(pendingMatchCandidates({ runtime, now: call.now, userLinks: page.userLinks }, toMatch));
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
  let page = references ? items.slice(0, call.pageSize) : items;
  let done = references ? items.length <= call.pageSize : items.length < call.pageSize;
  if (objectType === 'group' && page.length > 1) {
    const chunkSize = runtime.config.objectTypes.group?.memberChunkSize ?? DEFAULT_MEMBER_CHUNK_SIZE;
    const ids = page.map((i) => i.objectId);
    const fit = groupsWithinRequests(ids, directory.memberships, chunkSize, call.requestBudget);
    if (fit < page.length) {
      page = page.slice(0, fit);
      done = false;
    }
  }
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
      loaded: { users: new Map<string, DirectoryUser>(), groups: new Map<string, DirectoryGroup>(), gone: new Map() },
      links: new Map<string, LinkRecord>(),
      memberCheck: null,
      userLinks: new Map<string, LinkTarget>(),
      targetIndex: null,
      partial: [],
      release: async () => {},
    };
  }
  const { holder } = call;
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
      objectType === 'group'
        ? await groupsNeedingMemberCheck(
            store,
            cycle,
            directory,
            claimed,
            links,
            runtime.compiled.group?.membersMapping != null,
          )
        : null;
    const userLinks = await referencedUserLinks(
      store,
      input.appId,
      directory,
      memberCheck ? claimed.filter((i) => memberCheck.has(i.objectId)) : claimed,
      loaded,
    );
    const targetIndex = await pageTargetLookup(call, { claimed, loaded, links, userLinks });
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
      partial: [],
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
  const requestConcurrency = s.deps.exportConcurrency ?? runtime.config.rateLimit.concurrency;
  // With Bulk, a request carries many objects' writes: enough objects run at once to fill the
  // requests the app's concurrency allows (their reads still queue at the client's limits).
  const bulk = await bulkWritesFor(runtime);
  const concurrency = bulk
    ? Math.max(requestConcurrency, Math.min(page.claimed.length, bulk.limits.maxOperations * requestConcurrency))
    : (s.deps.exportConcurrency ?? OBJECTS_PER_REQUEST_SLOT * requestConcurrency);
  // Users of this page being exported: a report started after its manager waits for the manager's
  // outcome, so that its create already carries the manager (no PATCH in the references phase).
  // Only managers started earlier are waited for, so two users managing each other never wait in a circle.
  // Not with Bulk: the waiting reports would split the page's requests; the references pass adds one.
  const exporting = new Map<string, Promise<void>>();
  const exported = new Map<string, () => void>();
  const managerExported = (userId: string): Promise<void> => {
    const managerId = loaded.users.get(userId)?.managerId;
    const manager = managerId ? exporting.get(managerId) : undefined;
    exporting.set(userId, new Promise<void>((resolve) => exported.set(userId, resolve)));
    return manager ?? Promise.resolve();
  };
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
        // An object whose create was requested by an attempt that failed may exist at the target
        // since the listing was read: it matches by a GET, not the listing.
        targetIndex: links.get(item.objectId)?.createRequestedAt ? null : targetIndex,
        userLinks,
        holdDeletions: false,
        checkMembers: memberCheck ? memberCheck.has(item.objectId) : true,
        // A group's member writes beyond the page's budget go on in the next pass over it.
        memberRequestBudget: objectType === 'group' && !references ? Math.max(1, call.requestBudget - 1) : undefined,
        // What its earlier passes in this cycle wrote: the last pass logs the whole group's result.
        memberProgress: (item.detail?.memberProgress as MemberProgress | undefined) ?? null,
        recordCreateIntent: call.recordCreateIntent,
        assertClaimHeld: () => call.fence.check(item.objectId),
        assertClaimHeldRecordingCreate: () => call.fence.check(item.objectId, { recordCreate: true }),
        bulk,
      };
      const track = <T>(run: () => Promise<T>) => (bulk ? bulk.track(run) : run());
      try {
        if (references) {
          const user = loaded.users.get(item.objectId);
          const link = links.get(item.objectId);
          const paths = (item.detail?.unresolved as string[] | undefined) ?? [];
          const outcome = user && link ? await track(() => resolveReferences(ctx, user, link, paths)) : null;
          const result = outcome ?? settled(item);
          result.workAction = item.action ?? undefined;
          writer.push(item.seq, result);
        } else {
          const previous = links.get(item.objectId) ?? null;
          if (objectType === 'user' && !bulk) await managerExported(item.objectId);
          const outcome = await track(() => provisionObject(ctx, sourceOf(item, loaded), previous));
          outcome.linkChanged = membershipStateChanged(previous, outcome);
          carryPartialAction(item, outcome);
          if (outcome.status === 'partial') page.partial.push(item.seq);
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
      } finally {
        exported.get(item.objectId)?.();
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
    const partial = chunk.filter((o) => o.outcome.status === 'partial');
    await recordPartial(tx, cycleId, partial);
    await recordOutcomes(
      tx,
      appId,
      cycleId,
      chunk.filter((o) => o.outcome.log.id !== '' && o.outcome.status !== 'partial'),
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

/**
 * Groups whose member writes go on in a later pass: the link is saved (the group exists at the target,
 * its member hash left empty so the next pass reads the members again), the work item stays pending
 * with the action the first pass took; no log entry yet (the last pass writes it).
 */
async function recordPartial(
  tx: Repositories,
  cycleId: string,
  partial: readonly { seq: number; outcome: ObjectOutcome }[],
): Promise<void> {
  for (const { seq, outcome } of partial) {
    if (outcome.link.kind === 'upsert') await tx.links.bulkUpsert([outcome.link.link]);
    await tx.cycleWork.mark(cycleId, [seq], {
      status: 'pending',
      action: null,
      detail: { partialAction: outcome.workAction ?? outcome.action, memberProgress: outcome.memberProgress ?? null },
    });
  }
}

/**
 * A group finished over several passes is counted and logged with the action of its first pass (a
 * Create), also when a later pass fails: that pass only went on with the group's member writes.
 */
function carryPartialAction(item: WorkItem, outcome: ObjectOutcome): void {
  const first = item.detail?.partialAction as ObjectOutcome['action'] | undefined;
  if (!first || first === 'Skip') return;
  outcome.workAction = first;
  const failed = outcome.status === 'failed' || outcome.status === 'escrowed';
  if (!failed || CONTINUING_ACTIONS.has(outcome.log.action)) outcome.log.action = first;
}

/** What a later pass over a group decides when it only goes on with the members ('Other': failed before deciding). */
const CONTINUING_ACTIONS = new Set<ObjectOutcome['action']>(['Skip', 'Update', 'Other']);

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
    createRequestedAt: null,
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

/** The `cycle ended` log line and the cycle's metrics, once, when the cycle is finished. */
async function reportCycleEnd(
  s: CycleServices,
  appId: string,
  cycle: CycleRecord,
  tally: readonly { status: string; action: string | null; count: number }[],
): Promise<void> {
  const endedAt = cycle.endedAt ? new Date(cycle.endedAt) : s.now();
  const durationMs = Math.max(0, endedAt.getTime() - Date.parse(cycle.startedAt));
  const failure = cycle.failure as CycleFailure | null;
  moduleLogger(s.deps.logger, 'cycle')[cycle.status === 'failed' ? 'warn' : 'info']('cycle ended', {
    appId,
    cycleId: cycle.id,
    cycleNumber: cycle.number,
    kind: cycle.kind,
    status: cycle.status,
    counts: cycle.counts,
    durationMs,
    ...(failure ? { failure: { kind: failure.kind, code: failure.code } } : {}),
  });
  const metrics = s.deps.metrics;
  if (!metrics) return;
  metrics.cycleFinished({
    appId,
    kind: cycle.kind,
    result: cycle.status,
    durationSeconds: durationMs / 1000,
    work: tally,
    escrowed: await s.store.links.countEscrowed(appId),
    endedAt,
  });
}

/** The body of a `cycle.finished` webhook event. */
function cycleFinishedEvent(appId: string, cycle: CycleRecord): Record<string, unknown> {
  return {
    appId,
    cycleId: cycle.id,
    cycleNumber: cycle.number,
    kind: cycle.kind,
    status: cycle.status,
    startedAt: cycle.startedAt,
    endedAt: cycle.endedAt,
    counts: cycle.counts,
    pendingDeletions: cycle.pendingDeletions,
    failure: cycle.failure ? { kind: cycle.failure.kind, code: cycle.failure.code } : null,
  };
}

export async function finishCycle(
  s: CycleServices,
  input: { appId: string; cycleId: string; failure: CycleFailure | null; stopped?: boolean },
): Promise<CycleSummary> {
  const { store } = s;
  let cycle = await requireCycle(store, input.cycleId);
  if (cycle.status === 'running') {
    const tally = await store.cycleWork.tally(input.cycleId);
    const counts = countsOf(tally);
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
      await tx.webhooks.emit({
        appId: input.appId,
        type: 'cycle.finished',
        data: cycleFinishedEvent(input.appId, finished),
      });
      return finished;
    });
    await reportCycleEnd(s, input.appId, cycle, tally);
  }
  // The cycle is over: its directory index and listing lookup are not needed in this worker any more.
  s.contexts.forget(input.cycleId);
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
