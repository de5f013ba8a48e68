// What an operator relies on with FERRY_TEMPORAL_METRICS_ADDRESS: the worker started as
// `npm run worker` serves the Temporal SDK runtime's own metrics (task slots, pollers, workflow and
// activity task latencies, sticky cache) as Prometheus text at that address, next to Ferry's own
// metrics on the probe port's /metrics — each endpoint with its own names, none mixed in the other.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, seedDirectory } from '../provisioning/fixtures.ts';
import { startProvisioningHarness, type ProvisioningHarness } from '../provisioning/harness.ts';
import { closedPort } from '../support/net.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { startWorkerProcess, workerProcessCodec, writeWorkflowBundle } from '../support/worker-process.ts';

const SHAPE = { users: 4, groups: 1 };

describe('the Temporal SDK’s metrics of a worker process (FERRY_TEMPORAL_METRICS_ADDRESS)', () => {
  let h: ProvisioningHarness;
  let peer: ScimPeer;
  let dir: string;
  let bundlePath: string;
  let sdkUrl: string;
  let probeUrl: string;
  let appId: string;
  const children = new Set<ChildProcess>();
  const taskQueue = `ferry-sdk-metrics-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    h = await startProvisioningHarness({ payloadCodec: workerProcessCodec() });
    peer = await startScimmyPeer();
    await seedDirectory(h.store, SHAPE);
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-sdk-metrics-'));
    bundlePath = await writeWorkflowBundle(dir);
    const sdkPort = await closedPort();
    const probePort = await closedPort();
    sdkUrl = `http://127.0.0.1:${sdkPort}/metrics`;
    probeUrl = `http://127.0.0.1:${probePort}/metrics`;
    await startWorkerProcess({
      temporalAddress: h.env.address,
      databaseUrl: h.db.url,
      taskQueue,
      bundlePath,
      children,
      env: {
        FERRY_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${sdkPort}`,
        FERRY_WORKER_HTTP_PORT: String(probePort),
        FERRY_WORKER_HTTP_HOST: '127.0.0.1',
      },
    });
    // A real cycle on the worker process's task queue (the harness's in-process worker polls another).
    appId = await createApp(h.store, peer, { shape: SHAPE });
    await h.startJob(appId, { taskQueue });
    const status = await h.waitForCycle(appId, 1);
    expect(status.lastCycle).toMatchObject({ number: 1, status: 'succeeded' });
  }, 120_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await h?.close();
    await peer?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Sample lines of `name` (exactly, or with a histogram suffix) whose labels include `labels`. */
  function samples(text: string, name: string, labels: Record<string, string> = {}): number[] {
    const values: number[] = [];
    for (const line of text.split('\n')) {
      const match = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
      if (!match || match[1] !== name) continue;
      const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      if (Object.entries(labels).every(([k, v]) => found[k] === v)) values.push(Number(match[3]));
    }
    return values;
  }

  it('answers Prometheus text with the worker’s task slots, pollers and task latencies for its task queue', async () => {
    const res = await fetch(sdkUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const onQueue = { task_queue: taskQueue, namespace: 'default' };
    // Free slots and pollers of the worker, per kind of task.
    expect(
      samples(text, 'temporal_worker_task_slots_available', { ...onQueue, worker_type: 'WorkflowWorker' }),
    ).not.toEqual([]);
    expect(
      samples(text, 'temporal_worker_task_slots_available', { ...onQueue, worker_type: 'ActivityWorker' }),
    ).not.toEqual([]);
    expect(samples(text, 'temporal_num_pollers', { ...onQueue, poller_type: 'workflow_task' })).not.toEqual([]);
    // The cycle ran here: workflow and activity tasks were taken and completed.
    const scheduleToStart = samples(text, 'temporal_workflow_task_schedule_to_start_latency_count', onQueue);
    expect(scheduleToStart.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const activities = samples(text, 'temporal_activity_execution_latency_count', onQueue);
    expect(activities.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // Counters carry no `_total` suffix; the one cycle completed, the job workflow runs on.
    expect(
      samples(text, 'temporal_workflow_completed', { ...onQueue, workflow_type: 'provisioningCycleWorkflow' }),
    ).toEqual([1]);
    // Ferry's own metrics are not here.
    expect(text).not.toMatch(/^ferry_/m);
  });

  it('keeps Ferry’s own metrics on the worker’s probe port, without the SDK’s', async () => {
    const res = await fetch(probeUrl);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(samples(text, 'ferry_cycles_total', { app_id: appId, kind: 'initial', result: 'succeeded' })).toEqual([1]);
    expect(text).not.toMatch(/^temporal_/m);
  });

  it('refuses to start, naming FERRY_TEMPORAL_METRICS_ADDRESS, when that address is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const started = startWorkerProcess({
        temporalAddress: h.env.address,
        databaseUrl: h.db.url,
        taskQueue: `${taskQueue}-taken`,
        bundlePath,
        children,
        env: { FERRY_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${port}` },
      });
      await expect(started).rejects.toThrow(
        `worker exited with 1: ferry worker: FERRY_TEMPORAL_METRICS_ADDRESS: cannot serve the Temporal SDK metrics on 127.0.0.1:${port}`,
      );
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  }, 60_000);
});
