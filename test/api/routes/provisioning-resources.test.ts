// Assignments, on-demand, cycles and logs over a real store; the job is a fake ProvisioningControl.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnDemandReport } from '../../../activities/types.ts';
import { ApiError } from '../../../api/errors.ts';
import type { ProvisioningControl } from '../../../api/provisioning-control.ts';
import type { ProvisioningLogEntry } from '../../../engine/types.ts';
import { logEntryId } from '../../../store/index.ts';
import { jobStatus, recordingProvisioning } from '../helpers.ts';
import { read, send, storeApp } from './helpers.ts';

const onDemandRequests: unknown[] = [];
const { control: recording } = recordingProvisioning();
/** The app whose job runs cycle 5 (the status query says which cycle, not how far). */
const RUNNING = 'running-cycle';
const provisioning: ProvisioningControl = {
  ...recording,
  async status(id) {
    if (id === RUNNING) return jobStatus('initial', { appId: id, cycle: { kind: 'initial', number: 5 } });
    return recording.status(id);
  },
  async provisionOnDemand(appId, request) {
    onDemandRequests.push({ appId, ...request });
    if (appId === 'not-running') throw new ApiError('job_not_running', 'Provisioning is not running');
    const report: OnDemandReport = {
      requestId: request.requestId,
      objectType: request.objectType,
      objectId: request.objectId,
      action: 'Create',
      status: 'Success',
      targetId: 't-1',
      steps: [],
      modifiedAttributes: [{ name: 'userName', oldValue: null, newValue: 'ada@contoso.com' }],
      requests: [{ method: 'POST', path: '/Users', status: 201 }],
      counts: { requests: 1, members: 0, membersFailed: 0 },
      logId: 'log-1',
      durationMs: 12,
    };
    return report;
  },
};

let ctx: Awaited<ReturnType<typeof storeApp>>;
let appId: string;
beforeAll(async () => {
  ctx = await storeApp({ provisioning });
  const app = await ctx.store.apps.create({ name: 'Target', template: 'generic-scim', configuration: {} });
  appId = app.id;
  await ctx.store.apps.create({ id: 'not-running', name: 'Idle', template: 'generic-scim', configuration: {} });
  await ctx.store.directory.createUser({ id: 'u1', userPrincipalName: 'ada@contoso.com' });
  await ctx.store.directory.createUser({ id: 'u2', userPrincipalName: 'alan@contoso.com' });
  await ctx.store.directory.createGroup({ id: 'g1', displayName: 'Sales' });
});
afterAll(async () => {
  await ctx.close();
});

const req = (path: string, init?: RequestInit) => ctx.app.request(`/api/v1${path}`, init);

describe('assignments', () => {
  it('assigns users and groups, idempotently, with the default role', async () => {
    const first = await req(`/apps/${appId}/assignments`, send('POST', { principalId: 'g1' }));
    expect(first.status).toBe(201);
    expect(await read(first)).toEqual({ appId, principalId: 'g1', principalType: 'group', role: 'User' });
    expect((await req(`/apps/${appId}/assignments`, send('POST', { principalId: 'g1' }))).status).toBe(200);
    expect((await req(`/apps/${appId}/assignments`, send('POST', { principalId: 'u1', role: 'Admin' }))).status).toBe(
      201,
    );
    expect((await req(`/apps/${appId}/assignments`, send('POST', { principalId: 'u2' }))).status).toBe(201);
  });

  it('lists assignments page by page', async () => {
    const first = await read(await req(`/apps/${appId}/assignments?limit=2`, send('GET')));
    expect(first.items.map((a: { principalId: string }) => a.principalId)).toEqual(['g1', 'u1']);
    const second = await read(await req(`/apps/${appId}/assignments?limit=2&cursor=${first.nextCursor}`, send('GET')));
    expect(second.items.map((a: { principalId: string }) => a.principalId)).toEqual(['u2']);
    expect(second.nextCursor).toBeNull();
  });

  it('answers 404 for an unknown principal or app, and when unassigning what is not assigned', async () => {
    expect((await req(`/apps/${appId}/assignments`, send('POST', { principalId: 'ghost' }))).status).toBe(404);
    expect((await req('/apps/nope/assignments', send('POST', { principalId: 'u1' }))).status).toBe(404);
    expect((await req(`/apps/${appId}/assignments/u2`, send('DELETE'))).status).toBe(204);
    expect((await req(`/apps/${appId}/assignments/u2`, send('DELETE'))).status).toBe(404);
  });

  it('needs the API key', async () => {
    expect((await req(`/apps/${appId}/assignments`, { method: 'GET' })).status).toBe(401);
  });
});

