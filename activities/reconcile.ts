// A reconcile pass: the target's users, then its groups, read 200 at a time through the app's SCIM
// client (so its rate limit holds) and compared with the links (engine/planning/accountDrift.ts,
// groupDrift.ts). Accounts edited in the target are restored with ONE PATCH of the last exported
// values, linked accounts deleted in the target are created again and re-linked through the normal
// pipeline (repair mode), and accounts no link points at (orphans) are reported, or in repair mode
// adopted or disabled as the app's `orphanPolicy` says (reconcile-orphans.ts). Groups get the same,
// plus their members (reconcile-groups.ts); orphan groups are only reported. Every repair holds the
// object's lock, as cycles and on-demand do, and is written to the provisioning log. The activity
// heartbeats its position after each page; a retried attempt continues from there, and findings are
// keyed by (pass, object type, target id).
import { Context, heartbeat as temporalHeartbeat } from '@temporalio/activity';
import { FerryError, PermanentError } from '../engine/errors.ts';
import { accountDrift, type AccountDrift } from '../engine/planning/index.ts';
import type { OrphanIndex } from '../engine/matching/index.ts';
import type { ObjectType, ProvisioningLogEntry, ScimResource } from '../engine/types.ts';
import { logEntryId, type DriftFinding, type LinkRecord, type ReconcilePassRecord } from '../store/index.ts';
import type { AppRuntime } from './app-runtime.ts';
import { loadDirectoryContext, type DirectoryContext } from './cycle-context.ts';
import type { CycleServices } from './cycle.ts';
import { ClaimLostError } from './errors.ts';
import { provisionHeldObject } from './held-object.ts';
import { compareGroupPage, groupsProvisioned, listGroupsPage } from './reconcile-groups.ts';
import { handleOrphan } from './reconcile-orphans.ts';
import { assertClaimHeld, newLockHolder, releaseClaims, tryClaim, type LockHolder } from './object-locks.ts';
import type { ReconcileSummary } from './types.ts';

/** Accounts (and groups) asked for per listing request. */
export const RECONCILE_PAGE_SIZE = 200;
const LOCK_TTL_MS = 2 * 60_000;

/**
 * Where a pass is: reading the target's users from `startIndex`, looking for deleted accounts after
 * source id `after`, then the same for groups (`groups`, `deletedGroups`).
 */
export type Position =
  | { phase: 'list'; startIndex: number }
  | { phase: 'deleted'; after: string | null }
  | { phase: 'groups'; startIndex: number }
  | { phase: 'deletedGroups'; after: string | null };

const PHASES: readonly Position['phase'][] = ['list', 'deleted', 'groups', 'deletedGroups'];

export interface Pass {
  s: CycleServices;
  record: ReconcilePassRecord;
  runtime: AppRuntime;
  holder: LockHolder;
  directory: DirectoryContext | null;
  /** Adopt and disable: the unlinked in-scope users by their match candidates, loaded at the first orphan. */
  orphans: OrphanIndex | null;
  /**
   * Heartbeats the position of the page being compared, called after each object acted on: a page of
   * slow repairs (a tight rate limit) keeps the activity alive. A retry compares that page again.
   */
  beat: () => void;
}

function heartbeat(position: Position): void {
  try {
    temporalHeartbeat(position);
  } catch {
    // Not inside an activity (direct calls in tests): nothing to report to.
  }
}

/** The position the last attempt heartbeat, or null (first attempt, or outside an activity). */
function resumedPosition(): Position | null {
  try {
    const details = Context.current().info.heartbeatDetails as Position | undefined;
    return details && PHASES.includes(details.phase) ? details : null;
  } catch {
    return null;
  }
}

const accountName = (account: ScimResource): string | null =>
  typeof account.userName === 'string'
    ? account.userName
    : typeof account.displayName === 'string'
      ? account.displayName
      : null;

