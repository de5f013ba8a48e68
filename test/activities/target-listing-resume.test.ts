// An initial cycle matches against a listing of the target that is streamed into the store page by
// page. A listing interrupted mid-way (the batch fails and Temporal retries it, or the worker dies and
// another one takes over) continues from the last saved page: no page is read twice, every account is
// kept once, and the cycle matches every pre-existing account instead of creating a duplicate.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFerryActivities } from '../../activities/index.ts';
import { TransientError } from '../../engine/errors.ts';
import { SCIM_USER_SCHEMA } from '../../engine/types.ts';
import { createScimClient, type ScimClient, type ScimClientOptions } from '../../scim/index.ts';
import { createApp, groupId, seedDirectory, upn, userId } from '../provisioning/fixtures.ts';
import { beginInitialCycle, openActivityTestbed, runCycleDirect, type ActivityTestbed } from './helpers.ts';

const USERS = 12;
const PAGE = 5;

/** A client whose listings of Users fail (as a target going away would) from `failFrom.startIndex` on. */
function failingListings(failFrom: { startIndex: number | null }): (options: ScimClientOptions) => ScimClient {
  return (options) => {
    const client = createScimClient(options);
    return {
      ...client,
      list: async (type, listOptions = {}) => {
        const start = listOptions.startIndex ?? 1;
        if (type === 'Users' && !listOptions.filter && failFrom.startIndex !== null && start >= failFrom.startIndex) {
          throw new TransientError(`listing at startIndex ${start} failed`, { code: 'ServiceUnavailable' });
        }
        return client.list(type, listOptions);
      },
    };
  };
}

describe('the initial cycle streams the target listing into the store', () => {
  let t: ActivityTestbed;
  let appId: string;
  const seeded = new Map<string, string>();
  const failFrom: { startIndex: number | null } = { startIndex: null };

  beforeEach(async () => {
    failFrom.startIndex = null;
    seeded.clear();
    t = await openActivityTestbed('listing', {
      deps: { bulkMatchThreshold: 1, listingPageSize: PAGE, createScimClient: failingListings(failFrom) },
    });
    await seedDirectory(t.store, { users: USERS, groups: 1 });
    appId = await createApp(t.store, t.peer, { shape: { users: USERS, groups: 1 } });
    for (let i = 1; i <= USERS; i++) {
      const res = await fetch(`${t.peer.baseUrl}/Users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${t.peer.token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify({ schemas: [SCIM_USER_SCHEMA], userName: upn(i), displayName: 'Before Ferry' }),
      });
      expect(res.status).toBe(201);
      seeded.set(userId(i), ((await res.json()) as { id: string }).id);
    }
  });

  afterEach(async () => {
    await t?.close();
  });

  /** The startIndex of every listing request (no filter) of Users the peer saw from `from` on. */
  const listedAt = (from: number) =>
    t.peer.requestLog
      .slice(from)
      .filter((r) => r.method === 'GET' && /\/Users\?/.test(r.path) && !/filter=/.test(r.path))
      .map((r) => Number(new URL(r.path, 'http://peer').searchParams.get('startIndex')));

  it('continues from its cursor after a retried batch and after a worker restart, without duplicates', async () => {
    const cycleId = await beginInitialCycle(t.handle.activities, appId);
    const batch = { appId, cycleId, phase: 'users' as const, cursor: 0, batchSize: 50 };

    // Attempt 1 saves the first page, then the target fails.
    failFrom.startIndex = PAGE + 1;
    await expect(t.handle.activities.processBatch(batch)).rejects.toThrow(/startIndex 6/);
    expect(await t.store.targetListings.count(cycleId, 'user')).toBe(PAGE);
    expect(await t.store.targetListings.start(cycleId, 'user', ['userName'])).toEqual({
      nextIndex: PAGE + 1,
      done: false,
    });
    expect(await t.peer.users()).toHaveLength(USERS); // nothing exported while the listing is incomplete

    // Attempt 2 (Temporal's retry, same worker) starts at page 2, saves it, and fails at page 3.
    failFrom.startIndex = 2 * PAGE + 1;
    let mark = t.peer.requestLog.length;
    await expect(t.handle.activities.processBatch(batch)).rejects.toThrow(/startIndex 11/);
    expect(listedAt(mark)).toEqual([PAGE + 1]);
    expect(await t.store.targetListings.count(cycleId, 'user')).toBe(2 * PAGE);

    // Attempt 3 runs on another worker (the first one died): it reads only the last page.
    failFrom.startIndex = null;
    const other = createFerryActivities({
      store: t.store,
      allowInsecureLoopback: true,
      bulkMatchThreshold: 1,
      listingPageSize: PAGE,
    });
    try {
      mark = t.peer.requestLog.length;
      const result = await other.activities.processBatch(batch);
      expect(result.failure).toBeNull();
      expect(listedAt(mark)).toEqual([2 * PAGE + 1]);
      expect(await t.store.targetListings.count(cycleId, 'user')).toBe(USERS);
      // Every user matched its pre-existing account through the stored listing: no filtered GET, no POST.
      const requests = t.peer.requestLog.slice(mark);
      expect(requests.filter((r) => r.method === 'POST')).toEqual([]);
      expect(requests.filter((r) => /filter=/.test(r.path))).toEqual([]);
    } finally {
      await other.close();
    }
    const users = await t.peer.users();
    expect(users).toHaveLength(USERS);
    for (const [sourceId, targetId] of seeded) {
      expect((await t.store.links.get(appId, 'user', sourceId))?.targetId).toBe(targetId);
    }
    expect(users.every((u) => u.displayName !== 'Before Ferry')).toBe(true);
  });

  it('is removed by retention once the cycle has ended', async () => {
    const summary = await runCycleDirect(t.handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
    });
    expect(summary).toMatchObject({ status: 'succeeded', counts: { created: 1, updated: USERS, failed: 0 } });
    expect(await t.store.targetListings.count(summary.cycleId, 'user')).toBe(USERS);
    expect(await t.store.links.get(appId, 'group', groupId(1))).toMatchObject({ active: true });
    const later = new Date(Date.now() + 2 * 24 * 3600_000);
    await t.handle.activities.applyRetention({ now: later.toISOString() });
    expect(await t.store.targetListings.count(summary.cycleId, 'user')).toBe(0);
  });
});
