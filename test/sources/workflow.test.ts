// The source's workflow on the in-repo Temporal test service (time skipping) with the real import
// activity over a CSV file: creating the source imports at once, sync imports on request, the
// interval brings the next import, pause holds it, deleting the source ends the workflow.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSourceWorker, type SourceWorker } from './source-worker.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../store/index.ts';
import { pauseSignal, resumeSignal, sourceWorkflowId } from '../../workflows/messages.ts';
import { inRepoBackend, type TemporalTestEnv } from '../support/temporal.ts';

const dir = mkdtempSync(join(tmpdir(), 'ferry-source-wf-'));
const file = join(dir, 'people.csv');

let env: TemporalTestEnv;
let store: Store;
let sources: SourceWorker;

beforeAll(async () => {
  sources = await startSourceWorker({
    backend: inRepoBackend,
    name: 'sources',
    allowLoopback: false,
    logLevel: 'WARN',
  });
  ({ env, store } = sources);
}, 120_000);

afterAll(async () => {
  await sources?.close();
  rmSync(dir, { recursive: true, force: true });
});

const runs = async (id: string) => (await store.sources.runs(id)).length;
/** Lets the in-repo service run everything due now (no time passes). */
const settle = () => env.skipTime(0);

describe('source workflow', () => {
  it('imports at start, on request and on its interval; pause holds imports; delete ends it', async () => {
    writeFileSync(file, 'id,userPrincipalName\nw1,w1@wf.example\n');
    const source = await store.sources.create({
      name: 'wf',
      type: 'csv',
      config: { path: file, intervalMinutes: 30 },
    });
    const control = sources.control;
    await control.ensure(source.id);
    await settle();
    expect(await runs(source.id)).toBe(1);
    expect(await store.sources.liveIds(source.id, 'user')).toHaveLength(1);

    writeFileSync(file, 'id,userPrincipalName\nw1,w1@wf.example\nw2,w2@wf.example\n');
    await control.syncNow(source.id, 'full');
    await settle();
    expect(await runs(source.id)).toBe(2);
    expect(await store.sources.liveIds(source.id, 'user')).toHaveLength(2);

    await env.skipTime(30 * 60_000 + 1_000);
    await settle();
    expect(await runs(source.id)).toBe(3);

    const handle = env.client.workflow.getHandle(sourceWorkflowId(source.id));
    await handle.signal(pauseSignal);
    await env.skipTime(2 * 30 * 60_000);
    await settle();
    expect(await runs(source.id)).toBe(3);
    await handle.signal(resumeSignal);
    await control.syncNow(source.id, 'auto');
    await settle();
    expect(await runs(source.id)).toBe(4);

    await control.stop(source.id);
    expect((await handle.describe()).status.name).toBe('TERMINATED');
  });
});
