// The API over real HTTP on a loopback port: what npm start and docker-compose run.
import { afterEach, describe, expect, it } from 'vitest';
import { serveApi, type RunningApi } from '../../api/server.ts';
import { API_KEY, read, testApp } from './helpers.ts';

let running: RunningApi | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('serveApi', () => {
  it('serves health without a key and the API with one, on a port chosen by the OS', async () => {
    const { app, lines } = testApp();
    running = await serveApi(app, { host: '127.0.0.1', port: 0 });
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    const res = await fetch(`${running.url}/api/v1/apps/a1/provisioning`, {
      headers: { Authorization: `Bearer ${API_KEY}` },
    });
    expect(res.status).toBe(200);
    expect((await read(res)).running).toBe(false);
    // The client address comes from the socket.
    expect(lines.map((l) => JSON.parse(l)).find((l) => l.path === '/healthz').client).toBe('127.0.0.1');
  });

  it('limits failed authentication per socket address', async () => {
    const { app } = testApp({ limits: { authFailuresPerMinute: 3 } });
    running = await serveApi(app, { host: '127.0.0.1', port: 0 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${running.url}/openapi.json`)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});
