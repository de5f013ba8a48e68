// On-demand provisioning never runs at the same time as a cycle on the same object, and a
// notification is mailed at most once per notificationId.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ON_DEMAND_HEARTBEAT_INTERVAL_MS } from '../../activities/on-demand-progress.ts';
import type { OnDemandInput } from '../../activities/types.ts';
import { onDemandActivity } from '../../workflows/activity-options.ts';
import { until } from '../support/net.ts';
import { createFerryActivities, createSmtpMailer, type FerryActivityHandle } from '../../activities/index.ts';
import { newLockHolder, releaseClaims, tryClaim } from '../../activities/object-locks.ts';
import { openStore, type Store } from '../../store/index.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from '../support/postgres.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { createApp, groupId } from '../provisioning/fixtures.ts';
import { startSmtpServer } from '../provisioning/harness.ts';
import { beginInitialCycle } from './helpers.ts';

/** An activity option's duration ('10 seconds', '2 minutes', or ms) in ms. */
function msOf(duration: string | number | undefined): number {
  if (typeof duration === 'number') return duration;
  const match = /^(\d+) (second|minute)s?$/.exec(duration ?? '');
  if (!match) throw new Error(`unexpected duration ${duration}`);
  return Number(match[1]) * (match[2] === 'minute' ? 60_000 : 1_000);
}

