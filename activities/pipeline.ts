// One object through the pipeline of DESIGN.md §2: scope → match → plan → export. Used by cycle
// batches and by on-demand provisioning. It performs the SCIM requests and RETURNS what must be
// written (link change, log entry, work outcome); the caller writes it in one transaction.
import { randomUUID } from 'node:crypto';
import { FerryError, PermanentError } from '../engine/errors.ts';
import { checkConnectorLimitations } from '../engine/config/index.ts';
import { hashResource } from '../engine/hash.ts';
import {
  applyMappings,
  groupSourceAttributes,
  userSourceAttributes,
  type MappingResult,
} from '../engine/mapping/index.ts';
import {
  classifyMatch,
  lookupInIndex,
  matchCandidates,
  matchInOrder,
  type MatchCandidate,
  type MatchDecision,
  type TargetIndex,
} from '../engine/matching/index.ts';
import { desiredHash, diffResource, planGroupMembers, planObject, type Plan } from '../engine/planning/index.ts';
import { nextEscrowRetry } from '../engine/policies/escrow.ts';
import { evaluateScope, scopeDetails, type ScopeResult } from '../engine/scoping/index.ts';
import type {
  DirectoryGroup,
  DirectoryUser,
  ErrorCode,
  LogStatus,
  LogStep,
  ModifiedAttribute,
  ObjectType,
  ProvisioningAction,
  ProvisioningLogEntry,
  ScimResource,
} from '../engine/types.ts';
import type { ScimResourceType } from '../scim/index.ts';
import type { LinkRecord, LinkUpsert } from '../store/index.ts';
import type { AppRuntime } from './app-runtime.ts';
import type { DirectoryContext } from './cycle-context.ts';
import type { CycleFailure } from './types.ts';

export type SourceObject =
  { type: 'user'; object: DirectoryUser | null } | { type: 'group'; object: DirectoryGroup | null };

export interface ObjectContext {
  runtime: AppRuntime;
  directory: DirectoryContext;
  now: Date;
  cycleId: string | null;
  /** Deterministic provisioning-log id of this object's entry. */
  logId: string;
  changeId: string | null;
  onDemand: boolean;
  /** In-memory matching index (initial cycles), or null to query the target per object. */
  targetIndex: TargetIndex | null;
  /** Links of users this object refers to (manager, group members), by source id. */
  userLinks: ReadonlyMap<string, LinkRecord>;
  /** Disables/deletes are held back (the deletion guard is exceeded and not approved). */
  holdDeletions: boolean;
  /**
   * Groups: whether the member set may have changed (default true). False when neither the group's
   * nesting below it nor the links of its users changed this cycle: members are then left alone.
   */
  checkMembers?: boolean;
}

export type LinkWrite =
  | { kind: 'upsert'; link: LinkUpsert }
  | { kind: 'delete' }
  | { kind: 'failure'; error: string; errorCode: ErrorCode; nextRetryAt: string | null; firstFailedAt: string }
  | { kind: 'none' };

export type WorkStatusOutcome = 'done' | 'pendingRefs' | 'failed' | 'escrowed' | 'staged';

export interface ObjectOutcome {
  objectType: ObjectType;
  objectId: string;
  status: WorkStatusOutcome;
  action: ProvisioningAction;
  /** The action recorded on the cycle's work item when it differs (references keep the first pass's). */
  workAction?: string;
  /** Its standing as a group member (linked and active) changed: groups containing it are re-planned. */
  linkChanged?: boolean;
  targetId: string | null;
  link: LinkWrite;
  log: ProvisioningLogEntry;
  /** Paths of references (manager) left for the references phase. */
  unresolvedPaths: string[];
  /** Requests were sent to the target for this object. */
  operations: number;
  modifiedAttributes: ModifiedAttribute[];
  /** For on-demand: the request bodies sent (no secrets: resources and PATCH operations only). */
  bodies: unknown[];
  scope: ScopeResult | null;
  matching: MatchDecision | null;
}

/** Thrown out of the pipeline when the target rejects the app as a whole (401/403, non-SCIM). */
export class CycleStop extends Error {
  constructor(readonly failure: CycleFailure) {
    super(failure.message);
    this.name = 'CycleStop';
  }
}

const resourceType = (type: ObjectType): ScimResourceType => (type === 'user' ? 'Users' : 'Groups');

function mappingEnv(now: Date) {
  return { now: () => now, random: Math.random, guid: () => randomUUID() };
}