describe('provision on demand', () => {
  it('asks the job for the object with its type and answers with the step report', async () => {
    const res = await req(`/apps/${appId}/provision-on-demand`, send('POST', { objectId: 'g1' }));
    expect(res.status).toBe(200);
    expect(await read(res)).toMatchObject({ objectId: 'g1', objectType: 'group', action: 'Create', targetId: 't-1' });
    expect(onDemandRequests.at(-1)).toMatchObject({ appId, objectType: 'group', objectId: 'g1' });
  });

  it('answers 404 for an unknown object, 409 when the job is not running, 400 without objectId', async () => {
    expect((await req(`/apps/${appId}/provision-on-demand`, send('POST', { objectId: 'ghost' }))).status).toBe(404);
    const idle = await req('/apps/not-running/provision-on-demand', send('POST', { objectId: 'u1' }));
    expect(idle.status).toBe(409);
    expect((await read(idle)).error.code).toBe('job_not_running');
    const bad = await req(`/apps/${appId}/provision-on-demand`, send('POST', {}));
    expect((await read(bad)).error.details[0].path).toBe('objectId');
  });
});

describe('provision on demand with an Idempotency-Key', () => {
  const onDemand = (objectId: string, headers: Record<string, string> = {}) =>
    req(`/apps/${appId}/provision-on-demand`, send('POST', { objectId }, headers));
  const lastRequestId = () => (onDemandRequests.at(-1) as { requestId: string }).requestId;

  it('a retried call with the same key is the same request (the job Update id); other keys or none are new', async () => {
    const first = await onDemand('u1', { 'Idempotency-Key': 'retry-me-1' });
    expect(first.status).toBe(200);
    const id = lastRequestId();
    expect((await read(first)).requestId).toBe(id);
    expect((await onDemand('u1', { 'Idempotency-Key': 'retry-me-1' })).status).toBe(200);
    expect(lastRequestId()).toBe(id);
    await onDemand('u1', { 'Idempotency-Key': 'retry-me-2' });
    expect(lastRequestId()).not.toBe(id);
    // The key is the client's for one app and object: the same key for another object is another request.
    await onDemand('g1', { 'Idempotency-Key': 'retry-me-1' });
    expect(lastRequestId()).not.toBe(id);
    await onDemand('u1');
    const unkeyed = lastRequestId();
    await onDemand('u1');
    expect(lastRequestId()).not.toBe(unkeyed);
  });

  it('answers 400 naming the header for a key that is not printable ASCII', async () => {
    const bad = await onDemand('u1', { 'Idempotency-Key': 'two words' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify((await read(bad)).error)).toContain('idempotency-key');
  });
});

describe('cycles and logs', () => {
  let cycleId: string;
  beforeAll(async () => {
    const { cycle } = await ctx.store.cycles.create({ appId, number: 1, kind: 'initial' });
    cycleId = cycle.id;
    const second = await ctx.store.cycles.create({ appId, number: 2, kind: 'incremental' });
    await ctx.store.cycles.finish(second.cycle.id, { status: 'stopped' });
    const entry = (
      i: number,
      action: ProvisioningLogEntry['action'],
      status: ProvisioningLogEntry['status'],
    ): ProvisioningLogEntry => ({
      id: logEntryId(cycleId, i),
      time: new Date(Date.UTC(2026, 0, 1, 10, i)).toISOString(),
      appId,
      cycleId,
      changeId: null,
      objectType: 'user',
      sourceId: `u${i}`,
      sourceDisplayName: i === 1 ? '=cmd|"Vance, Adele"' : `User ${i}`,
      targetId: `t${i}`,
      action,
      status,
      errorCode: status === 'Failure' ? 'Conflict' : null,
      errorMessage: null,
      steps: [{ name: 'export', status: 'Success', details: {} }],
      modifiedAttributes: [],
      durationMs: 5,
      onDemand: false,
    });
    await ctx.store.logs.insert([
      entry(1, 'Create', 'Success'),
      entry(2, 'Update', 'Success'),
      entry(3, 'Create', 'Failure'),
      entry(4, 'Skip', 'Skipped'),
    ]);
  });

  it('lists cycles newest first', async () => {
    const res = await read(await req(`/apps/${appId}/cycles?limit=1`, send('GET')));
    expect(res.items.map((c: { number: number }) => c.number)).toEqual([2]);
    const next = await read(await req(`/apps/${appId}/cycles?limit=1&cursor=${res.nextCursor}`, send('GET')));
    expect(next.items.map((c: { number: number }) => c.number)).toEqual([1]);
    expect((await req('/apps/nope/cycles', send('GET'))).status).toBe(404);
  });

  it('shows a cycle that pause, restart or configChanged interrupted as stopped, a documented status', async () => {
    const res = await read(await req(`/apps/${appId}/cycles`, send('GET')));
    expect(res.items.map((c: { number: number; status: string }) => [c.number, c.status])).toEqual([
      [2, 'stopped'],
      [1, 'running'],
    ]);
    const doc = await read(await ctx.app.request('/openapi.json', send('GET')));
    expect(doc.components.schemas.Cycle.properties.status.enum).toEqual(['running', 'succeeded', 'failed', 'stopped']);
    expect(doc.components.schemas.JobStatus.properties.lastCycle.properties.status.enum).toContain('stopped');
  });

  it('filters logs by action, status, object and time', async () => {
    const creates = await read(await req(`/apps/${appId}/logs?action=Create`, send('GET')));
    expect(creates.items.map((e: { sourceId: string }) => e.sourceId)).toEqual(['u3', 'u1']);
    const failed = await read(await req(`/apps/${appId}/logs?status=Failure,Skipped`, send('GET')));
    expect(failed.items.map((e: { sourceId: string }) => e.sourceId)).toEqual(['u4', 'u3']);
    const one = await read(await req(`/apps/${appId}/logs?objectId=t2&cycleId=${cycleId}`, send('GET')));
    expect(one.items.map((e: { sourceId: string }) => e.sourceId)).toEqual(['u2']);
    const window = await read(
      await req(`/apps/${appId}/logs?since=2026-01-01T10:02:00Z&until=2026-01-01T10:04:00Z`, send('GET')),
    );
    expect(window.items.map((e: { sourceId: string }) => e.sourceId)).toEqual(['u3', 'u2']);
  });

  it('pages logs with the cursor', async () => {
    const first = await read(await req(`/apps/${appId}/logs?limit=3`, send('GET')));
    const second = await read(await req(`/apps/${appId}/logs?limit=3&cursor=${first.nextCursor}`, send('GET')));
    expect([...first.items, ...second.items].map((e: { sourceId: string }) => e.sourceId)).toEqual([
      'u4',
      'u3',
      'u2',
      'u1',
    ]);
  });

  it('exports every matching entry as CSV with Accept: text/csv, cells escaped', async () => {
    const res = await req(`/apps/${appId}/logs?action=Create&limit=1`, send('GET', undefined, { Accept: 'text/csv' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const lines = (await res.text()).trim().split('\r\n');
    expect(lines[0].startsWith('id,time,appId')).toBe(true);
    expect(lines).toHaveLength(3);
    expect(lines.join('\n')).toContain(`"'=cmd|""Vance, Adele"""`);
  });

  it('rejects bad filters naming the field', async () => {
    const action = await req(`/apps/${appId}/logs?action=Explode`, send('GET'));
    expect((await read(action)).error.details[0].path).toContain('action');
    const since = await req(`/apps/${appId}/logs?since=yesterday`, send('GET'));
    expect((await read(since)).error.details[0].path).toBe('since');
    const order = await req(`/apps/${appId}/logs?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z`, send('GET'));
    expect(order.status).toBe(400);
    expect((await req(`/apps/${appId}/logs?cursor=abc`, send('GET'))).status).toBe(400);
  });
});

describe('status of a running cycle', () => {
  it('shows the progress of the cycle the job runs from the database: processed, total, percent and an ETA', async () => {
    await ctx.store.apps.create({ id: RUNNING, name: 'Busy', template: 'generic-scim', configuration: {} });
    const before = await read(await req(`/apps/${RUNNING}/provisioning`, send('GET')));
    // The job has started cycle 5, which has not begun in the database yet (the target is being tested).
    expect(before.status.cycle).toEqual({
      kind: 'initial',
      number: 5,
      processed: 0,
      total: 0,
      percent: 0,
      etaSeconds: null,
    });

    const startedAt = new Date(Date.now() - 60_000);
    const { cycle } = await ctx.store.cycles.begin({ appId: RUNNING, number: 5, kind: 'initial', startedAt });
    await ctx.store.cycles.update(cycle.id, { total: 4000, processed: 1000 });
    const res = await req(`/apps/${RUNNING}/provisioning`, send('GET'));
    expect(res.status).toBe(200);
    const { status } = await read(res);
    expect(status.cycle).toMatchObject({ kind: 'initial', number: 5, processed: 1000, total: 4000, percent: 25 });
    // 1,000 in a minute: 3,000 more take about three minutes.
    expect(status.cycle.etaSeconds).toBeGreaterThanOrEqual(180);
    expect(status.cycle.etaSeconds).toBeLessThan(300);

    await ctx.store.cycles.finish(cycle.id, { status: 'succeeded' });
    const after = await read(await req(`/apps/${RUNNING}/provisioning`, send('GET')));
    expect(after.status.cycle).toMatchObject({ number: 5, processed: 0, total: 0 });
  });
});
