// The source workflows served by a real SDK Worker on a Temporal test env (time skipping where the
// backend can) over a fresh embedded store, as the source workflow tests run them.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createSourceActivities } from '../../activities/source-import.ts';
import { createTemporalSourceControl } from '../../api/source-temporal.ts';
import { openStore } from '../../store/index.ts';
import { TEST_ENCRYPTION_KEY } from '../support/postgres.ts';
import { createTemporalTestEnv, type TemporalBackend } from '../support/temporal.ts';

const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

export type SourceWorker = Awaited<ReturnType<typeof startSourceWorker>>;

/** `allowLoopback`: sources may reach 127.0.0.1 (fakes of Graph, LDAP servers); `name` tells task queues apart. */
export async function startSourceWorker(options: {
  backend: TemporalBackend;
  name: string;
  allowLoopback: boolean;
  logLevel?: 'ERROR' | 'WARN';
}) {
  Runtime.install({ logger: new DefaultLogger(options.logLevel ?? 'ERROR') });
  const env = await createTemporalTestEnv({ backend: options.backend, timeSkipping: true });
  const store = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
  await store.migrate();
  const taskQueue = `ferry-${options.name}-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowsPath,
    activities: createSourceActivities({
      store,
      policy: { allowLoopback: options.allowLoopback, allowedNetworks: [] },
    }),
  });
  const running = worker.run();
  return {
    env,
    store,
    taskQueue,
    control: createTemporalSourceControl(env.client.workflow, taskQueue),
    async close() {
      worker.shutdown();
      await running;
      await env.close();
      await store.close();
    },
  };
}
