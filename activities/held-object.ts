// One object the caller already holds the lock of, run through the whole pipeline now (import →
// scope → match → decide → export) and its outcome recorded (link, log entry) in one transaction.
// On-demand provisioning and reconcile passes (re-creating an account deleted in the target) both
// run objects this way; each takes and gives back the object's lock around it.
import { type LinkTarget } from '../store/index.ts';
import type { DirectoryGroup, DirectoryUser, LogStep } from '../engine/types.ts';
import type { AppRuntime } from './app-runtime.ts';
import type { DirectoryContext } from './cycle-context.ts';
import type { CycleServices } from './cycle.ts';
import { recordOutcomes } from './cycle.ts';
import { createIntentRecorder } from './create-intents.ts';
import { assertClaimHeld, type LockHolder } from './object-locks.ts';
import { CycleStop, displayName, provisionObject, type ObjectOutcome, type SourceObject } from './pipeline.ts';
import { captureRequests, type CapturedRequest } from './request-capture.ts';

export interface HeldObject {
  appId: string;
  objectType: 'user' | 'group';
  objectId: string;
  holder: LockHolder;
  /** The id of its provisioning log entry (stable per request, so a retry logs once). */
  logId: string;
  onDemand: boolean;
  /** Hears of each pipeline step as it completes (on-demand progress). */
  onStep?: (step: LogStep) => void;
}

/** `missing`: the object is neither in the directory nor linked: nothing to run. */
export async function provisionHeldObject(
  s: CycleServices,
  runtime: AppRuntime,
  directory: DirectoryContext,
  held: HeldObject,
): Promise<{ outcome: ObjectOutcome; requests: CapturedRequest[] } | { missing: true }> {
  const { store } = s;
  const { appId, objectType, objectId } = held;
  const object: DirectoryUser | DirectoryGroup | null =
    objectType === 'user' ? await store.directory.getUser(objectId) : await store.directory.getGroup(objectId);
  const link = await store.links.get(appId, objectType, objectId);
  if (!object && !link) return { missing: true };
  const lastKnownName = object
    ? null
    : ((await store.changes.lastKnownNames(objectType, [objectId])).get(objectId) ?? null);
  const source = (
    objectType === 'user'
      ? { type: 'user', id: objectId, object, lastKnownName }
      : { type: 'group', id: objectId, object, lastKnownName }
  ) as SourceObject;
  const referenced = new Set<string>();
  if (objectType === 'user' && object && (object as DirectoryUser).managerId)
    referenced.add((object as DirectoryUser).managerId as string);
  if (objectType === 'group') {
    for (const m of await store.directory.transitiveMembersOf(objectId, 'user')) referenced.add(m.memberId);
  }
  const userLinks: Map<string, LinkTarget> = referenced.size
    ? await store.links.targetsOf(appId, 'user', [...referenced])
    : new Map();
  const now = s.now();
  const ctx = {
    runtime,
    directory,
    now,
    cycleId: null,
    logId: held.logId,
    changeId: null,
    onDemand: held.onDemand,
    targetIndex: null,
    userLinks,
    holdDeletions: false,
    recordCreateIntent: createIntentRecorder(store, appId, s.now),
    assertClaimHeld: () => assertClaimHeld(store, appId, objectType, objectId, held.holder),
    ...(held.onStep ? { onStep: held.onStep } : {}),
  };
  let captured;
  try {
    captured = await captureRequests(() => provisionObject(ctx, source, link));
  } catch (error) {
    if (!(error instanceof CycleStop)) throw error;
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
        sourceDisplayName: displayName(source),
        targetId: link?.targetId ?? null,
        action: 'Other',
        status: 'Failure',
        errorCode: error.failure.code,
        errorMessage: error.failure.message,
        steps: [{ name: 'export', status: 'Failure', details: { error: error.failure.message } }],
        modifiedAttributes: [],
        durationMs: 0,
        onDemand: held.onDemand,
      },
    };
    await store.logs.insert([failed.log]);
    return { outcome: failed, requests: [] };
  }
  const outcome = captured.result;
  await store.transaction((tx) => recordOutcomes(tx, appId, null, [{ seq: null, outcome }]));
  return { outcome, requests: captured.requests };
}