export async function reconcileApp(
  s: CycleServices,
  input: { appId: string; passId: string },
): Promise<ReconcileSummary> {
  const { store } = s;
  const record = await store.reconcile.getPass(input.passId);
  if (!record || record.appId !== input.appId) {
    throw new PermanentError(`Reconcile pass ${input.passId} of app ${input.appId} not found`, { code: 'Unknown' });
  }
  if (record.status !== 'running') return { passId: record.id, counts: record.counts };
  let position: Position | null = resumedPosition() ?? { phase: 'list', startIndex: 1 };
  const pass: Pass = {
    s,
    record,
    runtime: await s.runtimes.get(input.appId),
    holder: await newLockHolder(store, `reconcile:${record.id}`),
    directory: null,
    orphans: null,
    beat: () => {
      if (position) heartbeat(position);
    },
  };
  while (position) {
    position = await step(pass, position);
    if (position) heartbeat(position);
  }

  const counts = {
    ...(await store.reconcile.countFindings(record.id)),
    accounts: await store.reconcile.countSeen(record.id, 'user'),
    groups: await store.reconcile.countSeen(record.id, 'group'),
  };
  await store.reconcile.finishPass(record.id, { counts });
  return { passId: record.id, counts };
}

/** One page of the pass (a listing page, or a page of links never seen); the next position, null when done. */
async function step(pass: Pass, position: Position): Promise<Position | null> {
  switch (position.phase) {
    case 'list': {
      const page = await pass.runtime.client.list('Users', {
        startIndex: position.startIndex,
        count: RECONCILE_PAGE_SIZE,
      });
      await comparePage(pass, page.resources);
      const next = position.startIndex + page.resources.length;
      return page.resources.length === 0 || next > page.totalResults
        ? { phase: 'deleted', after: null }
        : { phase: 'list', startIndex: next };
    }
    case 'deleted': {
      const last = await deletedPage(pass, 'user', position.after);
      if (last !== null) return { phase: 'deleted', after: last };
      // Groups only when the app provisions them: else every group of the target would be an orphan.
      return groupsProvisioned(pass.runtime) ? { phase: 'groups', startIndex: 1 } : null;
    }
    case 'groups': {
      const page = await listGroupsPage(pass, position.startIndex);
      await compareGroupPage(pass, page.resources);
      const next = position.startIndex + page.resources.length;
      return page.resources.length === 0 || next > page.totalResults
        ? { phase: 'deletedGroups', after: null }
        : { phase: 'groups', startIndex: next };
    }
    case 'deletedGroups': {
      const last = await deletedPage(pass, 'group', position.after);
      return last === null ? null : { phase: 'deletedGroups', after: last };
    }
  }
}

/** The next page of linked objects the pass never read, after source id `after`; the last source id handled (null: none left). */
async function deletedPage(pass: Pass, objectType: ObjectType, after: string | null): Promise<string | null> {
  const sourceIds = await pass.s.store.reconcile.unseenLinks(pass.record, objectType, after, RECONCILE_PAGE_SIZE);
  if (sourceIds.length === 0) return null;
  await handleDeleted(pass, objectType, sourceIds);
  return sourceIds[sourceIds.length - 1];
}

export const finding = (
  pass: Pass,
  kind: DriftFinding['kind'],
  targetId: string,
  fields: Partial<DriftFinding> = {},
): DriftFinding => ({
  passId: pass.record.id,
  appId: pass.record.appId,
  kind,
  objectType: 'user',
  sourceId: null,
  targetId,
  displayName: null,
  attributes: [],
  outcome: 'reported',
  errorCode: null,
  errorMessage: null,
  logId: null,
  ...fields,
});

