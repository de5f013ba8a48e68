// One real Worker per test file, on a fresh task queue, serving the fixture workflows.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createTemporalTestEnv, type TemporalBackend, type TemporalTestEnv } from '../support/temporal.ts';
import { root } from '../../dev/temporal-service/proto.ts';
import type { ServiceLimits } from '../../dev/temporal-service/limits.ts';
import { createActivities } from '../fixtures/temporal-workflows/activities.ts';

const EventType = root.lookupEnum('temporal.api.enums.v1.EventType');

/** A run's history as event type names without the prefix (`ACTIVITY_TASK_STARTED`, …). */
export async function eventTypes(env: TemporalTestEnv, workflowId: string, runId?: string): Promise<string[]> {
  const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? []).map((e) => EventType.valuesById[Number(e.eventType)].replace('EVENT_TYPE_', ''));
}

export const workflowsPath = fileURLToPath(new URL('../fixtures/temporal-workflows/index.ts', import.meta.url));

export interface TestWorld {
  env: TemporalTestEnv;
  taskQueue: string;
  fixtures: ReturnType<typeof createActivities>;
  /** A fresh workflow id. */
  id(prefix?: string): string;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

export async function startWorld(
  options: { timeSkipping?: boolean; backend?: TemporalBackend; limits?: Partial<ServiceLimits> } = {},
): Promise<TestWorld> {
  if (!runtimeInstalled) {
    // Activity failures are expected here by the dozen; keep the output for real errors.
    runtimeInstalled = true;
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  }
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
