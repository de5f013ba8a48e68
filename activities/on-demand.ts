// On-demand provisioning (DESIGN.md §2): the whole pipeline for one user — or one group with its
// members — now, with every step reported: test connection, import, scoping, matching, action.
// It claims the object first, so it never runs at the same time as a cycle batch holding it.
import { logEntryId, type LinkRecord } from '../store/index.ts';
import type { DirectoryGroup, DirectoryUser } from '../engine/types.ts';
import type { AppRuntime } from './app-runtime.ts';
import { loadDirectoryContext, type DirectoryContext } from './cycle-context.ts';
import type { CycleServices } from './cycle.ts';
import { recordOutcomes } from './cycle.ts';
import { claimAll, releaseClaims } from './object-locks.ts';
import { CycleStop, provisionObject, type ObjectOutcome, type SourceObject } from './pipeline.ts';
import { captureRequests, type CapturedRequest } from './request-capture.ts';
import type { OnDemandInput, OnDemandReport, OnDemandStep } from './types.ts';

const LOCK_TTL_MS = 2 * 60_000;

function stepsOf(outcome: ObjectOutcome): OnDemandStep[] {
  const steps: OnDemandStep[] = [];
  const find = (name: string) => outcome.log.steps.filter((s) => s.name === name);
  const importStep = find('import')[0];
  steps.push({ name: 'import', status: importStep?.status ?? 'Success', details: importStep?.details ?? {} });
  if (outcome.scope) {
    steps.push({
      name: 'scoping',
      status: outcome.scope.inScope ? 'Success' : 'Skipped',
      details: {
        inScope: outcome.scope.inScope,
        checks: outcome.scope.checks,
        filters: outcome.scope.filters,
      },
    });
  } else {
    steps.push({ name: 'scoping', status: 'Skipped', details: { detail: 'the object is not in the directory' } });
  }
  const matchStep = find('matching')[0];
  steps.push({
    name: 'matching',
    status: matchStep?.status ?? 'Skipped',
    details: {
      ...(matchStep?.details ?? {}),
      ...(outcome.matching ? { attempts: outcome.matching.attempts, outcome: outcome.matching.outcome.outcome } : {}),
    },
  });
  const processing = find('processing');
  const exported = find('export');
  const failed = outcome.log.status === 'Failure';
  steps.push({
    name: 'action',
    status: failed ? 'Failure' : outcome.action === 'Skip' ? 'Skipped' : outcome.log.status,
    details: {
      action: outcome.action,
      ...(processing[0]?.details ?? {}),
      ...(exported.length > 0 ? { export: exported.map((s) => s.details) } : {}),
      modifiedAttributes: outcome.modifiedAttributes,
      ...(outcome.log.errorCode ? { errorCode: outcome.log.errorCode, errorMessage: outcome.log.errorMessage } : {}),
    },
  });
  return steps;
}

function withBodies(requests: CapturedRequest[], bodies: unknown[]): OnDemandReport['requests'] {
  // The writes carry the bodies Ferry sent, in order (resources and PATCH operations; never credentials).
  const writes = requests.filter((r) => r.method !== 'GET');
  writes.forEach((r, i) => {
    if (bodies[i] !== undefined) r.body = bodies[i];
  });
  return requests;
}

export async function provisionOnDemand(s: CycleServices, input: OnDemandInput): Promise<OnDemandReport> {
  const started = Date.now();
  const { store } = s;
  const runtime = await s.runtimes.get(input.appId);
  const holder = `ondemand:${input.requestId}`;
  const report = (
    partial: Partial<OnDemandReport> & Pick<OnDemandReport, 'action' | 'status' | 'steps'>,
  ): OnDemandReport => ({
    requestId: input.requestId,
    objectType: input.objectType,
    objectId: input.objectId,
    targetId: null,
    modifiedAttributes: [],
    requests: [],
    durationMs: Date.now() - started,
    ...partial,
  });

  // 1. test connection (shown when it fails)
  const connection = await captureRequests(() => runtime.client.testConnection());
  if (!connection.result.ok) {
    return report({
      action: 'Other',
      status: 'Failure',
      steps: [
        {
          name: 'testConnection',
          status: 'Failure',
          details: { reason: connection.result.reason, message: connection.result.message },
        },
      ],
      requests: connection.requests,
    });
  }
  const connectionStep: OnDemandStep = {
    name: 'testConnection',
    status: 'Success',
    details: { detail: 'the target answered a SCIM query' },
  };

  const directory = await loadDirectoryContext(store, runtime);
  if (input.objectType === 'user') {
    const result = await provisionOne(s, runtime, directory, input, holder, 'user', input.objectId);
    if ('missing' in result)
      return report({ action: 'Other', status: 'Failure', steps: [connectionStep, result.missing] });
    const { outcome, requests } = result;
    return report({
      action: outcome.action,
      status: outcome.log.status,
      targetId: outcome.targetId,
      steps: [connectionStep, ...stepsOf(outcome)],
      modifiedAttributes: outcome.modifiedAttributes,
      requests,
      logSteps: outcome.log.steps,
    });
  }

  // A group: its (flattened) users first, so they can be members, then the group itself.
  const group = await store.directory.getGroup(input.objectId);
  const members: NonNullable<OnDemandReport['members']> = [];
  const allRequests: OnDemandReport['requests'] = [];
  if (group) {
    const users = await store.directory.transitiveMembersOf(group.id, 'user');
    for (const { memberId } of users) {
      const r = await provisionOne(s, runtime, directory, input, holder, 'user', memberId);
      if ('missing' in r) continue;
      members.push({
        objectId: memberId,
        action: r.outcome.action,
        status: r.outcome.log.status,
        targetId: r.outcome.targetId,
      });
      allRequests.push(...r.requests);
    }
  }
  const result = await provisionOne(s, runtime, directory, input, holder, 'group', input.objectId);
  if ('missing' in result)
    return report({ action: 'Other', status: 'Failure', steps: [connectionStep, result.missing], members });
  allRequests.push(...result.requests);
  return report({
    action: result.outcome.action,
    status: result.outcome.log.status,
    targetId: result.outcome.targetId,
    steps: [connectionStep, ...stepsOf(result.outcome)],
    modifiedAttributes: result.outcome.modifiedAttributes,
    requests: allRequests,
    members,
    logSteps: result.outcome.log.steps,
  });
}

