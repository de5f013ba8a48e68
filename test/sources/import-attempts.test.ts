// A source import that fails and is retried by Temporal is one run in the import history, not one
// per attempt: each retried attempt updates the run its first attempt began (the run's id travels in
// the activity's heartbeat details) and the run counts its attempts. On the in-repo Temporal service
// and on the real server when its CLI is found (test/support/temporal-backends.ts).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceActivities } from '../../activities/source-import.ts';
import { createTemporalSourceControl } from '../../api/source-temporal.ts';
import { openStore, type Store } from '../../store/index.ts';
import { TEST_ENCRYPTION_KEY } from '../support/postgres.ts';
import { createTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.ts';
import { temporalBackends } from '../support/temporal-backends.ts';
import { sourcesApp } from './helpers.ts';

const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

/** A loopback port nothing listens on: connections to it are refused (a retryable transport error). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(temporalBackends)('source import attempts on the $name Temporal server', (backend) => {
  let env: TemporalTestEnv;
  let store: Store;
  let worker: Worker;
  let running: Promise<void>;
  let api: Awaited<ReturnType<typeof sourcesApp>>;
  const taskQueue = `ferry-source-attempts-${randomUUID()}`;

  beforeAll(async () => {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    env = await createTemporalTestEnv({ backend, timeSkipping: true });
    store = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
    await store.migrate();
    worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      workflowsPath,
      activities: createSourceActivities({ store, policy: { allowLoopback: true, allowedNetworks: [] } }),
    });
    running = worker.run();
    api = await sourcesApp({ store, control: createTemporalSourceControl(env.client.workflow, taskQueue) });
  }, 180_000);

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.close();
    await store?.close();
  });

  it('records one failed run with 3 attempts for an import whose 3 attempts fail', async () => {
    const unreachable = `http://127.0.0.1:${await closedPort()}`;
    const created = await api.call('POST', '/api/v1/sources', {
      type: 'entra',
      name: 'Unreachable Graph',
      tenantId: '00000000-0000-4000-8000-000000000001',
      clientId: '00000000-0000-4000-8000-000000000002',
      clientSecret: 'not-a-real-secret',
      authority: unreachable,
      graphUrl: unreachable,
      intervalMinutes: 60,
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body!.id as string;
    const runs = async () =>
      (await api.call('GET', `/api/v1/sources/${id}/runs`)).body!.items as Record<string, unknown>[];
    // The retries wait 5 s, then 10 s: the in-repo service skips them, the real server waits.
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && (await runs())[0]?.attempts !== 3) {
      if (backend.skipsTime) await env.skipTime(20_000);
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const items = await runs();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: 'failed', mode: 'full', attempts: 3, created: 0 });
    expect(items[0].finishedAt).toEqual(expect.any(String));
    expect(String(items[0].error)).not.toContain('not-a-real-secret');
    // The count is the run's own: read back from the store as the API answered it.
    expect((await store.sources.runs(id))[0]).toMatchObject({ id: items[0].id, attempts: 3 });
  }, 150_000);
});
