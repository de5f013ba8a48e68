// ferry_jobs{state} and ferry_job_state{app_id,state} on the API's GET /metrics: read from Temporal's
// visibility at each scrape, here from REAL job workflows (fake activities) on the in-repo Temporal
// service, started and paused through the API. With Temporal unreachable the scrape still answers.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../api/logger.ts';
import { openStore, type Store } from '../../store/index.ts';
import { createControlApi } from '../../workers/api.ts';
import { TEST_ENCRYPTION_KEY } from '../support/postgres.ts';
import { closedPort } from '../support/net.ts';
import { startHarness, type Harness } from '../workflows/harness.ts';
import { API_KEY, send } from './routes/helpers.ts';

let h: Harness;
let store: Store;

beforeAll(async () => {
  h = await startHarness();
  store = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
  await h?.close();
});

const quietLogger = () => createLogger({ level: 'error', write: () => undefined });

async function scrape(app: { request: (path: string, init: RequestInit) => Response | Promise<Response> }) {
  const res = await app.request('/metrics', send('GET'));
  expect(res.status).toBe(200);
  return await res.text();
}

/** The samples of one metric, e.g. `ferry_jobs{state="paused"} 1`. */
const samples = (text: string, name: string) => text.split('\n').filter((line) => line.startsWith(`${name}{`));

describe('job states on GET /metrics', () => {
  it('counts the jobs by state, shows each running job of an app, and counts apps whose job is not running', async () => {
    const { app } = createControlApi({
      store,
      connection: h.client.connection as Connection,
      client: h.client,
      taskQueue: h.taskQueue,
      apiKeys: [{ key: API_KEY, name: 'test' }],
      logger: quietLogger(),
      allowInsecureLoopback: true,
    });
    const [running, paused, off] = ['running', 'paused', 'off'].map((name) => ({
      id: `app-${name}-${randomUUID().slice(0, 8)}`,
      name: `Contoso ${name}`,
    }));
    try {
      for (const a of [running, paused]) {
        h.fakes.addApp(a.id, {});
        await store.apps.create({ ...a, template: 'generic-scim', configuration: {} });
        const res = await app.request(`/api/v1/apps/${a.id}/provisioning/start`, send('POST'));
        expect(res.status).toBeLessThan(300);
        await h.waitForStatus(a.id, (s) => s.state === 'steady' && s.cycle === null, 'initial cycle');
      }
      // Provisioning on, but its job is gone (e.g. Temporal lost it): not_running.
      await store.apps.create({ ...off, template: 'generic-scim', configuration: {}, provisioningEnabled: true });
      const res = await app.request(`/api/v1/apps/${paused.id}/provisioning/pause`, send('POST'));
      expect(res.status).toBeLessThan(300);
      await h.waitForStatus(paused.id, (s) => s.state === 'paused', 'paused');

      const text = await scrape(app);
      expect(samples(text, 'ferry_jobs').sort()).toEqual(
        [
          'ferry_jobs{state="disabled"} 0',
          'ferry_jobs{state="initial"} 0',
          'ferry_jobs{state="not_running"} 1',
          'ferry_jobs{state="paused"} 1',
          'ferry_jobs{state="quarantined"} 0',
          'ferry_jobs{state="steady"} 1',
        ].sort(),
      );
      expect(samples(text, 'ferry_job_state').sort()).toEqual(
        [
          `ferry_job_state{app_id="${paused.id}",state="paused"} 1`,
          `ferry_job_state{app_id="${running.id}",state="steady"} 1`,
        ].sort(),
      );
      expect(text).toContain('ferry_job_states_scrape_errors_total 0');

      // The next scrape reads again: the resumed job is steady.
      await app.request(`/api/v1/apps/${paused.id}/provisioning/resume`, send('POST'));
      await h.waitForStatus(paused.id, (s) => s.state === 'steady', 'resumed');
      expect(await scrape(app)).toContain('ferry_jobs{state="steady"} 2');
    } finally {
      for (const a of [running, paused]) {
        await h
          .jobHandle(a.id)
          .terminate('test over')
          .catch(() => undefined);
      }
    }
  });

  it('answers 200 without the job gauges, and counts the failed read, when Temporal does not answer', async () => {
    const connection = Connection.lazy({ address: `127.0.0.1:${await closedPort()}`, connectTimeout: 60_000 });
    try {
      const { app } = createControlApi({
        store,
        connection,
        client: new Client({ connection }),
        taskQueue: h.taskQueue,
        apiKeys: [{ key: API_KEY, name: 'test' }],
        logger: quietLogger(),
        allowInsecureLoopback: true,
      });
      const text = await scrape(app);
      expect(samples(text, 'ferry_jobs')).toEqual([]);
      expect(samples(text, 'ferry_job_state')).toEqual([]);
      expect(text).toContain('ferry_job_states_scrape_errors_total 1');
      // The other metrics are there as always.
      expect(text).toContain('# TYPE ferry_cycles_total counter');
      expect(await scrape(app)).toContain('ferry_job_states_scrape_errors_total 2');
    } finally {
      // A gRPC retry scheduled before the deadline may still fire: closing the channel under it
      // throws from a timer. Let it fire first.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await connection.close();
    }
  });
});