/** One page of target accounts: remembered as seen, classified, edits repaired in repair mode. */
async function comparePage(pass: Pass, accounts: readonly ScimResource[]): Promise<void> {
  const { store } = pass.s;
  const withId = accounts.filter((a): a is ScimResource & { id: string } => typeof a.id === 'string' && a.id !== '');
  const ids = withId.map((a) => a.id);
  await store.reconcile.markSeen(pass.record.id, ids, 'user');
  const links = await store.links.getByTargetIds(pass.record.appId, 'user', ids);
  const findings: DriftFinding[] = [];
  for (const account of withId) {
    const link = links.get(account.id) ?? null;
    const drift = accountDrift(link, account);
    const displayName = accountName(account);
    if (drift.kind === 'orphan') {
      const acted = pass.record.mode === 'repair' ? await handleOrphan(pass, account) : {};
      findings.push(finding(pass, 'orphan', account.id, { displayName, ...acted }));
      pass.beat();
    }
    if (drift.kind !== 'edited' || !link) continue;
    const fields = { sourceId: link.sourceId, displayName, attributes: drift.attributes };
    findings.push(
      pass.record.mode === 'repair'
        ? finding(pass, 'edited', account.id, { ...fields, ...(await repairEdit(pass, link, account)) })
        : finding(pass, 'edited', account.id, fields),
    );
    pass.beat();
  }
  await store.reconcile.recordFindings(findings);
}

/** Claims the object for the pass; false when a cycle or on-demand request holds it (tried again at the next pass). */
export async function claim(pass: Pass, objectType: ObjectType, sourceId: string): Promise<boolean> {
  const got = await tryClaim(pass.s.store, pass.record.appId, objectType, [sourceId], pass.holder, LOCK_TTL_MS);
  return got.has(sourceId);
}

/** What a drift repair of one linked object wrote, for its provisioning-log entry. */
export interface RepairRecord {
  objectType: 'user' | 'group';
  displayName: string | null;
  /** Why the object is put back, as the processing step says it. */
  detail: string;
  /** The export step's details besides its status and error. */
  exported: Record<string, unknown>;
  modifiedAttributes: ProvisioningLogEntry['modifiedAttributes'];
  failure: FerryError | null;
  durationMs: number;
}

/** The `Update` log entry of a repair, one per pass and object (a retried attempt writes the same id). */
export function repairLogEntry(pass: Pass, link: LinkRecord, repair: RepairRecord): ProvisioningLogEntry {
  const { failure } = repair;
  return {
    id: logEntryId('reconcile', pass.record.id, repair.objectType, link.sourceId),
    time: pass.s.now().toISOString(),
    appId: pass.record.appId,
    cycleId: null,
    changeId: null,
    objectType: repair.objectType,
    sourceId: link.sourceId,
    sourceDisplayName: repair.displayName,
    targetId: link.targetId,
    action: 'Update',
    status: failure ? 'Failure' : 'Success',
    errorCode: failure?.code ?? null,
    errorMessage: failure?.message ?? null,
    steps: [
      {
        name: 'processing',
        status: 'Success',
        details: { detail: repair.detail, reconcilePassId: pass.record.id },
      },
      {
        name: 'export',
        status: failure ? 'Failure' : 'Success',
        details: { method: 'PATCH', ...repair.exported, ...(failure ? { error: failure.message } : {}) },
      },
    ],
    modifiedAttributes: repair.modifiedAttributes,
    durationMs: repair.durationMs,
    onDemand: false,
  };
}

function logEntry(
  pass: Pass,
  link: LinkRecord,
  account: ScimResource,
  drift: Extract<AccountDrift, { kind: 'edited' }>,
  failure: FerryError | null,
  durationMs: number,
): ProvisioningLogEntry {
  return repairLogEntry(pass, link, {
    objectType: 'user',
    displayName: accountName(account),
    detail: 'drift repair: the account was edited in the target; the last exported values are put back',
    exported: { operations: drift.operations.length },
    modifiedAttributes: drift.attributes,
    failure,
    durationMs,
  });
}

