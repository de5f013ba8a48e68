// The Temporal adapter against the REAL job workflow (workflows/) on the in-repo Temporal test
// service, through the real SDK Worker and Client (activities are the workflow tests' recording
// fakes). Proves the signal/query names, ids, task queue and start arguments the API uses are
// those the workflow understands.
import { randomUUID } from 'node:crypto';
import { Connection, WorkflowClient } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, until } from '../support/net.ts';
import { ApiError } from '../../api/errors.ts';
import type { ProvisioningControl } from '../../api/provisioning-control.ts';
import { createTemporalProvisioningControl } from '../../api/temporal.ts';
import * as messages from '../../workflows/messages.ts';
import { startHarness, type Harness } from '../workflows/harness.ts';
import { read, send, storeApp } from './routes/helpers.ts';

let h: Harness;
let control: ProvisioningControl;
const jobs: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  control = createTemporalProvisioningControl({
    client: h.client.workflow,
    taskQueue: h.taskQueue,
  });
});
afterEach(async () => {
  await Promise.all(
    jobs.splice(0).map((appId) =>
      h.client.workflow
        .getHandle(messages.jobWorkflowId(appId))
        .terminate('test over')
        .catch(() => undefined),
    ),
  );
});
afterAll(async () => {
  await h?.close();
});

function newApp(): string {
  const appId = `app-${randomUUID().slice(0, 8)}`;
  h.fakes.addApp(appId, {});
  jobs.push(appId);
  return appId;
}