async function provisionOne(
  s: CycleServices,
  runtime: AppRuntime,
  directory: DirectoryContext,
  input: OnDemandInput,
  holder: string,
  objectType: 'user' | 'group',
  objectId: string,
): Promise<{ outcome: ObjectOutcome; requests: OnDemandReport['requests'] } | { missing: OnDemandStep }> {
  const { store } = s;
  const appId = input.appId;
  const unclaimed = await claimAll(store, appId, objectType, [objectId], holder, {
    ttlMs: LOCK_TTL_MS,
    waitMs: s.deps.lockWaitMs ?? 30_000,
  });
  if (unclaimed.length > 0)
    throw new Error(`${objectType} ${objectId} is being provisioned by a cycle; try again shortly`);
  try {
    const object: DirectoryUser | DirectoryGroup | null =
      objectType === 'user' ? await store.directory.getUser(objectId) : await store.directory.getGroup(objectId);
    const link = await store.links.get(appId, objectType, objectId);
    if (!object && !link) {
      return {
        missing: {
          name: 'import',
          status: 'Failure',
          details: { detail: `${objectType} ${objectId} is not in the directory` },
        },
      };
    }
    const source = (objectType === 'user' ? { type: 'user', object } : { type: 'group', object }) as SourceObject;
    const referenced = new Set<string>();
    if (objectType === 'user' && object && (object as DirectoryUser).managerId)
      referenced.add((object as DirectoryUser).managerId as string);
    if (objectType === 'group') {
      for (const m of await store.directory.transitiveMembersOf(objectId, 'user')) referenced.add(m.memberId);
    }
    const userLinks: Map<string, LinkRecord> = referenced.size
      ? await store.links.getMany(appId, 'user', [...referenced])
      : new Map();
    const now = s.now();
    const ctx = {
      runtime,
      directory,
      now,
      cycleId: null,
      logId: logEntryId('ondemand', input.requestId, objectType, objectId),
      changeId: null,
      onDemand: true,
      targetIndex: null,
      userLinks,
      holdDeletions: false,
    };
    let captured;
    try {
      captured = await captureRequests(() => provisionObject(ctx, source, link));
    } catch (error) {
      if (error instanceof CycleStop) {
        const failed: ObjectOutcome = {
          objectType,
          objectId,
          status: 'failed',
          action: 'Other',
          targetId: link?.targetId ?? null,
          link: { kind: 'none' },
          unresolvedPaths: [],
          operations: 0,
          modifiedAttributes: [],
          bodies: [],
          scope: null,
          matching: null,
          log: {
            id: ctx.logId,
            time: now.toISOString(),
            appId,
            cycleId: null,
            changeId: null,
            objectType,
            sourceId: objectId,
            sourceDisplayName: null,
            targetId: link?.targetId ?? null,
            action: 'Other',
            status: 'Failure',
            errorCode: error.failure.code,
            errorMessage: error.failure.message,
            steps: [{ name: 'export', status: 'Failure', details: { error: error.failure.message } }],
            modifiedAttributes: [],
            durationMs: 0,
            onDemand: true,
          },
        };
        await store.logs.insert([failed.log]);
        return { outcome: failed, requests: [] };
      }
      throw error;
    }
    const outcome = captured.result;
    await store.transaction((tx) => recordOutcomes(tx, appId, null, [{ seq: null, outcome }]));
    return { outcome, requests: withBodies(captured.requests, outcome.bodies) };
  } finally {
    await releaseClaims(store, appId, objectType, [objectId], holder);
  }
}
