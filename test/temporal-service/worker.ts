// One real Worker per test file, on a fresh task queue, serving the fixture workflows.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { createTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.ts';
import { createActivities } from '../fixtures/temporal-workflows/activities.ts';

export const workflowsPath = fileURLToPath(new URL('../fixtures/temporal-workflows/index.ts', import.meta.url));

export interface TestWorld {
  env: TemporalTestEnv;
  taskQueue: string;
  fixtures: ReturnType<typeof createActivities>;
  /** A fresh workflow id. */
  id(prefix?: string): string;
  stop(): Promise<void>;
}

export async function startWorld(options: { timeSkipping?: boolean } = {}): Promise<TestWorld> {
  const env = await createTemporalTestEnv(options);
  const taskQueue = `tq-${randomUUID()}`;
  const fixtures = createActivities();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    workflowsPath,
    activities: fixtures.activities,
  });
  const running = worker.run();
  return {
    env,
    taskQueue,
    fixtures,
    id: (prefix = 'wf') => `${prefix}-${randomUUID()}`,
    stop: async () => {
      worker.shutdown();
      await running;
      await env.close();
    },
  };
}
