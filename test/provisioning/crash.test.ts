// A worker PROCESS killed with SIGKILL in the middle of the initial cycle, three times, and
// restarted: the cycle finishes with exactly the expected target state and no duplicate account, and
// its log shows every account Ferry created as a Create.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cycleWorkflowId } from '../../workflows/messages.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import {
  startWorkerProcess as startWorker,
  workerProcessCodec,
  writeWorkflowBundle,
} from '../support/worker-process.ts';
import { createApp, expectedState, seedDirectory, targetState } from './fixtures.ts';
import { startProvisioningHarness, type ProvisioningHarness } from './harness.ts';

describe('a worker process killed mid-cycle', () => {
  let h: ProvisioningHarness;
  let peer: ScimPeer;
  let dir: string;
  let bundlePath: string;
  const children = new Set<ChildProcess>();
  const taskQueue = `ferry-crash-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    // With the codec the worker processes derive from the same key, so this client reads their payloads.
    h = await startProvisioningHarness({ payloadCodec: workerProcessCodec() });
    peer = await startScimmyPeer();
    await seedDirectory(h.store);
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-crash-'));
    // Bundle the workflows once, so each restarted process starts in a second or two.
    bundlePath = await writeWorkflowBundle(dir);
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await h?.close();
    await peer?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const startWorkerProcess = () =>
    startWorker({ temporalAddress: h.env.address, databaseUrl: h.db.url, taskQueue, bundlePath, children });

  async function killHard(child: ChildProcess): Promise<void> {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * The dead worker's activity would be retried after its 1-minute heartbeat timeout; failing it by
   * id does the same at once, so the test does not wait minutes of real time.
   */
  async function failOrphanedActivities(appId: string): Promise<void> {
    const workflowId = cycleWorkflowId(appId, 1);
    const description = await h.env.client.workflow.getHandle(workflowId).describe();
    for (const pending of description.raw.pendingActivities ?? []) {
      if (!pending.activityId) continue;
      await h.env.client.activity
        .fail(
          { workflowId, runId: description.runId, activityId: pending.activityId },
          new Error('worker process killed'),
        )
        .catch(() => {});
    }
  }

  /** Waits until the target has seen `atLeast` creates: the kill then lands among unsaved outcomes. */
  async function waitForCreates(atLeast: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (peer.requestLog.filter((r) => r.method === 'POST').length >= atLeast) return;
      if (Date.now() > deadline) throw new Error(`the target did not see ${atLeast} creates`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('finishes the cycle with the exact target state and no duplicate', async () => {
    const appId = await createApp(h.store, peer);
    // Stop the in-process worker from taking this job: it runs on its own task queue.
    await h.startJob(appId, { batchSize: 20, taskQueue });
    let worker = await startWorkerProcess();
    for (const mark of [30, 90, 160]) {
      await waitForCreates(mark);
      await killHard(worker);
      await failOrphanedActivities(appId);
      worker = await startWorkerProcess();
    }
    const status = await h.waitForCycle(appId, 1);
    expect(status.lastCycle).toMatchObject({ number: 1, status: 'succeeded' });

    const users = await peer.users();
    const userNames = users.map((u) => String(u.userName).toLowerCase());
    expect(new Set(userNames).size).toBe(userNames.length);
    const groups = await peer.groups();
    expect(new Set(groups.map((g) => g.displayName)).size).toBe(groups.length);
    const actual = targetState(users, groups);
    const expected = expectedState();
    expect(actual.users.size).toBe(200);
    for (const [name, facts] of expected.users) expect(actual.users.get(name), name).toMatchObject(facts);
    expect(actual.groups.size).toBe(20);
    for (const [name, members] of expected.groups) expect(actual.groups.get(name), name).toEqual(members);
    const row = await h.store.cycles.getByNumber(appId, 1);
    const logs = await h.store.logs.query({ appId, cycleId: row?.id, limit: 5000 });
    const firstPass = logs.items.filter(
      (l) => !l.steps.every((s) => s.name === 'referenceResolution' || s.name === 'export') || l.action === 'Create',
    );
    expect(new Set(firstPass.map((l) => `${l.objectType}:${l.sourceId}`)).size).toBe(220);
    // The log says what Ferry did: every account it created is a Create, also those whose outcome the
    // kills lost (the retry adopted them), none a "matched" Skip.
    const creates = logs.items.filter((l) => l.action === 'Create');
    expect(new Set(creates.map((l) => `${l.objectType}:${l.sourceId}`)).size).toBe(220);
    expect(logs.items.filter((l) => l.action === 'Skip')).toEqual([]);
    expect(status.lastCycle?.counts).toMatchObject({ created: 220, skipped: 0 });
    // SIGTERM is a clean shutdown: the worker finishes what it runs and exits 0.
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 180_000);
});
