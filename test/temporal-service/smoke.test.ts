import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.ts';
import { createActivities } from '../fixtures/temporal-workflows/activities.ts';
import { proceedSignal, stateQuery } from '../fixtures/temporal-workflows/index.ts';

const workflowsPath = fileURLToPath(new URL('../fixtures/temporal-workflows/index.ts', import.meta.url));

let env: TemporalTestEnv;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `smoke-${randomUUID()}`;
const fixtures = createActivities();

beforeAll(async () => {
  env = await createTemporalTestEnv();
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    workflowsPath,
    activities: fixtures.activities,
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.close();
});

describe('smoke: the real Worker and Client run a workflow end to end', () => {
  it('tells the workflow its history length and size', async () => {
    const info = await env.client.workflow.execute('historyInfoWorkflow', {
      taskQueue,
      workflowId: `history-${randomUUID()}`,
    });
    expect(info.length).toBe(8);
    expect(info.size).toBeGreaterThan(100);
    expect(info.suggested).toBe(false);
  });

  it('runs activity, timer, signal, query, child and continue-as-new', async () => {
    const handle = await env.client.workflow.start('smokeWorkflow', {
      taskQueue,
      workflowId: `smoke-${randomUUID()}`,
      args: [1],
    });
    const before = env.now().getTime();
    await env.skipTime(60 * 60_000);
    expect(env.now().getTime() - before).toBeGreaterThanOrEqual(60 * 60_000);
    expect(await handle.query(stateQuery)).toBe('round 1: slept');
    await handle.signal(proceedSignal, 'go');
    // Round 2 (after continue-as-new) sleeps an hour again: result() lets time skip.
    const waitForResult = handle.result();
    await expect
      .poll(async () => (await env.client.workflow.getHandle(handle.workflowId).describe()).runId)
      .not.toBe(handle.firstExecutionRunId);
    await env.client.workflow.getHandle(handle.workflowId).signal(proceedSignal, 'again');
    expect(await waitForResult).toBe('hello 2|child:again|run true');
    expect(fixtures.calls).toEqual(['hello 1', 'hello 2']);

    // The histories the service wrote replay in the SDK without a determinism error.
    const runs = [];
    for await (const info of env.client.workflow.list({ query: `WorkflowId STARTS_WITH '${handle.workflowId}'` })) {
      runs.push(info);
    }
    expect(runs.length).toBeGreaterThanOrEqual(2);
    const histories = await Promise.all(
      runs.map(async (info) => ({
        workflowId: info.workflowId,
        history: await env.client.workflow.getHandle(info.workflowId, info.runId).fetchHistory(),
      })),
    );
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowsPath }, histories)) {
      expect(result.error).toBeUndefined();
      replayed++;
    }
    expect(replayed).toBe(runs.length);
  });
});