describe('on-demand and notify activities', () => {
  let db: TestDatabase;
  let store: Store;
  let peer: ScimPeer;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let mailer: ReturnType<typeof createSmtpMailer>;
  let handle: FerryActivityHandle;
  let appId: string;

  beforeAll(async () => {
    db = await createTestDatabase('ondemand');
    store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY, poolSize: 4 });
    await store.migrate();
    peer = await startScimmyPeer();
    smtp = await startSmtpServer();
    mailer = createSmtpMailer({ host: '127.0.0.1', port: smtp.port, from: 'ferry@localhost' });
    handle = createFerryActivities({ store, mailer, allowInsecureLoopback: true, lockWaitMs: 20_000 });
    await store.directory.createGroup({ id: groupId(1), displayName: 'Group 01' });
    await store.directory.createUser({ id: 'x1', userPrincipalName: 'x1@contoso.com', displayName: 'X One' });
    await store.directory.addMember(groupId(1), 'x1');
    appId = await createApp(store, peer, { shape: { users: 0, groups: 1 } });
  });

  afterAll(async () => {
    await handle?.close();
    mailer?.close();
    await smtp?.close();
    await peer?.close();
    await store?.close();
    await db?.drop();
  });

  it('waits for a cycle batch that holds the object, then provisions it', async () => {
    const cycleHolder = { name: 'cycle:test', fence: 1 };
    expect(await tryClaim(store, appId, 'user', ['x1'], cycleHolder, 60_000)).toEqual(new Set(['x1']));
    let finishedAt = 0;
    const running = handle.activities
      .provisionOnDemand({ appId, requestId: 'r1', objectType: 'user', objectId: 'x1' })
      .then((report) => {
        finishedAt = Date.now();
        return report;
      });
    await new Promise((r) => setTimeout(r, 400));
    expect(finishedAt).toBe(0);
    expect(peer.requestLog.some((r) => r.method === 'POST')).toBe(false);
    const releasedAt = Date.now();
    await releaseClaims(store, appId, 'user', ['x1'], cycleHolder);
    const report = await running;
    expect(finishedAt).toBeGreaterThanOrEqual(releasedAt);
    expect(report).toMatchObject({ action: 'Create', status: 'Success' });
    const log = await store.logs.query({ appId, onDemand: true });
    expect(log.items.map((l) => [l.sourceId, l.action])).toEqual([['x1', 'Create']]);
  });

  it('heartbeats while it waits on a long step, well within its heartbeat timeout, so a lost worker is noticed in seconds', async () => {
    // The options the workflow schedules it with: a heartbeat timeout of seconds, not the 2-minute
    // start-to-close a killed worker's request used to wait out before its retry.
    const heartbeatTimeoutMs = msOf(onDemandActivity.heartbeatTimeout);
    expect(heartbeatTimeoutMs).toBeLessThanOrEqual(10_000);
    expect(msOf(onDemandActivity.startToCloseTimeout)).toBeGreaterThan(heartbeatTimeoutMs);
    expect(ON_DEMAND_HEARTBEAT_INTERVAL_MS * 2).toBeLessThanOrEqual(heartbeatTimeoutMs);

    await store.directory.createUser({ id: 'hb1', userPrincipalName: 'hb1@contoso.com', displayName: 'HB One' });
    await store.assignments.assign(appId, 'hb1');
    const cycleHolder = { name: 'cycle:heartbeat', fence: 1 };
    expect(await tryClaim(store, appId, 'user', ['hb1'], cycleHolder, 60_000)).toEqual(new Set(['hb1']));
    const env = new MockActivityEnvironment({ attempt: 1 });
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const input: OnDemandInput = { appId, requestId: 'hb', objectType: 'user', objectId: 'hb1' };
    const running = env.run(handle.activities.provisionOnDemand, input);
    // Waiting for the cycle's claim: no step completes meanwhile, yet the heartbeats go on.
    await until(
      async () => (await store.onDemandProgress.get(appId, 'hb'))?.steps.length === 1,
      'the test connection step',
    );
    const before = beats.length;
    await until(() => beats.length >= before + 2, 'heartbeats during the wait', { timeoutMs: 15_000 });
    expect((await store.onDemandProgress.get(appId, 'hb'))?.finished).toBe(false);
    await releaseClaims(store, appId, 'user', ['hb1'], cycleHolder);
    expect(await running).toMatchObject({ action: 'Create', status: 'Success' });
    const progress = await store.onDemandProgress.get(appId, 'hb');
    expect(progress).toMatchObject({ finished: true, attempt: 1, failure: null });
    expect(progress?.steps.map((step) => step.name)).toEqual([
      'testConnection',
      'import',
      'scoping',
      'matching',
      'processing',
      'export',
    ]);
  });

  it('a cycle batch does not pass over an object on-demand holds past the wait: it fails transiently, and its retry provisions it', async () => {
    const impatient = createFerryActivities({ store, allowInsecureLoopback: true, lockWaitMs: 100 });
    try {
      for (const id of ['x2', 'x3']) {
        await store.directory.createUser({ id, userPrincipalName: `${id}@contoso.com`, displayName: id });
        await store.directory.addMember(groupId(1), id);
      }
      const cycleId = await beginInitialCycle(impatient.activities, appId);
      const onDemandHolder = { name: 'ondemand:someone-else', fence: 1 };
      expect(await tryClaim(store, appId, 'user', ['x3'], onDemandHolder, 60_000)).toEqual(new Set(['x3']));
      const batch = { appId, cycleId, phase: 'users' as const, cursor: 0, batchSize: 100 };
      const error = await impatient.activities.processBatch(batch).catch((e: unknown) => e);
      expect(error).toMatchObject({ type: 'TransientError', nonRetryable: false });
      expect(String((error as Error).message)).toMatch(/held by on-demand provisioning \(x3\)/);
      const userNames = async () => (await peer.users()).map((u) => u.userName);
      const posts = () => peer.requestLog.filter((r) => r.method === 'POST' && r.path.endsWith('/Users')).length;
      expect(await userNames()).toContain('x2@contoso.com');
      expect(await userNames()).not.toContain('x3@contoso.com');

      await releaseClaims(store, appId, 'user', ['x3'], onDemandHolder);
      const before = posts();
      const result = await impatient.activities.processBatch(batch);
      expect(result.failure).toBeNull();
      expect(posts() - before).toBe(1);
      expect(await userNames()).toContain('x3@contoso.com');
      expect((await store.links.get(appId, 'user', 'x3'))?.targetId).toBeTruthy();
    } finally {
      await impatient.close();
    }
  });

  it('answers with ids, actions and counts, never request bodies; busy and too-large groups fail typed', async () => {
    await store.directory.createUser({ id: 'y1', userPrincipalName: 'y1@contoso.com', displayName: 'Y One' });
    const report = await handle.activities.provisionOnDemand({
      appId,
      requestId: 'r-y1',
      objectType: 'user',
      objectId: 'y1',
    });
    expect(report).toMatchObject({ objectId: 'y1', logId: expect.any(String) });
    expect(report.counts.requests).toBe(report.requests.length);
    expect(report.requests.every((r) => Object.keys(r).sort().join() === 'method,path,status')).toBe(true);
    expect(JSON.stringify(report)).not.toContain('"body"');

    // A cycle holds the object past the wait: ObjectBusy, not retried.
    const impatient = createFerryActivities({ store, allowInsecureLoopback: true, lockWaitMs: 100 });
    const held = await newLockHolder(store, 'cycle:held');
    try {
      expect(await tryClaim(store, appId, 'user', ['y1'], held, 60_000)).toEqual(new Set(['y1']));
      const busy = await impatient.activities
        .provisionOnDemand({ appId, requestId: 'r-y1b', objectType: 'user', objectId: 'y1' })
        .catch((e: unknown) => e);
      expect(busy).toMatchObject({ type: 'ObjectBusy', nonRetryable: true });
      await releaseClaims(store, appId, 'user', ['y1'], held);
    } finally {
      await impatient.close();
    }

    // A group of 6 users: refused before any request is sent.
    await store.directory.createGroup({ id: 'big', displayName: 'Big' });
    for (let i = 0; i < 6; i++) {
      await store.directory.createUser({ id: `b${i}`, userPrincipalName: `b${i}@contoso.com`, displayName: `B ${i}` });
      await store.directory.addMember('big', `b${i}`);
    }
    const sent = peer.requestLog.length;
    const big = await handle.activities
      .provisionOnDemand({ appId, requestId: 'r-big', objectType: 'group', objectId: 'big' })
      .catch((e: unknown) => e);
    expect(big).toMatchObject({ type: 'TooManyMembers', nonRetryable: true });
    expect(String((big as Error).message)).toContain('has 6 users');
    expect(peer.requestLog.length).toBe(sent);
  });

  it('scopes and provisions through nested groups while reading only the memberships around the object', async () => {
    // Team is nested in the assigned Group 01; its users are in scope only through it.
    await store.directory.createGroup({ id: 'team', displayName: 'Team' });
    await store.directory.addMember(groupId(1), 'team');
    for (const id of ['t1', 't2']) {
      await store.directory.createUser({ id, userPrincipalName: `${id}@contoso.com`, displayName: id });
      await store.directory.addMember('team', id);
    }
    const provision = (objectType: 'user' | 'group', objectId: string) =>
      handle.activities.provisionOnDemand({ appId, requestId: `r-${objectId}`, objectType, objectId });
    expect(await provision('user', 't1')).toMatchObject({ action: 'Create', status: 'Success' });
    const group = await provision('group', 'team');
    expect(group).toMatchObject({ action: 'Create', status: 'Success' });
    expect(group.members?.map((m) => m.objectId).sort()).toEqual(['t1', 't2']);
    const users = new Map((await peer.users()).map((u) => [u.id as string, String(u.userName)]));
    const team = (await peer.groups()).find((g) => g.displayName === 'Team');
    const memberNames = ((team?.members ?? []) as { value: string }[]).map((m) => users.get(m.value)).sort();
    expect(memberNames).toEqual(['t1@contoso.com', 't2@contoso.com']);
  });

  it('sends a notification once, however often the activity runs', async () => {
    const input = {
      appId,
      to: 'admin@contoso.com',
      subject: 'Ferry: quarantined',
      text: 'Unauthorized',
      notificationId: `q-${appId}-1`,
    };
    await handle.activities.notify(input);
    await handle.activities.notify(input);
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0].to).toEqual(['admin@contoso.com']);
  });
});
