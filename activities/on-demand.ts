// On-demand provisioning: the whole pipeline for one user — or one group with its
// members — now, with every step reported: test connection, import, scoping, matching, action.
// It claims the object first, so it never runs at the same time as a cycle batch holding it. Each
// step is written to the store as it completes (on-demand-progress.ts), so the API can show it live.
import { logEntryId } from '../store/index.ts';
import type { AppRuntime } from './app-runtime.ts';
import { loadDirectoryContext, type DirectoryContext } from './cycle-context.ts';
import type { CycleServices } from './cycle.ts';
import { provisionHeldObject } from './held-object.ts';
import { claimAll, newLockHolder, releaseClaims, type LockHolder } from './object-locks.ts';
import type { ObjectOutcome } from './pipeline.ts';
import { captureRequests, type CapturedRequest } from './request-capture.ts';
import type { OnDemandInput, OnDemandReport, OnDemandStep } from './types.ts';
import { ON_DEMAND_MAX_GROUP_MEMBERS } from '../workflows/messages.ts';
import { onDemandFailure, toActivityFailure } from './failures.ts';
import { moduleLogger } from './deps.ts';
import { OnDemandProgressRecorder } from './on-demand-progress.ts';
import type { LogStep } from '../engine/types.ts';
import { ApplicationFailure } from '@temporalio/common';

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

/** Method, path and status of each request: no bodies (personal data, payload size) in the report. */
function requestLines(requests: CapturedRequest[]): OnDemandReport['requests'] {
  return requests.map(({ method, path, status }) => ({ method, path, status }));
}

export async function provisionOnDemand(s: CycleServices, input: OnDemandInput): Promise<OnDemandReport> {
  const progress = new OnDemandProgressRecorder(s.store, input, moduleLogger(s.deps.logger, 'on-demand'), s.now());
  let report: OnDemandReport;
  try {
    report = await runOnDemand(s, input, progress);
  } catch (error) {
    const failure = toActivityFailure(error);
    const type = failure instanceof ApplicationFailure && failure.type ? failure.type : failure.name;
    const final = failure instanceof ApplicationFailure && failure.nonRetryable === true;
    await progress.fail({ type, message: failure.message }, final);
    throw failure;
  }
  await progress.finish(report);
  return report;
}

