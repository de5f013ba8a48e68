// On-demand provisioning must never race a cycle on the same object. Both claim
// (app, type, object) in the store's lock table before touching the target: a cycle claims a whole
// batch in one statement, on-demand one object; a claim held by the other is waited for.
//
// Claims are per ATTEMPT (fencing): a lock names its holder (`cycle:<id>`, `ondemand:<requestId>`)
// and the fence of the attempt that claimed it, a number from a database sequence that only grows.
// A later attempt of the same holder (the retry of a timed-out processBatch) takes the lock over at
// once; an earlier one can no longer claim it, and checks right before each write to the target
// that its fence is still on the lock (`assertClaimHeld`): an attempt Temporal gave up on but that
// still runs stops there instead of exporting the object a second time beside its retry.
import type { ObjectType } from '../engine/types.ts';
import type { LockHolder, Store } from '../store/index.ts';
import { ClaimLostError } from './errors.ts';

export type { LockHolder } from '../store/index.ts';
export { ClaimLostError } from './errors.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A new attempt of `name`: its fence is larger than that of every attempt before it. */
export async function newLockHolder(store: Store, name: string): Promise<LockHolder> {
  return { name, fence: await store.objectLocks.nextFence() };
}

/** Claims every object not held by another holder; returns the ids now held by `holder`. */
export async function tryClaim(
  store: Store,
  appId: string,
  objectType: ObjectType,
  objectIds: readonly string[],
  holder: LockHolder,
  ttlMs: number,
): Promise<Set<string>> {
  return store.objectLocks.claim(appId, objectType, objectIds, holder, new Date(Date.now() + ttlMs));
}

/** Claims all of them, waiting (up to `waitMs`) for objects another holder has. Returns the ids it could not get. */
export async function claimAll(
  store: Store,
  appId: string,
  objectType: ObjectType,
  objectIds: readonly string[],
  holder: LockHolder,
  options: { ttlMs: number; waitMs: number },
): Promise<string[]> {
  const deadline = Date.now() + options.waitMs;
  let missing = [...objectIds];
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const got = await tryClaim(store, appId, objectType, missing, holder, options.ttlMs);
    missing = missing.filter((id) => !got.has(id));
    if (missing.length === 0 || Date.now() >= deadline) return missing;
    await sleep(delay);
  }
}

/**
 * Fencing: resolves when this attempt still holds its claim on the object, throws ClaimLostError when
 * another attempt (or holder) has it now. Called right before each write to the target.
 */
export async function assertClaimHeld(
  store: Store,
  appId: string,
  objectType: ObjectType,
  objectId: string,
  holder: LockHolder,
): Promise<void> {
  if (!(await store.objectLocks.holds(appId, objectType, objectId, holder))) {
    throw claimLost(appId, objectType, objectId, holder);
  }
}

/** How long a fencing check waits for others to join its query (see ClaimFence). */
export const FENCE_GATHER_MS = 3;

/**
 * Fencing for a whole batch: the checks of the objects about to be written are answered together, one
 * query for every check asked while the previous query ran (at most one in flight) or within a few ms
 * of the first one waiting (`gather`): objects ask one by one as their predecessors' requests end,
 * and a batch keeps twice as many objects in its pipeline as requests in flight, so the wait is
 * hidden behind the others' requests. Each check is still answered by a query that started after it
 * was asked, so it is as exact as one query per object: a claim taken over before the check is seen by it.
 */
export class ClaimFence {
  private waiting = new Map<string, Waiting>();
  private running: Promise<void> | null = null;
  /** Queries run (for the benches and tests). */
  queries = 0;

  constructor(
    private readonly store: Store,
    private readonly appId: string,
    private readonly objectType: ObjectType,
    private readonly holder: LockHolder,
    private readonly now: () => Date = () => new Date(),
    /** Resolves when the checks asked meanwhile may go in one query (default: FENCE_GATHER_MS). */
    private readonly gather: () => Promise<void> = () => sleep(FENCE_GATHER_MS),
  ) {}

  /**
   * Resolves when this attempt still holds the object's claim; throws ClaimLostError when it lost it.
   * `recordCreate`: the object's create intent (create-intents.ts) is made durable by the same query
   * when the claim is held, before this resolves.
   */
  check(objectId: string, options: { recordCreate?: boolean } = {}): Promise<void> {
    const promise = new Promise<void>((resolve, reject) => {
      const entry = this.waiting.get(objectId) ?? { recordCreate: false, list: [] };
      entry.list.push({ resolve, reject });
      entry.recordCreate ||= options.recordCreate === true;
      this.waiting.set(objectId, entry);
    });
    this.running ??= this.drain();
    return promise;
  }

  /** Answers the checks asked so far, then those asked meanwhile, until none are asked within a gathering time. */
  private async drain(): Promise<void> {
    for (;;) {
      // Checks asked within the gathering time join the query.
      await this.gather();
      if (this.waiting.size === 0) break;
      const batch = this.waiting;
      this.waiting = new Map();
      this.queries++;
      try {
        const creating = [...batch].filter(([, entry]) => entry.recordCreate).map(([objectId]) => objectId);
        const held = await this.store.objectLocks.heldOfRecordingCreates(
          this.appId,
          this.objectType,
          [...batch.keys()],
          this.holder,
          { sourceIds: creating, at: this.now() },
        );
        for (const [objectId, { list }] of batch) {
          for (const w of list) {
            if (held.has(objectId)) w.resolve();
            else w.reject(claimLost(this.appId, this.objectType, objectId, this.holder));
          }
        }
      } catch (error) {
        for (const { list } of batch.values()) for (const w of list) w.reject(error);
      }
    }
    this.running = null;
  }
}

interface Waiting {
  /** Some check of the object asked for its create intent. */
  recordCreate: boolean;
  list: { resolve: () => void; reject: (error: unknown) => void }[];
}

function claimLost(appId: string, objectType: ObjectType, objectId: string, holder: LockHolder): ClaimLostError {
  return new ClaimLostError(
    `${objectType} ${objectId} of app ${appId} is no longer claimed by this attempt of ${holder.name} (a later attempt or another holder took it over): not exported by this attempt`,
  );
}

/** Gives back this attempt's claims (never those a later attempt took over). */
export async function releaseClaims(
  store: Store,
  appId: string,
  objectType: ObjectType,
  objectIds: readonly string[],
  holder: LockHolder,
): Promise<void> {
  await store.objectLocks.release(appId, objectType, objectIds, holder);
}
