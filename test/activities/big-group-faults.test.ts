// A group too big for one pass, and the target failing midway through its member PATCHes. What a user
// relies on: whatever fails — one answer, a lost answer, a chunk refused on every try, the worker lost
// in the middle of a pass — the group ends with exactly its members, each chunk reaches the target
// once (and the failed one again only as its retry needs), the group's log entry tells what happened
// to the whole group, and the next cycle sends nothing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFerryActivities, type FerryActivityHandle } from '../../activities/index.ts';
import type { FerryActivities } from '../../activities/types.ts';
import { startScimTarget, type ScimTarget } from '../../dev/scim-target/index.ts';
import { createScimClient, type ScimClient, type ScimClientOptions } from '../../scim/index.ts';
import { logEntryId, openStore, type Store } from '../../store/index.ts';
import { createApp, groupId } from '../provisioning/fixtures.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from '../support/postgres.ts';
import { startFaultProxy, type FaultKind, type FaultProxy } from '../support/scim-fault-proxy.ts';
import { beginInitialCycle, seedOneGroup } from './helpers.ts';

const MEMBERS = 2_500;
/** Members a PATCH carries (the default memberChunkSize). */
const CHUNK = 100;
const CHUNKS = MEMBERS / CHUNK;
/** Attempts the SCIM client makes per request in these tests (fast backoff). */
const ATTEMPTS = 3;

/** A client with a fast retry backoff, and `wrap` to stand in for parts of it. */
function clientFactory(wrap: (client: ScimClient) => ScimClient = (c) => c) {
  return (options: ScimClientOptions) =>
    wrap(createScimClient({ ...options, retry: { attempts: ATTEMPTS, baseDelayMs: 1, maxDelayMs: 5 } }));
}

/** PATCHes of the group as they arrive at the proxy (1-based), and the fault each one got. */
function memberPatchFaults(faults: Record<number, FaultKind>) {
  let seen = 0;
  return {
    get seen() {
      return seen;
    },
    faultFor: ({ method, url }: { method: string; url: string }) =>
      method === 'PATCH' && url.includes('/Groups/') ? faults[++seen] : undefined,
  };
}

