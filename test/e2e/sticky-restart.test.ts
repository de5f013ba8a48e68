// A worker process killed with SIGKILL right after its replacement started, on the real Temporal server: the
// server still routes each job's queries to the dead worker's sticky queue until it notices nobody
// polls there (about 10 s). The new worker tells the server to forget those queues, so the job's
// status — which every provisioning action reads first, answering 503 after 5 s — answers at once.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../store/index.ts';
import { JOB_WORKFLOW_TYPE, jobWorkflowId, statusQuery } from '../../workflows/messages.ts';
import { findTemporalCli } from '../../workers/temporal-cli.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from '../support/postgres.ts';
import { reportMissingRealServer } from '../support/temporal-backends.ts';
import { createTemporalTestEnv, realBackend, type TemporalTestEnv } from '../support/temporal.ts';
import {
  startWorkerProcess as startWorker,
  workerProcessCodec,
  writeWorkflowBundle,
} from '../support/worker-process.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { createApp } from '../provisioning/fixtures.ts';

const cli = findTemporalCli();
if (!cli) reportMissingRealServer('NO REAL TEMPORAL SERVER: the sticky-queue restart test does not run.');

describe.runIf(cli)('a worker killed right after its replacement started (real Temporal server)', () => {
  let env: TemporalTestEnv;
  let db: TestDatabase;
  let store: Store;
  let peer: ScimPeer;
  let dir: string;
  let bundlePath: string;
  const children = new Set<ChildProcess>();
  const taskQueue = `ferry-sticky-${randomUUID()}`;

  beforeAll(async () => {
    env = await createTemporalTestEnv({ backend: realBackend, payloadCodec: workerProcessCodec() });
    db = await createTestDatabase('sticky');
    store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY, poolSize: 4 });
    await store.migrate();
    peer = await startScimmyPeer();
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-sticky-'));
    // A bundle made once, so the replacement worker polls within a second or two.
    bundlePath = await writeWorkflowBundle(dir);
  }, 120_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await store?.close();
    await env?.close();
    await peer?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const startWorkerProcess = () =>
    startWorker({ temporalAddress: env.address, databaseUrl: db.url, taskQueue, bundlePath, children });

  /**
   * The job's status, or 'no answer' when the server does not deliver the query within `ms`. The
   * deadline ends the gRPC call too, so no query is left retrying after the suite closed its client.
   */
  async function statusWithin(appId: string, ms: number) {
    const query = env.client.withDeadline(Date.now() + ms, () =>
      env.client.workflow.getHandle(jobWorkflowId(appId)).query(statusQuery),
    );
    query.catch(() => undefined);
    const late = new Promise<'no answer'>((resolve) => setTimeout(() => resolve('no answer'), ms).unref());
    return Promise.race([query, late]);
  }

  /**
   * Until the job has no workflow task and no activity in flight. A cycle's end is followed by the
   * job's announcement of its new state (an activity, then a workflow task): a worker killed in the
   * middle of that task holds every query until the task times out (10 s), which is not what this
   * test is about — an idle job bound to a dead worker's sticky queue.
   */
  async function idle(appId: string) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { raw } = await env.client.workflow.getHandle(jobWorkflowId(appId)).describe();
      if (!raw.pendingWorkflowTask && (raw.pendingActivities ?? []).length === 0) return;
      if (Date.now() > deadline) throw new Error(`the job did not become idle: ${JSON.stringify(raw)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * The job's status as a client that asks again after an error sees it within `ms`, or 'no answer'.
   * (A query the server handed to the killed worker's last poll fails at once; asking again is fine.)
   */
  async function statusAskingAgainWithin(appId: string, ms: number) {
    const deadline = Date.now() + ms;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return 'no answer' as const;
      try {
        return await statusWithin(appId, remaining);
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  // Retried: on a loaded machine the replacement can miss the window now and then (CI saw it once in
  // several runs). Without the fix every attempt waits out the server's ~10 s, so a retry still fails.
  it('answers the job status query at once after the kill', { retry: 2, timeout: 300_000 }, async () => {
    const appId = await createApp(store, peer, { assignGroups: false });
    await store.apps.setProvisioningEnabled(appId, true);
    let worker = await startWorkerProcess();
    await env.client.workflow.start(JOB_WORKFLOW_TYPE, {
      workflowId: jobWorkflowId(appId),
      taskQueue,
      args: [{ appId, appName: 'Sticky app', batchSize: 50 }],
    });
    // The worker has served the job (so the job is bound to its sticky queue) and answers queries.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const status = await statusWithin(appId, 5_000);
      if (status !== 'no answer' && status.lastCycle?.number === 1 && status.cycle === null) break;
      if (Date.now() > deadline) throw new Error(`cycle 1 did not end; last status ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await idle(appId);
    // Bound to the worker's sticky queue again: a query is answered through it.
    expect(await statusWithin(appId, 5_000)).toMatchObject({ lastCycle: { number: 1 } });

    // As a rolling restart does (and as a service manager does, only faster): the new worker polls,
    // then the old one is killed, so the dead worker's sticky queue is still fresh on the server.
    const replacement = await startWorkerProcess();
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGKILL');
    await exited;
    worker = replacement;

    // 5 s is what a provisioning action waits before answering 503. Without forgetting the dead
    // worker's sticky queue, the server holds the query there for about 10 s; 8 s leaves a loaded
    // machine (CI runs several suites at once) room and still tells the two apart.
    const status = await statusAskingAgainWithin(appId, 8_000);
    expect(status).not.toBe('no answer');
    expect(status).toMatchObject({ lastCycle: { number: 1 } });
  });
});
