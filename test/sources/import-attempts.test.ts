// A source import that fails and is retried by Temporal is one run in the import history, not one
// per attempt: each retried attempt updates the run its first attempt began (the run's id travels in
// the activity's heartbeat details) and the run counts its attempts. On the in-repo Temporal service
// and on the real server when its CLI is found (test/support/temporal-backends.ts).
import { closedPort } from '../support/net.ts';
import { startSourceWorker, type SourceWorker } from './source-worker.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../store/index.ts';
import { type TemporalTestEnv } from '../support/temporal.ts';
import { temporalBackends } from '../support/temporal-backends.ts';
import { sourcesApp } from './helpers.ts';

describe.each(temporalBackends)('source import attempts on the $name Temporal server', (backend) => {
  let env: TemporalTestEnv;
  let store: Store;
  let sources: SourceWorker;
  let api: Awaited<ReturnType<typeof sourcesApp>>;

  beforeAll(async () => {
    sources = await startSourceWorker({ backend, name: 'source-attempts', allowLoopback: true });
    ({ env, store } = sources);
    api = await sourcesApp({ store, control: sources.control });
  }, 180_000);

  afterAll(async () => {
    await sources?.close();
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
