import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type TestWorld } from './worker.ts';

const { temporal } = proto;
let world: TestWorld;

beforeAll(async () => {
  world = await startWorld({ timeSkipping: true });
});
afterAll(() => world?.stop());

describe('scale', () => {
  it('completes a workflow of 1,000 sequential activities', async () => {
    const started = Date.now();
    const workflowId = world.id('sequential');
    const result = await world.env.client.workflow.execute('sequentialActivities', {
      taskQueue: world.taskQueue,
      workflowId,
      args: [1000],
    });
    console.log(`1,000 sequential activities: ${Date.now() - started} ms wall time`);
    expect(result).toBe(1000);
    // The worker kept the run cached: nearly every task went to its sticky queue (incremental history).
    const { events } = await world.env.client.workflow.getHandle(workflowId).fetchHistory();
    const kinds = (events ?? []).flatMap((e) => e.workflowTaskScheduledEventAttributes?.taskQueue?.kind ?? []);
    const sticky = kinds.filter((kind) => kind === temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY);
    expect(sticky.length).toBeGreaterThan(kinds.length * 0.9);
  }, 180_000);

  it('completes a workflow of 100 concurrent child workflows', async () => {
    const started = Date.now();
    const result = await world.env.client.workflow.execute('concurrentChildren', {
      taskQueue: world.taskQueue,
      workflowId: world.id('children'),
      args: [100],
    });
    console.log(`100 concurrent child workflows: ${Date.now() - started} ms wall time`);
    expect(result).toBe(100);
  }, 180_000);
});
