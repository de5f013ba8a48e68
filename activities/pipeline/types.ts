// What goes into the pipeline for one object and what comes out of it: the caller writes the
// outcome (link change, log entry, work status) in one transaction.
import type { MatchDecision } from '../../engine/matching/index.ts';
import type { MemberProgress } from '../../engine/planning/index.ts';
import type { ScopeResult } from '../../engine/scoping/index.ts';
import type {
  DirectoryGroup,
  DirectoryUser,
  ErrorCode,
  LogStep,
  ModifiedAttribute,
  ObjectType,
  ProvisioningAction,
  ProvisioningLogEntry,
} from '../../engine/types.ts';
import type { LinkTarget, LinkUpsert } from '../../store/index.ts';
import type { AppRuntime } from '../app-runtime.ts';
import type { RecordCreateIntent } from '../create-intents.ts';
import type { DirectoryContext } from '../cycle-context.ts';
import type { TargetLookup } from '../target-listing.ts';
import type { BulkWrites } from './bulk-writes.ts';

/**
 * The object as the directory holds it, or `object: null` when it was hard-deleted. `id` is known
 * either way (from the staged work or the request); `lastKnownName` names a hard-deleted object.
 */
export type SourceObject = (
  { type: 'user'; object: DirectoryUser | null } | { type: 'group'; object: DirectoryGroup | null }
) & { id: string; lastKnownName?: string | null };

export interface ObjectContext {
  runtime: AppRuntime;
  directory: DirectoryContext;
  now: Date;
  cycleId: string | null;
  /** Deterministic provisioning-log id of this object's entry. */
  logId: string;
  changeId: string | null;
  onDemand: boolean;
  /** The target's listing (initial cycles, in the store), or null to query the target per object. */
  targetIndex: TargetLookup | null;
  /** Target ids of the users this object refers to (manager, group members), by source id. */
  userLinks: ReadonlyMap<string, LinkTarget>;
  /** Disables/deletes are held back (the deletion guard is exceeded and not approved). */
  holdDeletions: boolean;
  /** Makes the intent to create durable before the POST (create-intents.ts). */
  recordCreateIntent: RecordCreateIntent;
  /**
   * Fencing (object-locks.ts): throws when this attempt no longer holds the object's claim. Awaited
   * right before the first write to the target for the object; absent outside a claim (tests).
   */
  assertClaimHeld?: () => Promise<void>;
  /**
   * assertClaimHeld and recordCreateIntent of this object in one go (one query), for its first write
   * when that is a create; absent: the two are awaited one after the other.
   */
  assertClaimHeldRecordingCreate?: () => Promise<void>;
  /**
   * Groups: whether the member set may have changed (default true). False when neither the group's
   * nesting below it nor the links of its users changed this cycle: members are then left alone.
   */
  checkMembers?: boolean;
  /**
   * The cycle page's Bulk queue (bulk-writes.ts): creates, updates and disables go in `/Bulk`
   * requests. Absent or null: one request per write.
   */
  bulk?: BulkWrites | null;
  /**
   * Groups: the most member requests this pass may send (cycles: the page's request budget). A group
   * needing more is left `partial` and finished by the next passes (planGroupMembers.ts,
   * memberPassWithin). Absent: no bound (on-demand).
   */
  memberRequestBudget?: number;
  /**
   * Groups written over several passes: the member progress of this cycle's earlier passes (from the
   * work item), so the last pass logs the whole group's result. Absent: this is the first pass.
   */
  memberProgress?: MemberProgress | null;
  /** Hears of each step as it is recorded (on-demand shows them while the object is still running). */
  onStep?: (step: LogStep) => void;
}

export type LinkWrite =
  | { kind: 'upsert'; link: LinkUpsert }
  | { kind: 'delete' }
  | { kind: 'failure'; error: string; errorCode: ErrorCode; nextRetryAt: string | null; firstFailedAt: string }
  | { kind: 'none' };

/** `partial`: a group whose member writes go on in a later pass (its work item stays pending). */
export type WorkStatusOutcome = 'done' | 'pendingRefs' | 'failed' | 'escrowed' | 'staged' | 'partial';

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
  /** Groups whose members were planned: the member progress after this pass (kept while `partial`). */
  memberProgress?: MemberProgress | null;
}
