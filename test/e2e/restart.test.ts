// `npm start` on the in-memory Temporal test service loses every workflow when it stops; the
// database remembers which apps are provisioning, and the next start ensures their jobs again.
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
    env: loadEnv({ FERRY_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }),
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
  it('keeps the generated API key and re-creates the job of a provisioning app after a restart', async () => {
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
    await ferry.close();
    printed.length = 0;

    ferry = await start();
    expect(ferry.apiKey).toBe(firstKey);
    expect(printed.some((l) => l.includes(firstKey))).toBe(false);
    expect(printed.some((l) => l.includes('Ensured the provisioning job of 1 app'))).toBe(true);
    const provisioning = await call('GET', `/apps/${appId}/provisioning`);
    expect(provisioning.status).toBe(200);
    expect(provisioning.json!.running).toBe(true);
  }, 180_000);
});