describe('Temporal provisioning control on the real job workflow', () => {
  it('starts a job that runs its initial cycle, reports status, pauses, resumes and is quarantined and released', async () => {
    const appId = newApp();
    expect(await control.status(appId)).toBeNull();
    await control.start(appId, { appName: 'Contoso GroupTalk' });
    const first = await h.waitForStatus(appId, (s) => s.lastCycle?.number === 1 && s.cycle === null, 'initial cycle');
    expect(first).toMatchObject({ appId, state: 'steady' });
    expect(await control.status(appId)).toMatchObject({ appId, state: 'steady' });

    // start again: idempotent, same job
    await control.start(appId);
    await control.ensure(appId);
    expect((await control.status(appId))?.lastCycle?.number).toBe(1);

    await control.pause(appId);
    await h.waitForStatus(appId, (s) => s.state === 'paused', 'paused');
    await control.resume(appId);
    await h.waitForStatus(appId, (s) => s.state === 'steady', 'resumed');

    await control.quarantine(appId, 'Target migration');
    const quarantined = await h.waitForStatus(appId, (s) => s.state === 'quarantined', 'quarantined');
    // The job records a manual quarantine under the reason code `Manual` (engine/policies/quarantine.ts).
    expect(quarantined.quarantine?.reason).toBe('Manual');
    await control.release(appId);
    await h.waitForStatus(appId, (s) => s.state !== 'quarantined' && s.quarantine === null, 'released');
  });

  it('runs a cycle now, and returns the on-demand report of the child workflow', async () => {
    const appId = newApp();
    await control.start(appId);
    await h.waitForStatus(appId, (s) => s.lastCycle?.number === 1 && s.cycle === null, 'initial cycle');
    await control.runNow(appId);
    await h.waitForStatus(appId, (s) => s.lastCycle?.number === 2 && s.cycle === null, 'second cycle');

    const report = await control.provisionOnDemand(appId, { requestId: 'req-1', objectType: 'user', objectId: 'u-1' });
    expect(report).toMatchObject({ requestId: 'req-1', objectType: 'user', objectId: 'u-1' });
    expect(report.steps.map((s) => s.name)).toEqual(['testConnection', 'import', 'scoping', 'matching', 'action']);
  });

  it('stops a job for good: the job and its running cycle are terminated, and stopping again is no error', async () => {
    const appId = newApp();
    await control.start(appId);
    await h.waitForStatus(appId, (s) => s.lastCycle?.number === 1 && s.cycle === null, 'initial cycle');
    const gate = h.fakes.gate(appId);
    try {
      await control.runNow(appId);
      await h.waitForStatus(appId, (s) => s.cycle?.number === 2, 'cycle 2 running', { settle: false });
      await control.stop(appId);
      const job = await h.client.workflow.getHandle(messages.jobWorkflowId(appId)).describe();
      expect(job.status.name).toBe('TERMINATED');
      const cycle = await h.client.workflow.getHandle(messages.cycleWorkflowId(appId, 2)).describe();
      expect(cycle.status.name).toBe('TERMINATED');
      expect(await control.status(appId)).toBeNull();
      await expect(control.stop(appId)).resolves.toBeUndefined();
      // Signals now find no job: nothing keeps provisioning the app.
      expect(await control.pause(appId).catch((e: unknown) => (e as ApiError).code)).toBe('job_not_running');
    } finally {
      gate.release();
    }
  });

  it('stops an on-demand child started by an earlier run of the job (abandoned by design)', async () => {
    const appId = newApp();
    await control.start(appId);
    await h.waitForStatus(appId, (s) => s.lastCycle?.number === 1 && s.cycle === null, 'initial cycle');
    const gate = h.fakes.gateOnDemand(appId);
    try {
      await h.client.workflow
        .getHandle(messages.jobWorkflowId(appId))
        .signal(messages.provisionOnDemandSignal, { requestId: 'held', objectType: 'user', objectId: 'u-1' });
      const child = h.client.workflow.getHandle(messages.onDemandWorkflowId(appId, 'held'));
      await until(async () => (await child.describe().catch(() => null))?.status.name === 'RUNNING');
      const job = h.client.workflow.getHandle(messages.jobWorkflowId(appId));
      const runOfChild = (await job.describe()).runId;
      // A cycle and its continue-as-new: the child now belongs to an earlier run of the job.
      await control.runNow(appId);
      await until(async () => (await job.describe()).runId !== runOfChild);
      await control.stop(appId);
      expect((await child.describe()).status.name).toBe('TERMINATED');
    } finally {
      gate.release();
    }
  });

  it('stopping an app whose job never ran is no error', async () => {
    await expect(control.stop(`app-never-${randomUUID().slice(0, 8)}`)).resolves.toBeUndefined();
  });

  it('GET /apps/{id} shows the state of the real job: none, steady, paused; and null when Temporal is away', async () => {
    const appId = newApp();
    const { store, app: api, close } = await storeApp({ provisioning: control });
    try {
      await store.apps.create({ id: appId, name: 'Contoso GroupTalk', template: 'generic-scim', configuration: {} });
      const provisioningOf = async () => {
        const res = await api.request(`/api/v1/apps/${appId}`, send('GET'));
        expect(res.status).toBe(200);
        return (await read(res)).provisioning;
      };
      expect(await provisioningOf()).toMatchObject({ state: null, reason: 'notRunning' });
      await control.start(appId);
      await h.waitForStatus(appId, (s) => s.lastCycle?.number === 1 && s.cycle === null, 'initial cycle');
      expect(await provisioningOf()).toEqual({ state: 'steady', reason: null, temporalUiUrl: null });
      await control.pause(appId);
      await h.waitForStatus(appId, (s) => s.state === 'paused', 'paused');
      expect(await provisioningOf()).toEqual({ state: 'paused', reason: null, temporalUiUrl: null });
    } catch (error) {
      await close();
      throw error;
    }

    // A Temporal nobody answers at: the app is still shown, within the bound. The same store (a
    // second embedded database costs half a minute on a busy machine).
    const connection = Connection.lazy({ address: `127.0.0.1:${await closedPort()}`, connectTimeout: 60_000 });
    const away = await storeApp({
      store,
      provisioning: createTemporalProvisioningControl({ client: new WorkflowClient({ connection }) }),
      statusTimeoutMs: 300,
    });
    try {
      const res = await away.app.request(`/api/v1/apps/${appId}`, send('GET'));
      expect(res.status).toBe(200);
      expect((await read(res)).provisioning).toMatchObject({ state: null, reason: 'unavailable' });
    } finally {
      await close();
      // The status call the API gave up on ends by its deadline (300 ms), but a gRPC retry scheduled
      // before it may still fire: closing the channel under it throws from a timer. Let it fire first.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await connection.close();
    }
  });

  it('answers 409 job_not_running for signals to an app without a running job', async () => {
    const appId = `app-none-${randomUUID().slice(0, 8)}`;
    const error = await control.pause(appId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('job_not_running');
  });
});
