import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../api/provisioning-control.ts';
import { auth, recordingProvisioning, testApp, read } from './helpers.ts';

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
      const { app, calls } = testApp();
      const res = await app.request(`/api/v1/apps/app-7/provisioning/${action}`, post());
      expect(res.status, action).toBe(202);
      expect(await read(res)).toEqual({ appId: 'app-7', workflowId: 'provisioning:app-7', action });
      expect(calls.map((c) => [c.method, c.args[0]])).toEqual([[method, 'app-7']]);
    }
  });

  it('restarts from the watermark by default and fully when asked', async () => {
    const { app, calls } = testApp();
    expect((await app.request('/api/v1/apps/a1/provisioning/restart', post())).status).toBe(202);
    expect((await app.request('/api/v1/apps/a1/provisioning/restart', post({ reset: 'full' }))).status).toBe(202);
    expect(calls).toEqual([
      { method: 'restart', args: ['a1', 'watermark'] },
      { method: 'restart', args: ['a1', 'full'] },
    ]);
    const bad = await app.request('/api/v1/apps/a1/provisioning/restart', post({ reset: 'everything' }));
    expect(bad.status).toBe(400);
    expect((await read(bad)).error.details[0].path).toBe('reset');
    expect(calls).toHaveLength(2);
  });

  it('quarantines with the reason given, and requires one', async () => {
    const { app, calls } = testApp();
    const ok = await app.request('/api/v1/apps/a1/provisioning/quarantine', post({ reason: 'Target migration' }));
    expect(ok.status).toBe(202);
    expect(calls).toEqual([{ method: 'quarantine', args: ['a1', 'Target migration'] }]);
    for (const body of [{}, { reason: '   ' }, { reason: 42 }]) {
      const res = await app.request('/api/v1/apps/a1/provisioning/quarantine', post(body));
      expect(res.status).toBe(400);
      expect((await read(res)).error.details[0]).toMatchObject({ path: 'reason', in: 'body' });
    }
    expect(calls).toHaveLength(1);
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
    expect(await read(res)).toEqual({ appId: 'a1', workflowId: 'provisioning:a1', running: true, status });

    const idle = testApp();
    const none = await idle.app.request('/api/v1/apps/a1/provisioning', { headers: auth() });
    expect(await read(none)).toMatchObject({ running: false, status: null });
  });

  it('answers 404 for an unknown app when apps are known, and names the job after the app', async () => {
    const apps = { findApp: async (id: string) => (id === 'a1' ? { id, name: 'GroupTalk for Contoso' } : null) };
    const { app, calls } = testApp({ apps });
    const missing = await app.request('/api/v1/apps/zz/provisioning/start', post());
    expect(missing.status).toBe(404);
    expect((await read(missing)).error).toMatchObject({ code: 'not_found', message: 'App zz not found' });
    expect((await app.request('/api/v1/apps/zz/provisioning', { headers: auth() })).status).toBe(404);
    expect((await app.request('/api/v1/apps/a1/provisioning/start', post())).status).toBe(202);
    expect(calls).toEqual([{ method: 'start', args: ['a1', { appName: 'GroupTalk for Contoso' }] }]);
  });

  it('refuses GET on action routes and unknown actions', async () => {
    const { app, calls } = testApp();
    expect((await app.request('/api/v1/apps/a1/provisioning/pause', { headers: auth() })).status).toBe(404);
    expect((await app.request('/api/v1/apps/a1/provisioning/explode', post())).status).toBe(404);
    expect(calls).toEqual([]);
  });
});
