import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Msg } from '../../dev/temporal-service/proto.ts';
import { rawClient } from './raw-client.ts';
import { cyclesQuery } from '../fixtures/temporal-workflows/index.ts';
import { startWorld, type TestWorld } from './worker.ts';

const MINUTE = 60_000;
let world: TestWorld;

beforeAll(async () => {
  world = await startWorld({ timeSkipping: true });
});
afterAll(() => world?.stop());

describe('time skipping', () => {
  it('skipTime fires every timer in the window, letting the work each one triggers finish inside it', async () => {
    const { env } = world;
    const handle = await env.client.workflow.start('cyclesWorkflow', {
      taskQueue: world.taskQueue,
      workflowId: world.id('cycles'),
      args: [40 * MINUTE, 30],
    });
    const start = env.now().getTime();
    await env.skipTime(120 * MINUTE);
    const cycles = await handle.query(cyclesQuery);
    expect(cycles).toHaveLength(3);
    // Each cycle ran at its 40-minute mark of virtual time, seen by the workflow's Date.now().
    cycles.forEach((at, i) => expect(Math.round((at - start) / MINUTE)).toBe(40 * (i + 1)));
    await env.skipTime(39 * MINUTE);
    expect(await handle.query(cyclesQuery)).toHaveLength(3);
    await env.skipTime(1 * MINUTE);
    expect(await handle.query(cyclesQuery)).toHaveLength(4);
    await handle.terminate();
  });

  it('skipTime advances the clock by exactly the amount asked', async () => {
    const before = world.env.now().getTime();
    await world.env.skipTime(5 * MINUTE);
    const advanced = world.env.now().getTime() - before;
    expect(advanced).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(advanced).toBeLessThan(5 * MINUTE + 1000);
  });

  it('jumps to the next timer while a client awaits the result', async () => {
    const [before, after] = await world.env.client.workflow.execute('sleeper', {
      taskQueue: world.taskQueue,
      workflowId: world.id('sleeper'),
      args: [24 * 60 * MINUTE],
    });
    expect(after - before).toBeGreaterThanOrEqual(24 * 60 * MINUTE);
  });

  it('does not skip time when nobody awaits a result (an eternal workflow does not make it spin)', async () => {
    const { env } = world;
    const handle = await env.client.workflow.start('cyclesWorkflow', {
      taskQueue: world.taskQueue,
      workflowId: world.id('eternal'),
      args: [MINUTE, 1],
    });
    const before = env.now().getTime();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(env.now().getTime() - before).toBeLessThan(MINUTE);
    expect(await handle.query(cyclesQuery)).toHaveLength(0);
    await handle.terminate();
  });

  it('drives the clock through the TestService RPCs (current time, sleep, lock)', async () => {
    const testService = rawClient(world.env.address, 'temporal.api.testservice.v1.TestService');
    try {
      const seconds = (response: Msg): number => Number(response.time?.seconds ?? 0);
      const before = seconds(await testService.call('GetCurrentTime', {}));
      await testService.call('LockTimeSkipping', {});
      await testService.call('Sleep', { duration: { seconds: 3600 } });
      await testService.call('UnlockTimeSkipping', {});
      const after = seconds(await testService.call('GetCurrentTime', {}));
      expect(after - before).toBeGreaterThanOrEqual(3600);
      expect(after - before).toBeLessThan(3605);
    } finally {
      testService.close();
    }
  });
  it('answers UNIMPLEMENTED for an RPC it does not serve', async () => {
    await expect(world.env.client.workflowService.listSchedules({ namespace: 'default' })).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
    });
  });
});

describe('without time skipping', () => {
  it('timers fire in real time and result() does not skip', async () => {
    const other = await startWorld({ timeSkipping: false });
    try {
      const started = Date.now();
      const [before, after] = await other.env.client.workflow.execute('sleeper', {
        taskQueue: other.taskQueue,
        workflowId: other.id('real-time'),
        args: [300],
      });
      expect(after - before).toBeGreaterThanOrEqual(300);
      expect(after - before).toBeLessThan(MINUTE);
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    } finally {
      await other.stop();
    }
  });
});
