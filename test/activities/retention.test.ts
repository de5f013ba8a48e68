// Retention (the maintenance run's applyRetention): what a user relies on — each app's logs are kept
// for its own number of days (30 by default), a deleted app's logs for the days it had; directory
// changes go once no app or running cycle can read them again; finished cycles' work goes, held
// deletions stay.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANNOUNCEMENTS_NAMESPACE } from '../../activities/job-events.ts';
import { applyRetention } from '../../activities/retention.ts';
import type { ProvisioningLogEntry } from '../../engine/types.ts';
import { ON_DEMAND_PROGRESS_NAMESPACE, openStore, type Store } from '../../store/index.ts';
import { query } from '../../store/db.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from '../support/postgres.ts';

const DAY = 24 * 60 * 60_000;
const NOW = new Date('2026-11-30T12:00:00Z');

let db: TestDatabase;
let store: Store;
beforeAll(async () => {
  db = await createTestDatabase('retention');
  store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY, poolSize: 4 });
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
});

let n = 0;
const entry = (appId: string, ageDays: number): ProvisioningLogEntry => ({
  id: `log-${appId}-${++n}`,
  time: new Date(NOW.getTime() - ageDays * DAY).toISOString(),
  appId,
  cycleId: null,
  changeId: null,
  objectType: 'user',
  sourceId: `u${n}`,
  sourceDisplayName: null,
  targetId: null,
  action: 'Create',
  status: 'Success',
  errorCode: null,
  errorMessage: null,
  steps: [],
  modifiedAttributes: [],
  durationMs: 1,
  onDemand: false,
});

const ages = async (appId: string) =>
  (await store.logs.query({ appId, limit: 5000 })).items.map((e) =>
    Math.round((NOW.getTime() - Date.parse(e.time)) / DAY),
  );

const app = (id: string, configuration: Record<string, unknown> = {}) =>
  store.apps.create({ id, name: id, template: 'generic-scim', configuration });

