// `npm run api` on its own (docker compose): like `npm start`, it ensures at start-up the job of
// every app whose provisioning is on — a paused one paused — so the API alone brings jobs back
// after Temporal lost them. Real Temporal test service + worker (recording fake activities), real
// Postgres.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../api/logger.ts';
import { PAUSED_JOBS_NAMESPACE } from '../../api/resources.ts';
import { openStore, type Store } from '../../store/index.ts';
import { startApi, type RunningApiProcess } from '../../workers/api.ts';
import { loadEnv } from '../../workers/env.ts';
import { payloadCodecFromEnv } from '../../workers/temporal-connection.ts';
import { jobWorkflowId } from '../../workflows/messages.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from '../support/postgres.ts';
import { startHarness, type Harness } from '../workflows/harness.ts';

const API_KEY = 'api-process-key-0123456789';
let h: Harness;
let db: TestDatabase;
let store: Store;
let api: RunningApiProcess | null = null;
const jobs: string[] = [];

beforeAll(async () => {
  // The API encrypts payloads with the key derived from FERRY_ENCRYPTION_KEY: so must the worker.
  h = await startHarness({ payloadCodec: payloadCodecFromEnv({ payloadKeys: [] }, TEST_ENCRYPTION_KEY)! });
  db = await createTestDatabase('api_process');
  store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY });
  await store.migrate();
});
afterAll(async () => {
  await api?.close();
  // The API started these jobs: they never end on their own.
  for (const appId of jobs) {
    await h?.client.workflow
      .getHandle(jobWorkflowId(appId))
      .terminate('test over')
      .catch(() => undefined);
  }
  await h?.close();
  await store?.close();
  await db?.drop();
});

describe('npm run api', () => {
  it('ensures the jobs of enabled apps at start-up, a paused one paused, and none for a disabled app', async () => {
    const suffix = Date.now().toString(36);
    const [enabled, paused, disabled] = ['enabled', 'paused', 'disabled'].map((name) => `${name}-${suffix}`);
    for (const id of [enabled, paused, disabled]) {
      h.fakes.addApp(id, {});
      await store.apps.create({
        id,
        name: id,
        template: 'generic-scim',
        configuration: {},
        provisioningEnabled: id !== disabled,
      });
    }
    jobs.push(enabled, paused);
    await store.keyValues.set(PAUSED_JOBS_NAMESPACE, paused, { since: new Date().toISOString() });

    api = await startApi(
      loadEnv({
        TEMPORAL_ADDRESS: h.env.address,
        FERRY_TASK_QUEUE: h.taskQueue,
        DATABASE_URL: db.url,
        FERRY_API_KEYS: API_KEY,
        FERRY_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        HOST: '127.0.0.1',
        PORT: '0',
        FERRY_ALLOW_INSECURE_LOOPBACK: '1',
      }),
      createLogger({ level: 'error', write: () => undefined }),
    );

    expect((await h.waitForStatus(enabled, (s) => s.lastCycle?.number === 1, 'initial cycle')).state).toBe('steady');
    expect((await h.waitForStatus(paused, (s) => s.state === 'paused', 'paused')).lastCycle).toBeNull();
    await expect(h.client.workflow.getHandle(jobWorkflowId(disabled)).describe()).rejects.toThrow();

    // The API it serves is the same: the job's status through it.
    const res = await fetch(`${api.url}/api/v1/apps/${paused}/provisioning`, {
      headers: { Authorization: `Bearer ${API_KEY}` },
    });
    expect(await res.json()).toMatchObject({ running: true, status: { state: 'paused' } });
  });

  it('honours FERRY_ALLOW_INSECURE_LOOPBACK=1: an app may target plain http on loopback without its own setting', async () => {
    expect(api).not.toBeNull();
    const res = await fetch(`${api!.url}/api/v1/apps`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: 'Loopback',
        template: 'generic-scim',
        target: { url: 'http://127.0.0.1:9/scim/v2', token: 't' },
      }),
    });
    expect(res.status).toBe(201);
  });
});
