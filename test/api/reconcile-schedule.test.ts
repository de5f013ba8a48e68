// Scheduled reconcile passes: each ensure round of the API process starts a pass for every app whose
// provisioning is on and whose last pass is older than its `reconcileIntervalHours` (default 24);
// an app with a recent pass, with interval 0, with provisioning off or paused, or whose job is
// quarantined or disabled gets none, and a pass already
// running (the workflow id `reconcile:<appId>` taken) is left alone without an error.
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.ts';
import type { ReconcileControl } from '../../api/reconcile-control.ts';
import { startDueReconcilePasses } from '../../api/reconcile-schedule.ts';
import { PAUSED_JOBS_NAMESPACE } from '../../api/resources.ts';
import { openStore, type Store } from '../../store/index.ts';
import { TEST_ENCRYPTION_KEY } from '../support/postgres.ts';

let store: Store | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
});

const HOUR = 3_600_000;

function recordingControl(running: Set<string> = new Set()) {
  const started: { appId: string; passId: string }[] = [];
  const control: ReconcileControl = {
    async start(appId, passId) {
      if (running.has(appId)) throw new ApiError('conflict', `A reconcile pass of app ${appId} is already running`);
      started.push({ appId, passId });
    },
  };
  return { control, started };
}

async function withApps(s: Store, apps: { id: string; hours?: number; enabled?: boolean; driftRepair?: string }[]) {
  for (const app of apps) {
    await s.apps.create({
      id: app.id,
      name: app.id,
      template: 'generic-scim',
      configuration: {
        ...(app.hours === undefined ? {} : { reconcileIntervalHours: app.hours }),
        ...(app.driftRepair ? { driftRepair: app.driftRepair } : {}),
      },
      provisioningEnabled: app.enabled ?? true,
    });
    await s.reconcile.createPass({ id: `first-${app.id}`, appId: app.id, mode: 'report' });
    await s.reconcile.finishPass(`first-${app.id}`, { counts: {} });
  }
}

describe('startDueReconcilePasses', () => {
  it('starts a pass for the apps whose last pass is older than their interval, and for no other', async () => {
    store = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
    await store.migrate();
    await withApps(store, [
      { id: 'daily' },
      { id: 'weekly', hours: 24 * 7 },
      { id: 'hourly', hours: 1, driftRepair: 'repair' },
      { id: 'off', hours: 0 },
      { id: 'disabled', enabled: false },
      { id: 'paused' },
    ]);
    await store.keyValues.set(PAUSED_JOBS_NAMESPACE, 'paused', { since: new Date().toISOString() });
    const { control, started } = recordingControl();

    // Half an hour later no pass is due yet.
    expect(await startDueReconcilePasses(store, control, new Date(Date.now() + 0.5 * HOUR))).toEqual([]);
    expect(started).toEqual([]);

    // A day and a bit later: the daily and hourly apps get one, in their configured mode.
    const later = new Date(Date.now() + 25 * HOUR);
    expect(await startDueReconcilePasses(store, control, later)).toEqual(['daily', 'hourly']);
    expect(started.map((s) => s.appId)).toEqual(['daily', 'hourly']);
    const hourly = await store.reconcile.latestPass('hourly');
    expect(hourly).toMatchObject({ id: started[1].passId, mode: 'repair', status: 'running' });
    expect((await store.reconcile.latestPass('daily'))?.mode).toBe('report');

    // The new passes are recent: the next round starts nothing.
    expect(await startDueReconcilePasses(store, control, new Date(Date.now() + 0.5 * HOUR))).toEqual([]);
    expect(started).toHaveLength(2);
  });

  it('leaves an app whose pass is already running alone, keeping no pass row for the refused start', async () => {
    store = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
    await store.migrate();
    await withApps(store, [{ id: 'busy' }]);
    const { control, started } = recordingControl(new Set(['busy']));
    expect(await startDueReconcilePasses(store, control, new Date(Date.now() + 25 * HOUR))).toEqual([]);
    expect(started).toEqual([]);
    expect((await store.reconcile.latestPass('busy'))?.id).toBe('first-busy');
  });

  it('starts no pass for an app whose job is quarantined or disabled, and one once it is released', async () => {
    store = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
    await store.migrate();
    await withApps(store, [{ id: 'quarantined' }, { id: 'disabled-job' }, { id: 'steady' }, { id: 'no-job' }]);
    const states = new Map<string, string | null>([
      ['quarantined', 'quarantined'],
      ['disabled-job', 'disabled'],
      ['steady', 'steady'],
      ['no-job', null],
    ]);
    const jobState = async (appId: string) => states.get(appId) ?? null;
    const { control, started } = recordingControl();
    const later = new Date(Date.now() + 25 * HOUR);
    expect((await startDueReconcilePasses(store, control, later, jobState)).sort()).toEqual(['no-job', 'steady']);
    expect((await store.reconcile.latestPass('quarantined'))?.id).toBe('first-quarantined');

    // Released: the next round starts its pass (the other two are still running theirs).
    states.set('quarantined', 'steady');
    const next = recordingControl(new Set(['steady', 'no-job']));
    expect(await startDueReconcilePasses(store, next.control, later, jobState)).toEqual(['quarantined']);
    expect(started.map((s) => s.appId).sort()).toEqual(['no-job', 'steady']);
  });
});
