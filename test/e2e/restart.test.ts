// `npm start` on the in-memory Temporal test service loses every workflow when it stops; the
// database remembers which apps are provisioning (and which are paused), and the next start ensures
// their jobs again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFerry, type RunningFerry } from '../../workers/start.ts';
import { loadEnv } from '../../workers/env.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-restart-'));
const printed: string[] = [];
let ferry: RunningFerry | null = null;

afterAll(async () => {
  await ferry?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const start = () =>
  startFerry({
    // The apps' targets are on loopback.
    env: loadEnv({ FERRY_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', FERRY_ALLOW_INSECURE_LOOPBACK: '1' }),
    logLevel: 'error',
    skipTemporalCli: true,
    print: (line) => printed.push(line),
  });

async function call(method: string, route: string, body?: unknown) {
  const res = await fetch(`${ferry!.url}/api/v1${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${ferry!.apiKey}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as Record<string, unknown> | null };
}

describe('npm start on the in-memory test service', () => {
  it('keeps the generated API key and re-creates the jobs of provisioning apps after a restart, a paused one paused', async () => {
    ferry = await start();
    const firstKey = ferry.apiKey;
    expect(ferry.temporal.mode).toBe('test-service');
    expect(printed.some((l) => l.includes('NOT durable'))).toBe(true);
    expect(printed.some((l) => l.includes(firstKey))).toBe(true);
    const app = await call('POST', '/apps', {
      name: 'Remembered',
      template: 'generic-scim',
      target: { url: 'http://127.0.0.1:9/scim', token: 'tok_restart_0123456789' },
      settings: { allowInsecureLoopback: true },
    });
    expect(app.status).toBe(201);
    const appId = app.json!.id as string;
    expect((await call('POST', `/apps/${appId}/provisioning/start`)).status).toBe(202);
    const pausedApp = await call('POST', '/apps', {
      name: 'Paused before the restart',
      template: 'generic-scim',
      target: { url: 'http://127.0.0.1:9/scim', token: 'tok_restart_paused_0123456789' },
      settings: { allowInsecureLoopback: true },
    });
    const pausedId = pausedApp.json!.id as string;
    expect((await call('POST', `/apps/${pausedId}/provisioning/start`)).status).toBe(202);
    expect((await call('POST', `/apps/${pausedId}/provisioning/pause`)).status).toBe(202);
    await ferry.close();
    printed.length = 0;

    ferry = await start();
    expect(ferry.apiKey).toBe(firstKey);
    expect(printed.some((l) => l.includes(firstKey))).toBe(false);
    expect(printed.some((l) => l.includes('Ensured the provisioning job of 2 app'))).toBe(true);
    const provisioning = await call('GET', `/apps/${appId}/provisioning`);
    expect(provisioning.status).toBe(200);
    expect(provisioning.json!.running).toBe(true);

    // The paused app came back paused, not running cycles, and resume works on it.
    const paused = await call('GET', `/apps/${pausedId}/provisioning`);
    expect(paused.json).toMatchObject({ running: true, status: { state: 'paused' } });
    expect((await call('GET', `/apps/${pausedId}`)).json!.provisioningEnabled).toBe(true);
    expect((await call('POST', `/apps/${pausedId}/provisioning/resume`)).status).toBe(202);
    expect(await stateOf(pausedId, (state) => state !== 'paused')).not.toBe('paused');

    // A deleted app's job is gone for good: the next start does not bring it back.
    expect((await call('DELETE', `/apps/${appId}`)).status).toBe(204);
    await ferry.close();
    printed.length = 0;
    ferry = await start();
    expect(printed.some((l) => l.includes('Ensured the provisioning job of 1 app'))).toBe(true);
    expect((await call('GET', `/apps/${pausedId}/provisioning`)).json).toMatchObject({ running: true });
  }, 240_000);
});

/** Polls the job's state until `accept` holds (or 30 s pass); returns the last state seen. */
async function stateOf(appId: string, accept: (state: string) => boolean): Promise<string | undefined> {
  const deadline = Date.now() + 30_000;
  let state: string | undefined;
  while (Date.now() < deadline) {
    const res = await call('GET', `/apps/${appId}/provisioning`);
    state = (res.json?.status as { state?: string } | null)?.state;
    if (state !== undefined && accept(state)) return state;
    await new Promise((r) => setTimeout(r, 100));
  }
  return state;
}