function statusOf(action: ProvisioningAction): LogStatus {
  if (action === 'Skip') return 'Skipped';
  if (action === 'StagedDelete') return 'Warning';
  return 'Success';
}

function displayName(source: SourceObject): string | null {
  if (!source.object) return null;
  if (source.type === 'user') return source.object.displayName ?? source.object.userPrincipalName;
  return source.object.displayName;
}

/** Group links hash the resource and the member set: `resource|members`. */
function splitGroupHash(hash: string | null): { resource: string | null; members: string | null } {
  if (hash === null) return { resource: null, members: null };
  const at = hash.indexOf('|');
  return at < 0 ? { resource: hash, members: null } : { resource: hash.slice(0, at), members: hash.slice(at + 1) };
}

function membersHash(targetIds: readonly string[]): string {
  return hashResource([...targetIds].sort());
}

class Recorder {
  readonly steps: LogStep[] = [];
  readonly modified: ModifiedAttribute[] = [];
  readonly bodies: unknown[] = [];
  operations = 0;
  step(name: LogStep['name'], status: LogStep['status'], details: Record<string, unknown>): void {
    this.steps.push({ name, status, details });
  }
}

/** Runs the pipeline for one object. Throws CycleStop for configuration failures; other Ferry errors become escrow. */
export async function provisionObject(
  ctx: ObjectContext,
  source: SourceObject,
  link: LinkRecord | null,
): Promise<ObjectOutcome> {
  const started = Date.now();
  const rec = new Recorder();
  const objectId = source.object?.id ?? '';
  const base = { objectType: source.type, objectId };
  let scope: ScopeResult | null = null;
  let matching: MatchDecision | null = null;
  let planned: ProvisioningAction = 'Other';
  let targetId: string | null = link?.targetId ?? null;

  const finish = (
    action: ProvisioningAction,
    status: WorkStatusOutcome,
    linkWrite: LinkWrite,
    extra: { errorCode?: ErrorCode | null; errorMessage?: string | null; unresolvedPaths?: string[] } = {},
  ): ObjectOutcome => ({
    ...base,
    status,
    action,
    targetId,
    link: linkWrite,
    unresolvedPaths: extra.unresolvedPaths ?? [],
    operations: rec.operations,
    modifiedAttributes: rec.modified,
    bodies: rec.bodies,
    scope,
    matching,
    log: {
      id: ctx.logId,
      time: ctx.now.toISOString(),
      appId: ctx.runtime.app.id,
      cycleId: ctx.cycleId,
      changeId: ctx.changeId,
      objectType: source.type,
      sourceId: objectId,
      sourceDisplayName: displayName(source),
      targetId,
      action,
      status: status === 'failed' || status === 'escrowed' ? 'Failure' : statusOf(action),
      errorCode: extra.errorCode ?? null,
      errorMessage: extra.errorMessage ?? null,
      steps: rec.steps,
      modifiedAttributes: rec.modified,
      durationMs: Date.now() - started,
      onDemand: ctx.onDemand,
    },
  });

  try {
    return await run();
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
    if (error.kind === 'configuration') {
      throw new CycleStop({ kind: error.kind, code: error.code, message: error.message });
    }
    rec.step('export', 'Failure', {
      error: error.message,
      code: error.code,
      ...(error.status ? { status: error.status } : {}),
    });
    const failureCount = (link?.failureCount ?? 0) + 1;
    const firstFailedAt = link?.firstFailedAt ?? ctx.now.toISOString();
    const decision = nextEscrowRetry({
      failureCount,
      firstFailedAt,
      now: ctx.now,
      kind: error.kind,
      retryAfterMs: error.retryAfterMs,
    });
    // "Next cycle" is stored as due now, so the next cycle stages it.
    const nextRetryAt = decision.giveUp ? null : (decision.retryAt ?? ctx.now.toISOString());
    return finish(
      planned,
      decision.giveUp ? 'failed' : 'escrowed',
      { kind: 'failure', error: error.message, errorCode: error.code, nextRetryAt, firstFailedAt },
      { errorCode: error.code, errorMessage: error.message },
    );
  }

  async function run(): Promise<ObjectOutcome> {
    const { runtime } = ctx;
    const typeConfig = runtime.config.objectTypes[source.type];
    const compiled = source.type === 'user' ? runtime.compiled.user : runtime.compiled.group;
    if (!typeConfig || !compiled || !typeConfig.enabled) {
      rec.step('import', 'Skipped', { reason: `${source.type} provisioning is not enabled for this app` });
      return finish('Skip', 'done', { kind: 'none' });
    }
    const client = runtime.client;
    const T = resourceType(source.type);
    const settings = { actions: typeConfig.actions, skipOutOfScopeDeletions: typeConfig.skipOutOfScopeDeletions };

    // 1. import
    if (!source.object) {
      rec.step('import', 'Success', { found: false, detail: 'not in the directory (hard-deleted)' });
    } else {
      rec.step('import', 'Success', {
        found: true,
        ...(source.object.deletedDateTime ? { softDeletedAt: source.object.deletedDateTime } : {}),
      });
    }

    // 2. scoping
    let inScope = false;
    if (source.object) {
      scope =
        source.type === 'user'
          ? evaluateScope({ objectType: 'user', object: source.object }, ctx.directory.scope.user)
          : evaluateScope({ objectType: 'group', object: source.object }, ctx.directory.scope.group);
      inScope = scope.inScope;
      rec.step('scoping', inScope ? 'Success' : 'Skipped', { inScope, ...scopeDetails(scope) });
    }

    const attributes = source.object
      ? source.type === 'user'
        ? userSourceAttributes(source.object)
        : groupSourceAttributes(source.object)
      : null;
    const resolveReference = (sourceId: string): string | null => {
      const l = ctx.userLinks.get(sourceId);
      return l && l.targetId && l.active ? l.targetId : null;
    };
    const mapFor = (operation: 'create' | 'update'): MappingResult | null =>
      attributes
        ? applyMappings(compiled, attributes, { operation, env: mappingEnv(ctx.now), resolveReference })
        : null;

    const hashes =
      source.type === 'group'
        ? splitGroupHash(link?.exportedHash ?? null)
        : { resource: link?.exportedHash ?? null, members: null };
    const planLink = link ? { ...link, exportedHash: hashes.resource } : null;
    const hardDeleted = source.object === null;

    // Out of scope or gone: no mapping, no match; only linked objects need anything.
    if (hardDeleted || !inScope) {
      const plan = planObject({
        objectType: source.type,
        source: hardDeleted ? 'hardDeleted' : 'present',
        inScope: false,
        link: planLink && planLink.targetId ? planLink : null,
        target: undefined,
        desired: null,
        settings,
        deletionGuard: ctx.holdDeletions,
      });
      planned = plan.action;
      rec.step('matching', 'Skipped', {
        detail: targetId ? `linked to target id ${targetId}` : 'not linked: nothing to match',
      });
      return exportRemoval(plan);
    }

    // In scope: the mapping decides what the target should hold.
    // Mapped lazily: a linked object needs the update mapping, a new one the create mapping.
    let createResult: MappingResult | undefined;
    let updateResult: MappingResult | undefined;
    const desiredCreate = () => (createResult ??= mapFor('create') as MappingResult);
    const desiredUpdate = () => (updateResult ??= mapFor('update') as MappingResult);
    let linked = link !== null && link.targetId !== null;
    const primary = linked ? desiredUpdate() : desiredCreate();
    const mappingErrors = [...primary.errors];
    if (mappingErrors.length > 0) {
      rec.step('processing', 'Failure', { mappingErrors: mappingErrors.map((e) => `${e.target}: ${e.message}`) });
      planned = 'Other';
      return finish(
        'Other',
        'failed',
        { kind: 'none' },
        { errorCode: mappingErrors[0].code, errorMessage: mappingErrors[0].message },
      );
    }
    const limitation = checkConnectorLimitations(runtime.config, primary.resource);
    if (!limitation.ok) {
      rec.step('processing', 'Skipped', { reason: limitation.message });
      return finish('Skip', 'done', { kind: 'none' }, { errorCode: limitation.code, errorMessage: limitation.message });
    }

    // 3. matching
    let target: ScimResource | null | undefined = undefined;
    let candidateList: MatchCandidate[] | undefined;
    const candidates = () => (candidateList ??= matchCandidates(compiled, desiredCreate().resource));
    if (linked) {
      rec.step('matching', 'Success', { detail: `linked to target id ${link?.targetId}` });
    } else {
      matching = await match(candidates());
      target = outcomeTarget(matching);
    }

    // 4. plan (+ fetch the target when the link's hash says something changed)
    let plan = planObject({
      objectType: source.type,
      source: 'present',
      inScope: true,
      link: linked ? planLink : null,
      target,
      desired: target === null ? desiredCreate() : desiredUpdate(),
      settings,
    });
    const membersDirty = source.type === 'group' && compiled.membersMapping !== null && ctx.checkMembers !== false;
    let current: ScimResource | null = target ?? null;
    if (plan.needsTarget || (membersDirty && linked && plan.action === 'Skip' && membersChanged())) {
      try {
        current = await client.get(T, targetId as string);
        rec.operations++;
      } catch (error) {
        if (!(error instanceof FerryError) || error.kind !== 'notFound') throw error;
        // The linked account is gone from the target: match again, create if still missing.
        rec.step('matching', 'Warning', { detail: `linked target id ${targetId} no longer exists; matching again` });
        linked = false;
        targetId = null;
        matching = await match(candidates());
        current = outcomeTarget(matching);
      }
      plan = planObject({
        objectType: source.type,
        source: 'present',
        inScope: true,
        link: linked ? planLink : null,
        target: current,
        desired: current === null ? desiredCreate() : desiredUpdate(),
        settings,
      });
    }
    if (source.type === 'group' && membersDirty && !linked && current !== null && current.id) {
      // Matched through a listing without members: read the group whole before diffing members.
      current = await client.get(T, current.id);
      rec.operations++;
    }
    planned = plan.action;
    rec.step('processing', 'Success', { action: plan.action, reason: plan.reason });

    // 5. export
    let resourceHash = plan.desiredHash;
    let action: ProvisioningAction = plan.action;
    if (plan.action === 'Create') {
      const body = plan.resource as ScimResource;
      rec.bodies.push(body);
      const created = await client.createOrAdopt(
        T,
        body,
        candidates().map((c) => ({ attribute: c.attribute, value: c.value })),
      );
      rec.operations++;
      targetId = created.resource.id ?? null;
      rec.modified.push(...plan.modifiedAttributes);
      if (created.adopted) {
        // Someone (or a lost response) created it already: bring the adopted account up to date.
        current = created.resource;
        const again = planObject({
          objectType: source.type,
          source: 'present',
          inScope: true,
          link: null,
          target: current,
          desired: desiredUpdate(),
          settings,
        });
        rec.step('export', 'Warning', { detail: `adopted existing target resource ${targetId}` });
        if (again.action === 'Update') {
          await client.patch(T, targetId as string, again.operations);
          rec.operations++;
          rec.bodies.push(again.operations);
        }
        resourceHash = again.desiredHash ?? resourceHash;
      } else {
        current = null;
        rec.step('export', 'Success', { request: `POST /${T}`, targetId });
      }
    } else if (plan.action === 'Update') {
      rec.bodies.push(plan.operations);
      await client.patch(T, targetId as string, plan.operations);
      rec.operations++;
      rec.modified.push(...plan.modifiedAttributes);
      rec.step('export', 'Success', { request: `PATCH /${T}/${targetId}`, operations: plan.operations.length });
    } else if (plan.action === 'Skip') {
      if (!linked && plan.targetId) targetId = plan.targetId;
    }
    if (action === 'Skip' && targetId === null) return finish('Skip', 'done', { kind: 'none' });

    // Group members: nested groups flattened to linked, in-scope users.
    let membersPart: string | null = null;
    if (source.type === 'group' && compiled.membersMapping && targetId && !membersDirty) {
      membersPart = hashes.members;
    } else if (source.type === 'group' && compiled.membersMapping && targetId) {
      const groupConfig = runtime.config.objectTypes.group;
      const memberPlan = planGroupMembers({
        groupId: objectId,
        memberships: ctx.directory.memberships,
        resolveMember: resolveReference,
        currentMemberIds: plan.action === 'Create' && current === null ? [] : current ? memberIdsOf(current) : null,
        chunkSize: groupConfig?.memberChunkSize ?? 100,
      });
      const desiredMembersHash = membersHash(memberPlan.desiredMemberIds);
      // A linked group whose members did not change was not fetched (current null): nothing to send.
      if (current !== null || plan.action === 'Create') {
        if (memberPlan.add.length > 0) {
          await client.addMembers(targetId, memberPlan.add, groupConfig?.memberChunkSize ?? 100);
          rec.operations += Math.ceil(memberPlan.add.length / (groupConfig?.memberChunkSize ?? 100));
          rec.modified.push({ name: 'members (added)', oldValue: null, newValue: memberPlan.add });
        }
        if (memberPlan.remove.length > 0) {
          await client.removeMembers(targetId, memberPlan.remove, groupConfig?.memberChunkSize ?? 100);
          rec.operations += Math.ceil(memberPlan.remove.length / (groupConfig?.memberChunkSize ?? 100));
          rec.modified.push({ name: 'members (removed)', oldValue: memberPlan.remove, newValue: null });
        }
        if ((memberPlan.add.length > 0 || memberPlan.remove.length > 0) && action === 'Skip') action = 'Update';
        rec.step('referenceResolution', 'Success', {
          members: memberPlan.desiredMemberIds.length,
          added: memberPlan.add.length,
          removed: memberPlan.remove.length,
          ...(memberPlan.unresolvedUserIds.length > 0
            ? { notProvisionedUsers: memberPlan.unresolvedUserIds.length }
            : {}),
        });
      }
      membersPart = desiredMembersHash;
    }

    // Manager and other references not linked yet: the references phase sets them.
    // Unresolved when mapped means not sent, even if the referenced user got linked meanwhile.
    const references = (plan.action === 'Create' ? desiredCreate() : desiredUpdate()).unresolvedReferences;
    const unresolvedPaths = references.map((r) => r.target);
    if (references.length > 0) {
      rec.step('referenceResolution', 'Warning', {
        unresolved: references.map((r) => `${r.target} → ${r.sourceId}`),
      });
    }
    const exportedHash = source.type === 'group' ? `${resourceHash}|${membersPart ?? ''}` : resourceHash;
    return finish(
      action,
      unresolvedPaths.length > 0 ? 'pendingRefs' : 'done',
      {
        kind: 'upsert',
        link: {
          appId: runtime.app.id,
          objectType: source.type,
          sourceId: objectId,
          targetId,
          exportedHash,
          active: true,
          failureCount: 0,
          firstFailedAt: null,
          nextRetryAt: null,
          lastError: null,
          lastErrorCode: null,
        },
      },
      { unresolvedPaths },
    );

    function membersChanged(): boolean {
      const plan = planGroupMembers({
        groupId: objectId,
        memberships: ctx.directory.memberships,
        resolveMember: resolveReference,
        currentMemberIds: [],
        chunkSize: 1000,
      });
      return hashes.members !== membersHash(plan.desiredMemberIds);
    }

    async function exportRemoval(removal: Plan): Promise<ObjectOutcome> {
      rec.step('processing', removal.action === 'Skip' ? 'Skipped' : 'Success', {
        action: removal.action,
        reason: removal.reason,
      });
      if (removal.action === 'StagedDelete') {
        return finish('StagedDelete', 'staged', { kind: 'none' });
      }
      if (removal.action === 'Disable') {
        rec.bodies.push(removal.operations);
        try {
          await client.patch(T, removal.targetId as string, removal.operations);
          rec.operations++;
        } catch (error) {
          if (!(error instanceof FerryError) || error.kind !== 'notFound') throw error;
          rec.operations++;
          rec.step('export', 'Warning', { detail: `target ${removal.targetId} is already gone` });
          return finish('Disable', 'done', { kind: 'delete' });
        }
        rec.modified.push(...removal.modifiedAttributes);
        rec.step('export', 'Success', { request: `PATCH /${T}/${removal.targetId}`, active: false });
        return finish('Disable', 'done', {
          kind: 'upsert',
          link: {
            appId: ctx.runtime.app.id,
            objectType: source.type,
            sourceId: objectId,
            active: false,
            failureCount: 0,
            nextRetryAt: null,
            firstFailedAt: null,
            lastError: null,
            lastErrorCode: null,
          },
        });
      }
      if (removal.action === 'Delete') {
        await client.delete(T, removal.targetId as string);
        rec.operations++;
        rec.step('export', 'Success', { request: `DELETE /${T}/${removal.targetId}` });
        return finish('Delete', 'done', { kind: 'delete' });
      }
      return finish(
        'Skip',
        'done',
        link && link.failureCount > 0
          ? {
              kind: 'upsert',
              link: {
                appId: ctx.runtime.app.id,
                objectType: source.type,
                sourceId: objectId,
                failureCount: 0,
                nextRetryAt: null,
                firstFailedAt: null,
                lastError: null,
                lastErrorCode: null,
              },
            }
          : { kind: 'none' },
      );
    }

    async function match(list: MatchCandidate[]): Promise<MatchDecision> {
      let decision: MatchDecision;
      if (ctx.targetIndex) {
        const index = ctx.targetIndex;
        decision = matchInOrder(list, (c) => lookupInIndex(index, c));
      } else {
        decision = { outcome: { outcome: 'notFound' }, attempts: [] };
        for (const candidate of list) {
          const page = await client.list(T, {
            filter: candidate.filter,
            ...(source.type === 'group' ? { excludedAttributes: ['members'] } : {}),
          });
          rec.operations++;
          const found = page.resources;
          decision.attempts.push({
            attribute: candidate.attribute,
            filter: candidate.filter,
            found: found.length,
            targetIds: found.map((r) => r.id ?? '').filter(Boolean),
          });
          if (found.length > 0) {
            decision.outcome = classifyMatch(found, candidate);
            break;
          }
        }
      }
      const outcome = decision.outcome;
      rec.step('matching', outcome.outcome === 'duplicate' ? 'Failure' : 'Success', {
        ...(ctx.targetIndex ? { source: 'bulk listing of the target' } : {}),
        attempts: decision.attempts.map(
          (a) => `${a.filter}: ${a.found} found${a.targetIds.length ? ` (${a.targetIds.join(', ')})` : ''}`,
        ),
        outcome: outcome.outcome,
      });
      if (outcome.outcome === 'duplicate') {
        throw new PermanentError(outcome.message, { code: 'DuplicateTargetEntries' });
      }
      return decision;
    }
  }
}

