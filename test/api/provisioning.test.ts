import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../api/provisioning-control.ts';
import { auth, jobStatus, recordingProvisioning, testApp, read } from './helpers.ts';
import { storeApp } from './routes/helpers.ts';

/** The calls that reached the job: the signals, without the status queries the routes ask first. */
const signals = (calls: { method: string; args: unknown[] }[]) => calls.filter((c) => c.method !== 'status');

const post = (body?: unknown) => ({
  method: 'POST',
  headers: { ...auth(), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

describe('provisioning control routes', () => {
  it('sends each action to the job of the app and answers 202', async () => {
    const cases = [
      ['start', 'start'],
      ['pause', 'pause'],
      ['resume', 'resume'],
      ['run', 'runNow'],
      ['release', 'release'],
      ['approve-deletions', 'approveDeletions'],
      ['reject-deletions', 'rejectDeletions'],
    ] as const;
    for (const [action, method] of cases) {
      const state = action === 'release' ? jobStatus('disabled') : jobStatus('steady', { pendingDeletions: 3 });
      const { app, calls } = testApp({}, state);
      const res = await app.request(`/api/v1/apps/app-7/provisioning/${action}`, post());
      expect(res.status, action).toBe(202);
      expect(await read(res)).toEqual({ appId: 'app-7', workflowId: 'provisioning:app-7', action });
      expect(signals(calls).map((c) => [c.method, c.args[0]])).toEqual([[method, 'app-7']]);
    }
  });

  it('restarts from the watermark by default and fully when asked', async () => {
    const { app, calls } = testApp({}, jobStatus('steady'));
    expect((await app.request('/api/v1/apps/a1/provisioning/restart', post())).status).toBe(202);
    expect((await app.request('/api/v1/apps/a1/provisioning/restart', post({ reset: 'full' }))).status).toBe(202);
    expect(signals(calls)).toEqual([
      { method: 'restart', args: ['a1', 'watermark'] },
      { method: 'restart', args: ['a1', 'full'] },
    ]);
    const bad = await app.request('/api/v1/apps/a1/provisioning/restart', post({ reset: 'everything' }));
    expect(bad.status).toBe(400);
    expect((await read(bad)).error.details[0].path).toBe('reset');
    expect(signals(calls)).toHaveLength(2);
  });

  it('quarantines with the reason given, and requires one', async () => {
    const { app, calls } = testApp({}, jobStatus('steady'));
    const ok = await app.request('/api/v1/apps/a1/provisioning/quarantine', post({ reason: 'Target migration' }));
    expect(ok.status).toBe(202);
    expect(signals(calls)).toEqual([{ method: 'quarantine', args: ['a1', 'Target migration'] }]);
    for (const body of [{}, { reason: '   ' }, { reason: 42 }]) {
      const res = await app.request('/api/v1/apps/a1/provisioning/quarantine', post(body));
      expect(res.status).toBe(400);
      expect((await read(res)).error.details[0]).toMatchObject({ path: 'reason', in: 'body' });
    }
    expect(signals(calls)).toHaveLength(1);
  });

  it("returns the job's status, or running: false when there is no job", async () => {
    const status: JobStatus = {
      appId: 'a1',
      appName: 'GroupTalk for Contoso',
      state: 'steady',
      cycle: null,
      lastCycle: {
        number: 3,
        kind: 'incremental',
        status: 'succeeded',
        startedAt: '2026-01-01T00:00:00.000Z',
        endedAt: '2026-01-01T00:00:02.000Z',
        counts: {
          created: 1,
          updated: 2,
          disabled: 0,
          deleted: 0,
          skipped: 5,
          failed: 0,
          escrowed: 0,
          stagedDeletes: 0,
        },
        failure: null,
      },
      nextCycleAt: '2026-01-01T00:40:02.000Z',
      backoffLevel: 0,
      quarantine: null,
      pendingDeletions: 0,
    };
    const running = testApp({ provisioning: recordingProvisioning(status).control });
    const res = await running.app.request('/api/v1/apps/a1/provisioning', { headers: auth() });
    expect(res.status).toBe(200);
    expect(await read(res)).toEqual({
      appId: 'a1',
      workflowId: 'provisioning:a1',
      running: true,
      status,
      temporalUiUrl: null,
    });

    const idle = testApp();
    const none = await idle.app.request('/api/v1/apps/a1/provisioning', { headers: auth() });
    expect(await read(none)).toMatchObject({ running: false, status: null });
  });

  it("links to the job's page in the Temporal Web UI when the UI is known, running or not", async () => {
    const { app } = testApp({ temporalUi: { url: 'http://127.0.0.1:8233', namespace: 'prod eu' } });
    const res = await app.request('/api/v1/apps/a1/provisioning', { headers: auth() });
    expect(await read(res)).toMatchObject({
      running: false,
      temporalUiUrl: 'http://127.0.0.1:8233/namespaces/prod%20eu/workflows/provisioning%3Aa1',
    });
  });

  it('answers 404 for an unknown app when apps are known, and names the job after the app', async () => {
    const apps = { findApp: async (id: string) => (id === 'a1' ? { id, name: 'GroupTalk for Contoso' } : null) };
    const { app, calls } = testApp({ apps });
    const missing = await app.request('/api/v1/apps/zz/provisioning/start', post());
    expect(missing.status).toBe(404);
    expect((await read(missing)).error).toMatchObject({ code: 'not_found', message: 'App zz not found' });
    expect((await app.request('/api/v1/apps/zz/provisioning', { headers: auth() })).status).toBe(404);
    expect((await app.request('/api/v1/apps/a1/provisioning/start', post())).status).toBe(202);
    expect(signals(calls)).toEqual([{ method: 'start', args: ['a1', { appName: 'GroupTalk for Contoso' }] }]);
  });

  it('refuses GET on action routes and unknown actions', async () => {
    const { app, calls } = testApp();
    expect((await app.request('/api/v1/apps/a1/provisioning/pause', { headers: auth() })).status).toBe(404);
    expect((await app.request('/api/v1/apps/a1/provisioning/explode', post())).status).toBe(404);
    expect(calls).toEqual([]);
  });
});

describe('provisioning actions × job states: each acts or answers a documented 409', () => {
  const since = '2026-01-01T00:00:00.000Z';
  const manual = { reason: 'Manual', since } as const;
  const tooManyDeletes = { reason: 'TooManyDeletes', since } as const;
  const states = {
    none: null,
    initial: jobStatus('initial'),
    steady: jobStatus('steady'),
    paused: jobStatus('paused'),
    quarantined: jobStatus('quarantined', { quarantine: manual }),
    disabled: jobStatus('disabled', { quarantine: manual }),
    // Deletions above the threshold: staged and quarantined, then perhaps paused by the admin.
    staged: jobStatus('quarantined', { quarantine: tooManyDeletes, pendingDeletions: 3 }),
    pausedStaged: jobStatus('paused', { quarantine: tooManyDeletes, pendingDeletions: 3 }),
  };
  type StateName = keyof typeof states;
  const A = 'acts';
  // prettier-ignore
  const table: Record<string, Record<StateName, string>> = {
    //                    none               initial                 steady                  paused                  quarantined        disabled        staged  pausedStaged
    start:              { none: A,           initial: A,             steady: A,              paused: A,              quarantined: A,    disabled: 'job_disabled', staged: A, pausedStaged: A },
    pause:              { none: 'job_not_running', initial: A,       steady: A,              paused: A,              quarantined: A,    disabled: 'job_disabled', staged: A, pausedStaged: A },
    resume:             { none: 'job_not_running', initial: A,       steady: A,              paused: A,              quarantined: 'job_quarantined', disabled: 'job_disabled', staged: 'job_quarantined', pausedStaged: A },
    run:                { none: 'job_not_running', initial: A,       steady: A,              paused: 'job_paused',   quarantined: A,    disabled: 'job_disabled', staged: A, pausedStaged: 'job_paused' },
    restart:            { none: 'job_not_running', initial: A,       steady: A,              paused: A,              quarantined: A,    disabled: A,    staged: A, pausedStaged: A },
    'approve-deletions':{ none: 'job_not_running', initial: 'no_pending_deletions', steady: 'no_pending_deletions', paused: 'no_pending_deletions', quarantined: 'no_pending_deletions', disabled: 'job_disabled', staged: A, pausedStaged: 'job_paused' },
    'reject-deletions': { none: 'job_not_running', initial: 'no_pending_deletions', steady: 'no_pending_deletions', paused: 'no_pending_deletions', quarantined: 'no_pending_deletions', disabled: 'job_disabled', staged: A, pausedStaged: A },
    quarantine:         { none: 'job_not_running', initial: A,       steady: A,              paused: A,              quarantined: A,    disabled: 'job_disabled', staged: A, pausedStaged: A },
    release:            { none: 'job_not_running', initial: 'job_not_quarantined', steady: 'job_not_quarantined', paused: 'job_not_quarantined', quarantined: A, disabled: A, staged: A, pausedStaged: A },
  };
  const signalOf: Record<string, string> = {
    start: 'start',
    pause: 'pause',
    resume: 'resume',
    run: 'runNow',
    restart: 'restart',
    'approve-deletions': 'approveDeletions',
    'reject-deletions': 'rejectDeletions',
    quarantine: 'quarantine',
    release: 'release',
  };

  const cells = Object.entries(table).flatMap(([action, row]) =>
    (Object.keys(states) as StateName[]).map((state) => ({ action, state, expected: row[state] })),
  );
  it.each(cells)('$action in $state: $expected', async ({ action, state, expected }) => {
    const { app, calls } = testApp({}, states[state]);
    const body = action === 'quarantine' ? { reason: 'Maintenance' } : undefined;
    const res = await app.request(`/api/v1/apps/a1/provisioning/${action}`, post(body));
    if (expected === A) {
      expect(res.status).toBe(202);
      expect(signals(calls).map((c) => c.method)).toEqual([signalOf[action]]);
      return;
    }
    expect(res.status).toBe(409);
    const { error } = await read(res);
    expect(error.code).toBe(expected);
    // The message says what to do: it names the action to take instead (or why nothing is to be done).
    expect(error.message).toMatch(/POST \/api\/v1\/apps\/a1\/provisioning\/|nothing to release|No staged deletions/);
    expect(signals(calls)).toEqual([]);
  });

  it('answers 503 and sends nothing when the job does not answer its status query (no worker)', async () => {
    const { control, calls } = recordingProvisioning();
    control.status = () => new Promise(() => undefined);
    const ctx = await storeApp({ provisioning: control, statusTimeoutMs: 20 });
    try {
      const app = await ctx.store.apps.create({ name: 'Idle', template: 'generic-scim', configuration: {} });
      const res = await ctx.app.request(`/api/v1/apps/${app.id}/provisioning/pause`, {
        method: 'POST',
        headers: auth(),
      });
      expect(res.status).toBe(503);
      expect((await read(res)).error.code).toBe('unavailable');
      expect(calls).toEqual([]);
    } finally {
      await ctx.close();
    }
  });

  it('answers GET status with 503 within the status timeout when the job does not answer (a page never hangs on it)', async () => {
    const { control } = recordingProvisioning();
    control.status = () => new Promise(() => undefined);
    const ctx = await storeApp({ provisioning: control, statusTimeoutMs: 20 });
    try {
      const app = await ctx.store.apps.create({ name: 'Idle', template: 'generic-scim', configuration: {} });
      const res = await ctx.app.request(`/api/v1/apps/${app.id}/provisioning`, { headers: auth() });
      expect(res.status).toBe(503);
      expect((await read(res)).error.code).toBe('unavailable');
    } finally {
      await ctx.close();
    }
  });

  it('documents every 409 code of each action in the OpenAPI description of its route', async () => {
    const { app } = testApp();
    const doc = await read(await app.request('/openapi.json', { headers: auth() }));
    for (const [action, row] of Object.entries(table)) {
      const conflict: string = doc.paths[`/api/v1/apps/{id}/provisioning/${action}`].post.responses['409'].description;
      for (const code of new Set(Object.values(row).filter((v) => v !== A))) expect(conflict, action).toContain(code);
    }
  });
});