/** Puts the last exported values back with one PATCH, holding the object's lock; logs it. */
async function repairEdit(pass: Pass, link: LinkRecord, account: ScimResource): Promise<Partial<DriftFinding>> {
  const { store } = pass.s;
  const { appId } = pass.record;
  if (!(await claim(pass, 'user', link.sourceId))) return { outcome: 'busy' };
  const started = Date.now();
  try {
    // Decided again under the lock: a cycle may have exported the object since the link was read.
    const fresh = await store.links.get(appId, 'user', link.sourceId);
    if (!fresh || fresh.targetId !== link.targetId) return { outcome: 'busy' };
    const drift = accountDrift(fresh, account);
    if (drift.kind !== 'edited') return { outcome: 'reported' };
    let failure: FerryError | null = null;
    try {
      await assertClaimHeld(store, appId, 'user', link.sourceId, pass.holder);
      await pass.runtime.client.patch('Users', link.targetId as string, drift.operations);
    } catch (error) {
      if (error instanceof ClaimLostError) return { outcome: 'busy' };
      if (!(error instanceof FerryError) || error.kind === 'configuration') throw error;
      failure = error;
    }
    const entry = logEntry(pass, fresh, account, drift, failure, Date.now() - started);
    await store.logs.insert([entry]);
    return failure
      ? { outcome: 'failed', errorCode: failure.code, errorMessage: failure.message, logId: entry.id }
      : { outcome: 'repaired', logId: entry.id };
  } finally {
    await releaseClaims(store, appId, 'user', [link.sourceId], pass.holder);
  }
}

/** Linked objects the target no longer has: reported, or (repair) created again through the pipeline. */
async function handleDeleted(pass: Pass, objectType: ObjectType, sourceIds: readonly string[]): Promise<void> {
  const { store } = pass.s;
  const links = await store.links.getMany(pass.record.appId, objectType, sourceIds);
  for (const link of links.values()) {
    const targetId = link.targetId as string;
    const reported = finding(pass, 'deleted', targetId, { objectType, sourceId: link.sourceId });
    // Recorded before any repair, so a crash in between leaves the finding (the link loses its target id).
    await store.reconcile.recordFindings([reported]);
    if (pass.record.mode !== 'repair') continue;
    await store.reconcile.recordFindings([{ ...reported, ...(await recreate(pass, objectType, link)) }]);
    pass.beat();
  }
}

async function recreate(pass: Pass, objectType: ObjectType, link: LinkRecord): Promise<Partial<DriftFinding>> {
  const { store } = pass.s;
  const { appId } = pass.record;
  if (!(await claim(pass, objectType, link.sourceId))) return { outcome: 'busy' };
  try {
    const fresh = await store.links.get(appId, objectType, link.sourceId);
    if (!fresh || fresh.targetId !== link.targetId) return { outcome: 'busy' };
    // The account (or group) is gone: the link forgets it, so the pipeline matches (adopting one a
    // cycle made meanwhile) or creates, and links the result as any cycle would; a group's members
    // are added by the pipeline as for any new group.
    await store.links.upsert({
      appId,
      objectType,
      sourceId: link.sourceId,
      targetId: null,
      exportedHash: null,
      exportedValues: null,
    });
    pass.directory ??= await loadDirectoryContext(store, pass.runtime);
    const result = await provisionHeldObject(pass.s, pass.runtime, pass.directory, {
      appId,
      objectType,
      objectId: link.sourceId,
      holder: pass.holder,
      logId: logEntryId('reconcile', pass.record.id, objectType, link.sourceId),
      onDemand: false,
    });
    if ('missing' in result) return { outcome: 'reported' };
    const { log } = result.outcome;
    if (log.status === 'Failure') {
      return { outcome: 'failed', errorCode: log.errorCode, errorMessage: log.errorMessage, logId: log.id };
    }
    return {
      outcome: result.outcome.targetId ? 'recreated' : 'reported',
      logId: log.id,
      displayName: log.sourceDisplayName,
    };
  } finally {
    await releaseClaims(store, appId, objectType, [link.sourceId], pass.holder);
  }
}

/** The workflow's last word on a pass that could not finish. */
export async function failReconcilePass(s: CycleServices, input: { passId: string; error: string }): Promise<void> {
  const pass = await s.store.reconcile.getPass(input.passId);
  if (pass?.status === 'running') await s.store.reconcile.finishPass(input.passId, { error: input.error });
}