async function runOnDemand(
  s: CycleServices,
  input: OnDemandInput,
  progress: OnDemandProgressRecorder,
): Promise<OnDemandReport> {
  const started = Date.now();
  const { store } = s;
  const runtime = await s.runtimes.get(input.appId);
  const holder = await newLockHolder(store, `ondemand:${input.requestId}`);
  const report = (
    partial: Partial<OnDemandReport> & Pick<OnDemandReport, 'action' | 'status' | 'steps'>,
  ): OnDemandReport => {
    const requests = partial.requests ?? [];
    const members = partial.members ?? [];
    return {
      requestId: input.requestId,
      objectType: input.objectType,
      objectId: input.objectId,
      targetId: null,
      modifiedAttributes: [],
      logId: null,
      durationMs: Date.now() - started,
      ...partial,
      requests: requestLines(requests),
      counts: {
        requests: requests.length,
        members: members.length,
        membersFailed: members.filter((m) => m.status === 'Failure').length,
      },
    };
  };

  // A group brings its users along: at most ON_DEMAND_MAX_GROUP_MEMBERS, checked before anything is sent.
  const memberUserIds =
    input.objectType === 'group'
      ? (await store.directory.transitiveMembersOf(input.objectId, 'user')).map((m) => m.memberId)
      : [];
  if (input.objectType === 'group') {
    const count = memberUserIds.length;
    if (count > ON_DEMAND_MAX_GROUP_MEMBERS) {
      throw onDemandFailure(
        'TooManyMembers',
        `group ${input.objectId} has ${count} users; on-demand provisions a group with at most ${ON_DEMAND_MAX_GROUP_MEMBERS} (the next cycle provisions larger groups)`,
        { members: count, limit: ON_DEMAND_MAX_GROUP_MEMBERS },
      );
    }
  }

  // 1. test connection (shown when it fails)
  const connection = await captureRequests(() => runtime.client.testConnection());
  if (!connection.result.ok) {
    const failed: OnDemandStep = {
      name: 'testConnection',
      status: 'Failure',
      details: { reason: connection.result.reason, message: connection.result.message },
    };
    progress.step(failed);
    return report({ action: 'Other', status: 'Failure', steps: [failed], requests: connection.requests });
  }
  const connectionStep: OnDemandStep = {
    name: 'testConnection',
    status: 'Success',
    details: { detail: 'the target answered a SCIM query' },
  };
  progress.step(connectionStep);
  // The pipeline steps of the object asked for (not those of a group's members) are shown as they complete.
  const onStep = (step: LogStep) => progress.step(step);

  // The memberships this request walks (the object's groups; a group's members), not the directory's.
  const directory = await loadDirectoryContext(store, runtime, {
    up: [input.objectId, ...memberUserIds],
    down: input.objectType === 'group' ? [input.objectId] : [],
  });
  if (input.objectType === 'user') {
    const result = await provisionOne(s, runtime, directory, input, holder, 'user', input.objectId, onStep);
    if ('missing' in result) {
      progress.step(result.missing);
      return report({ action: 'Other', status: 'Failure', steps: [connectionStep, result.missing] });
    }
    const { outcome, requests } = result;
    return report({
      action: outcome.action,
      status: outcome.log.status,
      targetId: outcome.targetId,
      steps: [connectionStep, ...stepsOf(outcome)],
      modifiedAttributes: outcome.modifiedAttributes,
      requests,
      logId: outcome.log.id,
    });
  }

  // A group: its (flattened) users first, so they can be members, then the group itself.
  const group = await store.directory.getGroup(input.objectId);
  const members: NonNullable<OnDemandReport['members']> = [];
  const allRequests: OnDemandReport['requests'] = [];
  if (group) {
    for (const memberId of memberUserIds) {
      const r = await provisionOne(s, runtime, directory, input, holder, 'user', memberId);
      if ('missing' in r) continue;
      const member = {
        objectId: memberId,
        action: r.outcome.action,
        status: r.outcome.log.status,
        targetId: r.outcome.targetId,
      };
      members.push(member);
      progress.step({
        name: 'member',
        status: member.status,
        objectId: memberId,
        details: {
          action: member.action,
          targetId: member.targetId,
          ...(r.outcome.log.errorCode
            ? { errorCode: r.outcome.log.errorCode, errorMessage: r.outcome.log.errorMessage }
            : {}),
        },
      });
      allRequests.push(...r.requests);
    }
  }
  const result = await provisionOne(s, runtime, directory, input, holder, 'group', input.objectId, onStep);
  if ('missing' in result) {
    progress.step(result.missing);
    return report({ action: 'Other', status: 'Failure', steps: [connectionStep, result.missing], members });
  }
  allRequests.push(...result.requests);
  return report({
    action: result.outcome.action,
    status: result.outcome.log.status,
    targetId: result.outcome.targetId,
    steps: [connectionStep, ...stepsOf(result.outcome)],
    modifiedAttributes: result.outcome.modifiedAttributes,
    requests: allRequests,
    members,
    logId: result.outcome.log.id,
  });
}

async function provisionOne(
  s: CycleServices,
  runtime: AppRuntime,
  directory: DirectoryContext,
  input: OnDemandInput,
  holder: LockHolder,
  objectType: 'user' | 'group',
  objectId: string,
  onStep?: (step: LogStep) => void,
): Promise<{ outcome: ObjectOutcome; requests: OnDemandReport['requests'] } | { missing: OnDemandStep }> {
  const { store } = s;
  const appId = input.appId;
  const unclaimed = await claimAll(store, appId, objectType, [objectId], holder, {
    ttlMs: LOCK_TTL_MS,
    waitMs: s.deps.lockWaitMs ?? 30_000,
  });
  if (unclaimed.length > 0)
    throw onDemandFailure('ObjectBusy', `${objectType} ${objectId} is being provisioned by a cycle; try again shortly`);
  try {
    const result = await provisionHeldObject(s, runtime, directory, {
      appId,
      objectType,
      objectId,
      holder,
      logId: logEntryId('ondemand', input.requestId, objectType, objectId),
      onDemand: true,
      ...(onStep ? { onStep } : {}),
    });
    if ('missing' in result) {
      return {
        missing: {
          name: 'import',
          status: 'Failure',
          details: { detail: `${objectType} ${objectId} is not in the directory` },
        },
      };
    }
    return { outcome: result.outcome, requests: result.requests };
  } finally {
    await releaseClaims(store, appId, objectType, [objectId], holder);
  }
}