describe('retention', () => {
  it("keeps each app's logs for its own number of days, and a deleted app's for the days it had", async () => {
    await app('default-app');
    await app('week-app', { retention: { logDays: 7 } });
    for (const appId of ['default-app', 'week-app', 'deleted-app', 'forgotten-app']) {
      await store.logs.insert([5, 10, 29, 31, 60, 100].map((age) => entry(appId, age)));
    }
    // Many old entries of one app: deleted over several batches.
    await store.logs.insert(Array.from({ length: 11_000 }, () => entry('default-app', 45)));
    await app('deleted-app', { retention: { logDays: 90 } });
    expect(
      await store.retention.keepLogsOfDeletedApp('deleted-app', {
        name: 'x',
        logDays: 90,
        deletedAt: NOW.toISOString(),
      }),
    ).toBe(true);
    await store.apps.delete('deleted-app');

    const summary = await applyRetention(store, { now: NOW.toISOString() });
    expect(summary.provisioningLogs).toBe(11_000 + 3 + 5 + 1 + 3);
    expect((await ages('default-app')).sort((a, b) => a - b)).toEqual([5, 10, 29]);
    expect((await ages('week-app')).sort((a, b) => a - b)).toEqual([5]);
    expect((await ages('deleted-app')).sort((a, b) => a - b)).toEqual([5, 10, 29, 31, 60]);
    // Logs of an app deleted before Ferry remembered deleted apps: the default 30 days.
    expect((await ages('forgotten-app')).sort((a, b) => a - b)).toEqual([5, 10, 29]);

    // A second run finds nothing more; once a deleted app's last entry expires, it is forgotten.
    expect((await applyRetention(store, { now: NOW.toISOString() })).provisioningLogs).toBe(0);
    expect(await store.retention.deletedAppLogs('deleted-app')).not.toBeNull();
    await applyRetention(store, { now: new Date(NOW.getTime() + 100 * DAY).toISOString() });
    expect(await ages('deleted-app')).toEqual([]);
    expect(await store.retention.deletedAppLogs('deleted-app')).toBeNull();
  });

  it('compacts directory changes below the lowest watermark of every app and running cycle', async () => {
    const seqs = async () =>
      (await query<{ seq: string }>(store.db, sql`select seq from directory_changes order by seq`)).map((r) =>
        Number(r.seq),
      );
    for (let i = 1; i <= 12; i++) {
      await store.directory.createUser({ id: `cu${i}`, userPrincipalName: `cu${i}@contoso.com`, displayName: `U${i}` });
    }
    // A user hard-deleted while an app still links it: its name must survive for that app's log.
    await store.directory.createUser({ id: 'gone', userPrincipalName: 'gone@contoso.com', displayName: 'Gone Person' });
    await app('linked-app');
    await store.links.upsert({ appId: 'linked-app', objectType: 'user', sourceId: 'gone', targetId: 't-gone' });
    await store.directory.hardDeleteUser('gone');
    const all = await seqs();
    const hardDelete = all[all.length - 1];
    for (let i = 13; i <= 15; i++) {
      await store.directory.createUser({ id: `cu${i}`, userPrincipalName: `cu${i}@contoso.com`, displayName: `U${i}` });
    }
    const latest = (await seqs()).at(-1)!;

    const slow = await app('slow-app');
    const fast = await app('fast-app');
    await store.apps.setWatermark(slow.id, all[5]);
    await store.apps.setWatermark(fast.id, latest);
    // A running incremental cycle of another app started from an even older watermark.
    const other = await app('cycling-app');
    await store.apps.setWatermark(other.id, latest);
    const { cycle } = await store.cycles.create({
      appId: other.id,
      number: 1,
      kind: 'incremental',
      watermarkFrom: all[2],
      watermarkTo: latest,
    });

    await applyRetention(store, { now: NOW.toISOString() });
    expect((await seqs())[0]).toBe(all[2]);

    await store.cycles.finish(cycle.id, { status: 'succeeded' });
    await applyRetention(store, { now: NOW.toISOString() });
    expect((await seqs())[0]).toBe(all[5]);

    // Every app moves on: everything below the latest goes — but the linked object's hard delete.
    await store.apps.setWatermark(slow.id, latest);
    await applyRetention(store, { now: NOW.toISOString() });
    expect(await seqs()).toEqual([hardDelete, latest]);
    expect(await store.changes.latestSeq()).toBe(latest);
    expect((await store.changes.lastKnownNames('user', ['gone'])).get('gone')).toBe('Gone Person');
  });

  it("removes the work of cycles that ended over an hour ago, keeping running cycles' and held deletions", async () => {
    const a = await app('work-app');
    const make = async (number: number, status: 'running' | 'succeeded', endedAgoMs: number | null) => {
      const { cycle } = await store.cycles.create({ appId: a.id, number, kind: 'initial' });
      await store.cycleWork.stage(cycle.id, [
        { objectType: 'user', objectId: 'w1' },
        { objectType: 'user', objectId: 'w2' },
        { objectType: 'user', objectId: 'w3' },
      ]);
      if (status !== 'running') {
        await store.db.execute(
          sql`update cycles set status = ${status}, ended_at = ${new Date(NOW.getTime() - endedAgoMs!).toISOString()}::timestamptz where id = ${cycle.id}`,
        );
      }
      return cycle.id;
    };
    const old = await make(1, 'succeeded', 3 * DAY);
    const held = await make(2, 'succeeded', 2 * DAY);
    const items = await store.cycleWork.readBatch(held, { afterSeq: 0, limit: 10 });
    await store.cycleWork.mark(held, [items[0].seq], { status: 'staged', action: 'StagedDelete' });
    const recent = await make(3, 'succeeded', 10 * 60_000);
    const running = await make(4, 'running', null);

    const summary = await applyRetention(store, { now: NOW.toISOString() });
    expect(summary.cycleWork).toBe(3 + 2);
    expect(await store.cycleWork.count(old)).toBe(0);
    expect(await store.cycleWork.count(held)).toBe(1);
    expect(await store.cycleWork.count(held, { status: 'staged' })).toBe(1);
    expect(await store.cycleWork.count(recent)).toBe(3);
    expect(await store.cycleWork.count(running)).toBe(3);
  });

  it('keeps audit entries a year, longer than provisioning logs, then removes them', async () => {
    const entry = (daysAgo: number, action: string) =>
      store.audit.append({
        time: new Date(NOW.getTime() - daysAgo * DAY),
        keyId: 'k1',
        keyName: 'ops',
        role: 'admin',
        action,
        method: 'PATCH',
        path: '/api/v1/apps/{id}',
        resource: 'app:a1',
        requestId: null,
        status: 200,
      });
    await entry(366, 'app.update.old');
    await entry(364, 'app.update.kept');
    await entry(31, 'app.update.month');

    const summary = await applyRetention(store, { now: NOW.toISOString() });
    expect(summary.auditLog).toBe(1);
    const actions = (await store.audit.query({})).items.map((e) => e.action).sort();
    expect(actions).toEqual(['app.update.kept', 'app.update.month']);
  });

  it('removes webhook events (and their delivery log) dispatched over 30 days ago, unless a delivery still waits', async () => {
    const { webhook } = await store.webhooks.create({
      appId: null,
      url: 'https://hooks.contoso.example/ferry',
      events: ['cycle.finished'],
    });
    const event = async (label: string, dispatchedDaysAgo: number | null, delivery: string) => {
      const dispatched =
        dispatchedDaysAgo === null ? null : new Date(NOW.getTime() - dispatchedDaysAgo * DAY).toISOString();
      const [row] = await query<{ id: string }>(
        store.db,
        sql`insert into webhook_events (type, data, created_at, dispatched_at)
            values ('cycle.finished', ${JSON.stringify({ label })}::jsonb, ${dispatched ?? NOW.toISOString()}::timestamptz,
                    ${dispatched}::timestamptz) returning id`,
      );
      await store.db.execute(
        sql`insert into webhook_deliveries (id, webhook_id, event_id, event_type, status)
            values (${`d-${label}`}, ${webhook.id}, ${row.id}, 'cycle.finished', ${delivery})`,
      );
    };
    await event('old-delivered', 31, 'delivered');
    await event('old-failed', 40, 'failed');
    await event('old-pending', 31, 'pending');
    await event('recent', 5, 'delivered');
    await event('undispatched', null, 'pending');

    const summary = await applyRetention(store, { now: NOW.toISOString() });
    expect(summary.webhooks).toBe(2);
    const left = await query<{ label: string; deliveries: string }>(
      store.db,
      sql`select e.data->>'label' as label, count(d.id)::text as deliveries
          from webhook_events e left join webhook_deliveries d on d.event_id = e.id group by e.id order by label`,
    );
    expect(left).toEqual([
      { label: 'old-pending', deliveries: '1' },
      { label: 'recent', deliveries: '1' },
      { label: 'undispatched', deliveries: '1' },
    ]);
    const orphans = await query<{ n: string }>(
      store.db,
      sql`select count(*)::text as n from webhook_deliveries where id in ('d-old-delivered', 'd-old-failed')`,
    );
    expect(orphans).toEqual([{ n: '0' }]);
  });

  it("forgets the job's marks of announced state changes after a week, keeping recent ones and other state", async () => {
    const mark = async (key: string, ageDays: number, namespace = ANNOUNCEMENTS_NAMESPACE) => {
      await store.keyValues.set(namespace, key, { appId: 'a' });
      await store.db.execute(
        sql`update key_values set updated_at = ${new Date(NOW.getTime() - ageDays * DAY).toISOString()}::timestamptz
            where namespace = ${namespace} and key = ${key}`,
      );
    };
    await mark('run-1:1', 8);
    await mark('run-1:2', 30);
    await mark('run-2:1', 6);
    await mark('kept-elsewhere', 60, 'other-namespace');

    const summary = await applyRetention(store, { now: NOW.toISOString() });
    expect(summary.announcements).toBe(2);
    expect((await store.keyValues.list(ANNOUNCEMENTS_NAMESPACE)).map((e) => e.key)).toEqual(['run-2:1']);
    expect(await store.keyValues.get('other-namespace', 'kept-elsewhere')).toEqual({ appId: 'a' });
  });

  it("removes on-demand requests' step-by-step progress a week after it last changed, keeping recent ones", async () => {
    const progress = async (requestId: string, ageDays: number) => {
      await store.onDemandProgress.set({
        appId: 'od-app',
        requestId,
        objectType: 'user',
        objectId: 'u1',
        attempt: 1,
        startedAt: NOW.toISOString(),
        steps: [{ name: 'import', status: 'Success', details: {}, at: NOW.toISOString() }],
        finished: true,
        report: null,
        failure: null,
      });
      await store.db.execute(
        sql`update key_values set updated_at = ${new Date(NOW.getTime() - ageDays * DAY).toISOString()}::timestamptz
            where namespace = ${ON_DEMAND_PROGRESS_NAMESPACE} and key = ${`od-app/${requestId}`}`,
      );
    };
    await progress('old', 8);
    await progress('recent', 2);

    const summary = await applyRetention(store, { now: NOW.toISOString() });
    expect(summary.onDemandProgress).toBe(1);
    expect(await store.onDemandProgress.get('od-app', 'old')).toBeNull();
    expect((await store.onDemandProgress.get('od-app', 'recent'))?.steps).toHaveLength(1);
  });
});
