// The writer of one object's provisioning log entry: each step records what it did here (steps,
// changed attributes, request bodies, request count, scope and match results, the target id), and
// `finish` turns that into the object's outcome with its log entry.
import type { MatchDecision } from '../../engine/matching/index.ts';
import type { MemberProgress } from '../../engine/planning/index.ts';
import type { ScopeResult } from '../../engine/scoping/index.ts';
import type { ErrorCode, LogStatus, LogStep, ModifiedAttribute, ProvisioningAction } from '../../engine/types.ts';
import type { LinkRecord } from '../../store/index.ts';
import type { LinkWrite, ObjectContext, ObjectOutcome, SourceObject, WorkStatusOutcome } from './types.ts';

export interface FinishDetails {
  errorCode?: ErrorCode | null;
  errorMessage?: string | null;
  unresolvedPaths?: string[];
}

function statusOf(action: ProvisioningAction): LogStatus {
  if (action === 'Skip') return 'Skipped';
  if (action === 'StagedDelete') return 'Warning';
  return 'Success';
}

/** The name a log entry shows: the directory's, or the last known one of a hard-deleted object. */
export function displayName(source: SourceObject): string | null {
  if (!source.object) return source.lastKnownName ?? null;
  if (source.type === 'user') return source.object.displayName ?? source.object.userPrincipalName;
  return source.object.displayName;
}

export class OutcomeWriter {
  readonly steps: LogStep[] = [];
  readonly modified: ModifiedAttribute[] = [];
  readonly bodies: unknown[] = [];
  /** Requests sent to the target for this object. */
  operations = 0;
  scope: ScopeResult | null = null;
  matching: MatchDecision | null = null;
  /** A group's member writes of this cycle up to this pass (set when its members were planned). */
  memberProgress: MemberProgress | null = null;
  /** The action decided so far: a failure after the decision is logged under it. */
  planned: ProvisioningAction = 'Other';
  /** The object's account at the target: the link's, then the matched or created one. */
  targetId: string | null;
  private readonly started = Date.now();

  constructor(
    private readonly ctx: ObjectContext,
    private readonly source: SourceObject,
    link: LinkRecord | null,
  ) {
    this.targetId = link?.targetId ?? null;
  }

  step(name: LogStep['name'], status: LogStep['status'], details: Record<string, unknown>): void {
    const step = { name, status, details };
    this.steps.push(step);
    this.ctx.onStep?.(step);
  }

  finish(
    action: ProvisioningAction,
    status: WorkStatusOutcome,
    linkWrite: LinkWrite,
    extra: FinishDetails = {},
  ): ObjectOutcome {
    const { ctx, source } = this;
    return {
      objectType: source.type,
      objectId: source.id,
      status,
      action,
      targetId: this.targetId,
      link: linkWrite,
      unresolvedPaths: extra.unresolvedPaths ?? [],
      operations: this.operations,
      modifiedAttributes: this.modified,
      bodies: this.bodies,
      scope: this.scope,
      matching: this.matching,
      memberProgress: this.memberProgress,
      log: {
        id: ctx.logId,
        time: ctx.now.toISOString(),
        appId: ctx.runtime.app.id,
        cycleId: ctx.cycleId,
        changeId: ctx.changeId,
        objectType: source.type,
        sourceId: source.id,
        sourceDisplayName: displayName(source),
        targetId: this.targetId,
        action,
        status: status === 'failed' || status === 'escrowed' ? 'Failure' : statusOf(action),
        errorCode: extra.errorCode ?? null,
        errorMessage: extra.errorMessage ?? null,
        steps: this.steps,
        modifiedAttributes: this.modified,
        durationMs: Date.now() - this.started,
        onDemand: ctx.onDemand,
      },
    };
  }
}
