import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type TestWorld } from './worker.ts';

let world: TestWorld;

beforeAll(async () => {
  world = await startWorld({ timeSkipping: true });
});
afterAll(() => world?.stop());

describe('scale', () => {
  it('completes a workflow of 1,000 sequential activities', async () => {
    const started = Date.now();
    const result = await world.env.client.workflow.execute('sequentialActivities', {
      taskQueue: world.taskQueue,
      workflowId: world.id('sequential'),
      args: [1000],
    });
    console.log(`1,000 sequential activities: ${Date.now() - started} ms wall time`);
    expect(result).toBe(1000);
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
