// On-demand, followed while it runs: POST …/provision-on-demand with `Prefer: respond-async` answers at
// once with the request id, and GET …/provision-on-demand/{requestId} shows each step as it completes.
// The target holds the create (a proxy that lets POST /Users through only when the test says so), so
// the steps before it are seen while the request is still running, then the export and the report; a
// request that fails shows its code and message. Ferry runs as `npm start` does, in process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimTarget, type ScimTarget } from '../../dev/scim-target/index.ts';
import { client } from '../../workers/demo.ts';
import { loadEnv } from '../../workers/env.ts';
import { startFerry, type RunningFerry } from '../../workers/start.ts';
import { until } from '../support/net.ts';
import { startFaultProxy, type FaultProxy } from '../support/scim-fault-proxy.ts';

interface Progress {
  requestId: string;
  finished: boolean;
  steps: { name: string; status: string; objectId?: string }[];
  report: { action: string; status: string; targetId: string | null; steps: { name: string }[] } | null;
  error: { code: string; message: string } | null;
}

let target: ScimTarget;
let proxy: FaultProxy;
let ferry: RunningFerry;
let api: ReturnType<typeof client>;
let dataDir: string;
let appId: string;

const person = (id: string) => ({
  id,
  userPrincipalName: `${id}@contoso.example`,
  mail: `${id}@contoso.example`,
  mailNickname: id,
  displayName: `Person ${id}`,
  givenName: 'Person',
  surname: id,
});

async function postAsync(objectId: string): Promise<Response> {
  return fetch(`${ferry.url}/api/v1/apps/${appId}/provision-on-demand`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${ferry.apiKey}`,
      'Content-Type': 'application/json',
      Prefer: 'respond-async',
    },
    body: JSON.stringify({ objectId }),
  });
}

const progressOf = async (requestId: string): Promise<Progress> =>
  (await api('GET', `/apps/${appId}/provision-on-demand/${requestId}`)) as Progress;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-on-demand-progress-'));
  target = await startScimTarget({ host: '127.0.0.1' });
  proxy = await startFaultProxy({
    target: target.baseUrl,
    faultRate: 0,
    seed: 1,
    faults: [],
    hold: ({ method, url }) => method === 'POST' && url.endsWith('/Users'),
  });
  const env = loadEnv({ FERRY_DATA_DIR: dataDir, FERRY_ALLOW_INSECURE_LOOPBACK: '1', PORT: '0', LOG_LEVEL: 'warn' });
  ferry = await startFerry({ env, inMemoryDatabase: true, skipTemporalCli: true, logLevel: 'warn', print: () => {} });
  api = client(ferry);
  const users = ['slow', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6'].map(person);
  await api('POST', '/directory/import', {
    users,
    groups: [{ id: 'big', displayName: 'Six people' }],
    memberships: users.slice(1).map((u) => ({ groupId: 'big', memberId: u.id })),
  });
  const app = await api('POST', '/apps', {
    name: 'Slow target',
    template: 'generic-scim',
    target: { url: proxy.baseUrl, token: target.token },
    settings: { scope: 'assigned', pushChanges: false },
  });
  appId = app.id;
  // A running job that runs no cycle meanwhile: its (empty) initial cycle, then paused. On-demand runs
  // in every job state.
  await api('POST', `/apps/${appId}/provisioning/start`);
  const status = async () => (await api('GET', `/apps/${appId}/provisioning`)).status;
  await until(async () => (await status())?.lastCycle != null, 'the initial cycle', { timeoutMs: 60_000 });
  await api('POST', `/apps/${appId}/provisioning/pause`);
  await until(async () => (await status())?.state === 'paused', 'paused', { timeoutMs: 60_000 });
  await api('POST', `/apps/${appId}/assignments`, { principalId: 'slow' });
}, 120_000);

afterAll(async () => {
  proxy?.release();
  await ferry?.close();
  await proxy?.close();
  await target?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('on-demand progress', () => {
  it('shows the steps done while the target holds the create, then the export and the report', async () => {
    const accepted = await postAsync('slow');
    expect(accepted.status).toBe(202);
    const { requestId, progress } = (await accepted.json()) as { requestId: string; progress: string };
    expect(accepted.headers.get('location')).toBe(progress);
    expect(progress).toBe(`/api/v1/apps/${appId}/provision-on-demand/${requestId}`);

    // The create is held at the target: everything before it is already shown, and it is not finished.
    await until(() => proxy.held === 1, 'the create to reach the target', { timeoutMs: 60_000, pollMs: 20 });
    await until(
      async () => (await progressOf(requestId)).steps.some((s) => s.name === 'processing'),
      'the steps before the export',
      { timeoutMs: 30_000, pollMs: 50 },
    );
    const running = await progressOf(requestId);
    expect(running.finished).toBe(false);
    expect(running.report).toBeNull();
    expect(running.steps.map((s) => s.name)).toEqual(['testConnection', 'import', 'scoping', 'matching', 'processing']);
    expect(target.users()).toHaveLength(0);

    proxy.release();
    await until(async () => (await progressOf(requestId)).finished, 'the request to finish', { timeoutMs: 60_000 });
    const done = await progressOf(requestId);
    expect(done.error).toBeNull();
    expect(done.steps.map((s) => s.name)).toEqual([
      'testConnection',
      'import',
      'scoping',
      'matching',
      'processing',
      'export',
    ]);
    expect(done.report).toMatchObject({ action: 'Create', status: 'Success' });
    expect(done.report?.targetId).toBe(target.users()[0].id);
  });

  it('shows a failure with its code and message; an unknown request id is 404', async () => {
    const accepted = await postAsync('big');
    expect(accepted.status).toBe(202);
    const { requestId } = (await accepted.json()) as { requestId: string };
    await until(async () => (await progressOf(requestId)).finished, 'the request to fail', { timeoutMs: 60_000 });
    const failed = await progressOf(requestId);
    expect(failed.report).toBeNull();
    expect(failed.error?.code).toBe('too_many_members');
    expect(failed.error?.message).toMatch(/6 users/);

    const unknown = await fetch(`${ferry.url}/api/v1/apps/${appId}/provision-on-demand/no-such-request`, {
      headers: { Authorization: `Bearer ${ferry.apiKey}` },
    });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});