describe('a huge group when the target fails midway through its member PATCHes', () => {
  let db: TestDatabase;
  let store: Store;
  let target: ScimTarget | undefined;
  let proxy: FaultProxy | undefined;
  const handles: FerryActivityHandle[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('biggroupfault');
    store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY, poolSize: 4 });
    await store.migrate();
    await seedOneGroup(store, MEMBERS);
  });

  afterEach(async () => {
    for (const h of handles.splice(0)) await h.close();
    await proxy?.close();
    await target?.close();
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  /**
   * A fresh target behind a fault proxy, an app on it, its 2,500 users provisioned in cycle 1, and the
   * activities that write the group: 2,000 requests a second for 4 ms make a pass of at most 7 member
   * PATCHes (25 chunks: passes of 7, 7, 7 and 4).
   */
  async function setup(
    faultFor: (request: { method: string; url: string }) => FaultKind | undefined,
    wrap?: (client: ScimClient) => ScimClient,
  ) {
    target = await startScimTarget();
    proxy = await startFaultProxy({ target: target.baseUrl, faultRate: 0, seed: 1, faults: [], faultFor });
    const appId = await createApp(
      store,
      { baseUrl: proxy.baseUrl, token: target.token },
      { shape: { users: MEMBERS, groups: 1 } },
    );
    const users = createFerryActivities({ store, allowInsecureLoopback: true, createScimClient: clientFactory() });
    const groups = createFerryActivities({
      store,
      allowInsecureLoopback: true,
      pageSecondsAtRateLimit: 0.004,
      batchTimeBudgetMs: 0,
      createScimClient: clientFactory(wrap),
    });
    handles.push(users, groups);
    const cycleId = await beginInitialCycle(users.activities, appId);
    await runPhase(users.activities, appId, cycleId, 'users');
    expect(target.users()).toHaveLength(MEMBERS);
    return { appId, cycleId, target, groups: groups.activities };
  }

  async function runPhase(activities: FerryActivities, appId: string, cycleId: string, phase: 'users' | 'groups') {
    let batches = 0;
    for (let cursor = 0; ; batches++) {
      const r = await activities.processBatch({
        appId,
        cycleId,
        phase,
        cursor,
        batchSize: phase === 'users' ? 1000 : 50,
      });
      expect(r.failure).toBeNull();
      cursor = r.nextCursor;
      if (r.done) return batches + 1;
      expect(batches).toBeLessThan(40);
    }
  }

  /** The target's members of the one group: each member id once, and the count of entries. */
  function targetMembers(t: ScimTarget) {
    const [group] = t.groups();
    const members = ((group?.members as { value: string }[] | undefined) ?? []).map((m) => m.value);
    return { entries: members.length, distinct: new Set(members).size };
  }

  const memberPatchesAt = (t: ScimTarget) => t.stats().byRoute['PATCH /Groups/{id}'] ?? 0;

  /** Runs an incremental cycle after `watermark`; returns its summary and the requests it sent. */
  async function incrementalCycle(activities: FerryActivities, appId: string, cycleNumber: number, watermark: number) {
    const requestsBefore = target!.stats().requests;
    const begun = await activities.beginCycle({
      appId,
      cycleNumber,
      kind: 'incremental',
      watermark,
      deletionsApproved: false,
      deletionsRejected: false,
    });
    for (const phase of ['users', 'groups'] as const) await runPhase(activities, appId, begun.cycleId, phase);
    const summary = await activities.finishCycle({ appId, cycleId: begun.cycleId, failure: null });
    return { cycleId: begun.cycleId, summary, requests: target!.stats().requests - requestsBefore };
  }

  /** The group's log entry of a cycle: its action, status and what its member step says. */
  async function groupLog(cycleId: string) {
    const entry = await store.logs.get(logEntryId(cycleId, 'group', groupId(1), 'export'));
    expect(entry).not.toBeNull();
    const step = entry!.steps.find((s) => s.name === 'referenceResolution');
    return {
      action: entry!.action,
      status: entry!.status,
      errorCode: entry!.errorCode,
      memberStep: step?.status ?? null,
      members: step?.details ?? null,
    };
  }

  /**
   * The cycle ends with every object created, one log entry for the group telling every member added
   * over four passes, and the next cycle has nothing left to send.
   */
  async function expectWholeGroupWritten(groups: FerryActivities, appId: string, cycleId: string) {
    const summary = await groups.finishCycle({ appId, cycleId, failure: null });
    expect(summary.counts).toMatchObject({ created: MEMBERS + 1, failed: 0 });
    expect(await groupLog(cycleId)).toEqual({
      action: 'Create',
      status: 'Success',
      errorCode: null,
      memberStep: 'Success',
      members: { members: MEMBERS, added: MEMBERS, removed: 0, passes: 4 },
    });
    const next = await incrementalCycle(groups, appId, 2, summary.watermarkTo);
    expect(next.requests).toBe(0);
  }

  it('a 5xx on the 10th member PATCH and a lost answer on the 17th are retried in place', async () => {
    const patches = memberPatchFaults({ 10: 500, 17: 'commitThenDrop' });
    const { appId, cycleId, target: t, groups } = await setup(patches.faultFor);
    const before = memberPatchesAt(t);
    await runPhase(groups, appId, cycleId, 'groups');
    // Through the proxy: 25 chunks and the two retries. At the target: the 500 never arrived, the lost
    // answer's chunk arrived twice (adding members already there changes nothing).
    expect(patches.seen).toBe(CHUNKS + 2);
    expect(memberPatchesAt(t) - before).toBe(CHUNKS + 1);
    expect(targetMembers(t)).toEqual({ entries: MEMBERS, distinct: MEMBERS });
    // One entry for the group, telling the whole group's result: every member added, over four passes.
    await expectWholeGroupWritten(groups, appId, cycleId);
  });

  it('a member PATCH refused on every try escrows the group; the next cycle sends only the rest', async () => {
    // The 10th PATCH (the 3rd of the second pass) and each of its retries answer 500.
    const faults: Record<number, FaultKind> = {};
    for (let n = 10; n < 10 + ATTEMPTS; n++) faults[n] = 500;
    const patches = memberPatchFaults(faults);
    const { appId, cycleId, target: t, groups } = await setup(patches.faultFor);
    const before = memberPatchesAt(t);
    await runPhase(groups, appId, cycleId, 'groups');
    expect(memberPatchesAt(t) - before).toBe(9);
    expect(targetMembers(t)).toEqual({ entries: 9 * CHUNK, distinct: 9 * CHUNK });
    const first = await groups.finishCycle({ appId, cycleId, failure: null });
    expect(first.counts).toMatchObject({ created: MEMBERS, failed: 1 });
    // The group was created and 9 chunks went through before the refusal: its entry says so.
    expect(await groupLog(cycleId)).toMatchObject({
      action: 'Create',
      status: 'Failure',
      memberStep: 'Failure',
      members: { members: MEMBERS, added: 9 * CHUNK, removed: 0, passes: 2, left: MEMBERS - 9 * CHUNK },
    });

    // The escrowed group is due in the next cycle: it goes on from the 10th chunk, each chunk sent once.
    const second = await incrementalCycle(groups, appId, 2, first.watermarkTo);
    expect(patches.seen).toBe(CHUNKS + ATTEMPTS);
    expect(memberPatchesAt(t) - before).toBe(CHUNKS);
    expect(targetMembers(t)).toEqual({ entries: MEMBERS, distinct: MEMBERS });
    expect(second.summary.counts).toMatchObject({ updated: 1, failed: 0 });
    expect(await groupLog(second.cycleId)).toEqual({
      action: 'Update',
      status: 'Success',
      errorCode: null,
      memberStep: 'Success',
      members: { members: MEMBERS, added: MEMBERS - 9 * CHUNK, removed: 0, passes: 3 },
    });
    const third = await incrementalCycle(groups, appId, 3, second.summary.watermarkTo);
    expect(third.requests).toBe(0);
  });

  it('a batch lost in the middle of a pass is retried from what the target holds', async () => {
    // The worker is lost right after the 10th PATCH reached the target (the 3rd of the second pass):
    // the attempt ends with nothing of that pass recorded, and Temporal runs the call again.
    let lose = true;
    const patches = memberPatchFaults({});
    const {
      appId,
      cycleId,
      target: t,
      groups,
    } = await setup(patches.faultFor, (client) => ({
      ...client,
      addMembers: async (id, memberIds, chunkSize) => {
        const before = patches.seen;
        if (!lose || before + Math.ceil(memberIds.length / (chunkSize ?? CHUNK)) < 10)
          return client.addMembers(id, memberIds, chunkSize);
        const sent = (10 - before) * (chunkSize ?? CHUNK);
        await client.addMembers(id, memberIds.slice(0, sent), chunkSize);
        lose = false;
        throw new Error('worker lost');
      },
    }));
    const before = memberPatchesAt(t);
    let cursor = 0;
    let failedAttempts = 0;
    for (let batches = 0; ; batches++) {
      const input = { appId, cycleId, phase: 'groups' as const, cursor, batchSize: 50 };
      const r = await groups.processBatch(input).catch((error: unknown) => {
        expect(String(error)).toContain('worker lost');
        failedAttempts++;
        // Temporal's retry: the same input again.
        return groups.processBatch(input);
      });
      expect(r.failure).toBeNull();
      cursor = r.nextCursor;
      if (r.done) break;
      expect(batches).toBeLessThan(40);
    }
    expect(failedAttempts).toBe(1);
    expect(memberPatchesAt(t) - before).toBe(CHUNKS);
    expect(targetMembers(t)).toEqual({ entries: MEMBERS, distinct: MEMBERS });
    // The lost attempt's chunks are counted once: the result is the group's, not the passes' sum.
    await expectWholeGroupWritten(groups, appId, cycleId);
  });
});
