// A source run whose worker died mid-import (the process killed, the machine gone) records no
// outcome itself. One import of a source runs at a time (its workflow runs them one after another),
// so when the next import of the source begins a run, a run of it still `running` was abandoned: it
// is marked failed, saying so, and the import history stops showing an import that never ends. A
// retried attempt goes on with its own run (it is not abandoned), and other sources' runs are theirs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSourceImport } from '../../sources/run.ts';
import { sourcesApp } from './helpers.ts';

let api: Awaited<ReturnType<typeof sourcesApp>>;

/** One person, at a domain of each test's own (a userPrincipalName belongs to one user). */
const EXPORT = (domain: string) => `id,userPrincipalName,displayName\ne1,ada@${domain},Ada Lovelace\n`;
const policy = { allowLoopback: true, allowedNetworks: [] };

async function uploadSource(name: string): Promise<string> {
  const created = await api.call('POST', '/api/v1/sources', { type: 'csv', name, origin: 'upload' });
  expect(created.status, created.text).toBe(201);
  return created.body!.id as string;
}

const runsOf = async (id: string) =>
  (await api.call('GET', `/api/v1/sources/${id}/runs`)).body!.items as Record<string, unknown>[];

beforeAll(async () => {
  api = await sourcesApp();
});
afterAll(async () => {
  await api.close();
});

describe('source runs whose worker died', () => {
  it('a run left running is shown failed, with the reason, once the next import of the source begins', async () => {
    const id = await uploadSource('HR crashed');
    const other = await uploadSource('HR elsewhere');
    // Each import began its run, then its worker died: nothing finished them.
    const crashed = await api.store.sources.beginRun(id, 'full');
    const elsewhere = await api.store.sources.beginRun(other, 'full');
    expect((await runsOf(id))[0]).toMatchObject({ id: crashed.id, status: 'running', finishedAt: null });

    expect((await api.upload(id, EXPORT('crashed.example'))).status).toBe(202);
    const [next, abandoned] = await runsOf(id);
    expect(next).toMatchObject({ status: 'succeeded', created: 1 });
    expect(abandoned).toMatchObject({ id: crashed.id, status: 'failed', finishedAt: expect.any(String) });
    expect(abandoned.error).toMatch(/abandoned/i);
    expect(abandoned.error).toContain(`run ${String(next.id)}`);
    // Another source's import is not this one's to end.
    expect((await runsOf(other))[0]).toMatchObject({ id: elsewhere.id, status: 'running' });
  });

  it("a retried attempt continues its own run: it is not abandoned, and ends with the attempt's outcome", async () => {
    const id = await uploadSource('HR retried');
    expect((await api.upload(id, EXPORT('retried.example'))).status).toBe(202);
    // The first attempt began a run and its worker died; Temporal retries the activity.
    const first = await api.store.sources.beginRun(id, 'full');
    const run = await runSourceImport(
      { store: api.store, policy, attempt: { number: 2, runId: first.id, onRun() {} } },
      id,
    );
    expect(run).toMatchObject({ id: first.id, status: 'succeeded', attempts: 2, error: null });
    expect((await runsOf(id)).map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('a run under way when its source is disabled is shown stopped at once, not running until the source is enabled again', async () => {
    const id = await uploadSource('HR disabled');
    const other = await uploadSource('HR still on');
    const underWay = await api.store.sources.beginRun(id, 'full');
    const elsewhere = await api.store.sources.beginRun(other, 'full');
    expect((await api.call('PATCH', `/api/v1/sources/${id}`, { enabled: false })).status).toBe(200);
    const [run] = await runsOf(id);
    expect(run).toMatchObject({ id: underWay.id, status: 'failed', finishedAt: expect.any(String) });
    expect(run.error).toMatch(/disabled/);
    expect((await runsOf(other))[0]).toMatchObject({ id: elsewhere.id, status: 'running' });
    // The import's own outcome, should it still come, is what the run shows.
    await api.store.sources.finishRun(underWay.id, {
      status: 'succeeded',
      counts: { created: 1, updated: 0, deleted: 0, unchanged: 0, stagedDeletions: 0 },
    });
    expect((await runsOf(id))[0]).toMatchObject({ id: underWay.id, status: 'succeeded', error: null });
  });
});