function outcomeTarget(decision: MatchDecision): ScimResource | null {
  return decision.outcome.outcome === 'matched' ? decision.outcome.resource : null;
}

function memberIdsOf(resource: ScimResource): string[] {
  const members = resource.members;
  if (!Array.isArray(members)) return [];
  return members
    .map((m) => (m && typeof m === 'object' ? (m as { value?: unknown }).value : undefined))
    .filter((v): v is string => typeof v === 'string');
}

/**
 * The references pass: references (manager) that were not linked when the object was exported
 * are set now, with a PATCH of just those paths. No GET: the first pass left them unset.
 */
export async function resolveReferences(
  ctx: ObjectContext,
  user: DirectoryUser,
  link: LinkRecord,
  paths: readonly string[],
): Promise<ObjectOutcome | null> {
  const started = Date.now();
  const { runtime } = ctx;
  const resolveReference = (sourceId: string): string | null => {
    const l = ctx.userLinks.get(sourceId);
    return l && l.targetId && l.active ? l.targetId : null;
  };
  const desired = applyMappings(runtime.compiled.user, userSourceAttributes(user), {
    operation: 'update',
    env: mappingEnv(ctx.now),
    resolveReference,
  });
  const resolvable = paths.filter((p) => desired.managedPaths.includes(p));
  if (resolvable.length === 0 || link.targetId === null) return null;
  const diff = diffResource({ schemas: [] }, desired.resource, resolvable);
  if (diff.operations.length === 0) return null;
  try {
    await runtime.client.patch('Users', link.targetId, diff.operations);
  } catch (error) {
    if (error instanceof FerryError && error.kind === 'configuration') {
      throw new CycleStop({ kind: error.kind, code: error.code, message: error.message });
    }
    throw error;
  }
  const steps: LogStep[] = [
    { name: 'referenceResolution', status: 'Success', details: { resolved: resolvable } },
    { name: 'export', status: 'Success', details: { request: `PATCH /Users/${link.targetId}` } },
  ];
  return {
    objectType: 'user',
    objectId: user.id,
    status: 'done',
    action: 'Update',
    targetId: link.targetId,
    link: {
      kind: 'upsert',
      link: { appId: runtime.app.id, objectType: 'user', sourceId: user.id, exportedHash: desiredHash(desired) },
    },
    unresolvedPaths: [],
    operations: 1,
    modifiedAttributes: diff.modifiedAttributes,
    bodies: [diff.operations],
    scope: null,
    matching: null,
    log: {
      id: ctx.logId,
      time: ctx.now.toISOString(),
      appId: runtime.app.id,
      cycleId: ctx.cycleId,
      changeId: ctx.changeId,
      objectType: 'user',
      sourceId: user.id,
      sourceDisplayName: user.displayName ?? user.userPrincipalName,
      targetId: link.targetId,
      action: 'Update',
      status: 'Success',
      errorCode: null,
      errorMessage: null,
      steps,
      modifiedAttributes: diff.modifiedAttributes,
      durationMs: Date.now() - started,
      onDemand: ctx.onDemand,
    },
  };
}
