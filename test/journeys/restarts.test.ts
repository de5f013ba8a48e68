// Journey: Ferry is stopped and started again — politely (SIGTERM) or not (SIGKILL), as one
// process (`npm start`, embedded database) or one of its separate processes (worker, API, Temporal
// service on Postgres) — and provisioning carries on: a directory change made afterwards reaches
// the target at the next run, and the cycle history keeps growing instead of replaying old cycles.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import {
  createApp,
  OneProcessFerry,
  person,
  SeparateProcessesFerry,
  startProvisioning,
  tempDir,
  type FerryApi,
  type Json,
} from './harness.ts';
import { usersByName } from './targets.ts';

const DOMAIN = 'restart.example';
let peer: ScimPeer;

beforeAll(async () => {
  peer = await startScimmyPeer();
});
afterAll(async () => {
  await peer?.close();
});

/** Changes one user's job title in the directory, runs a cycle, and expects it at the target. */
async function changeReachesTarget(api: FerryApi, appId: string, userId: string, title: string): Promise<Json> {
  await api.ok('PATCH', `/directory/users/${userId}`, { jobTitle: title });
  const cycle = await api.runCycle(appId);
  expect(cycle.status).toBe('succeeded');
  expect((await usersByName(peer)).get(`${userId}@${DOMAIN}`)?.title).toBe(title);
  return cycle;
}

const maxCycleNumber = async (api: FerryApi, appId: string) =>
  Math.max(0, ...(await api.cycles(appId)).map((c: Json) => c.number as number));

describe('npm start, stopped and started again on the same embedded database', () => {
  const data = tempDir('restart-one');
  let ferry: OneProcessFerry;
  let appId: string;

  beforeAll(async () => {
    ferry = await OneProcessFerry.create({ dataDir: data.dir });
    await ferry.start();
    await ferry.api.ok('POST', '/directory/import', {
      users: ['ada', 'ben', 'cy'].map((id) => person(id, DOMAIN)),
    });
    appId = await createApp(ferry.api, { url: peer.baseUrl, token: peer.token }, { settings: { scope: 'all' } });
    expect((await startProvisioning(ferry.api, appId)).status).toBe('succeeded');
    await changeReachesTarget(ferry.api, appId, 'ada', 'Before any restart');
  });
  afterAll(async () => {
    await ferry?.stop('SIGKILL');
    data.cleanup();
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`after ${signal} and npm start, a directory change reaches the target at the next run`, async () => {
      const cyclesBefore = await maxCycleNumber(ferry.api, appId);
      await ferry.stop(signal);
      await ferry.start();
      const cycle = await changeReachesTarget(ferry.api, appId, 'ben', `After ${signal}`);
      // A new cycle, not an old finished one reported again.
      expect(cycle.number).toBeGreaterThan(cyclesBefore);
      expect(await maxCycleNumber(ferry.api, appId)).toBeGreaterThan(cyclesBefore);
      expect([...(await usersByName(peer)).keys()].filter((n) => n.endsWith(DOMAIN)).sort()).toEqual(
        ['ada', 'ben', 'cy'].map((id) => `${id}@${DOMAIN}`),
      );
    });
  }
});

describe('separate processes (npm run dev:temporal, worker, api) on Postgres, one restarted at a time', () => {
  const data = tempDir('restart-separate');
  const domain = 'separate.example';
  let db: TestDatabase;
  let ferry: SeparateProcessesFerry;
  let appId: string;

  const change = async (userId: string, title: string) => {
    await ferry.api.ok('PATCH', `/directory/users/${userId}`, { jobTitle: title });
    const cycle = await ferry.api.runCycle(appId);
    expect(cycle.status).toBe('succeeded');
    expect((await usersByName(peer)).get(`${userId}@${domain}`)?.title).toBe(title);
  };

  beforeAll(async () => {
    db = await createTestDatabase('journey_restart');
    ferry = await SeparateProcessesFerry.create({ databaseUrl: db.url, dataDir: data.dir });
    await ferry.start();
    await ferry.api.ok('POST', '/directory/import', { users: ['dee', 'eli'].map((id) => person(id, domain)) });
    appId = await createApp(
      ferry.api,
      { url: peer.baseUrl, token: peer.token },
      {
        settings: { scope: 'assigned' },
      },
    );
    await ferry.api.ok('POST', `/apps/${appId}/assignments`, { principalId: 'dee' });
    await ferry.api.ok('POST', `/apps/${appId}/assignments`, { principalId: 'eli' });
    expect((await startProvisioning(ferry.api, appId)).status).toBe('succeeded');
  });
  afterAll(async () => {
    await ferry?.stop('SIGKILL');
    await db?.drop();
    data.cleanup();
  });

  it('after the worker alone is killed and started again, a change reaches the target', async () => {
    await ferry.worker!.stop('SIGKILL');
    await ferry.startWorker();
    await change('dee', 'After a worker restart');
  });

  it('after the API alone is restarted, the job keeps running and a change reaches the target', async () => {
    await ferry.apiProcess!.stop('SIGTERM');
    await ferry.startApi();
    expect((await ferry.api.ok('GET', `/apps/${appId}/provisioning`)).running).toBe(true);
    await change('eli', 'After an API restart');
  });

  it('after the Temporal service alone is restarted, the job is ensured again from the database and a change reaches the target', async () => {
    const cyclesBefore = await maxCycleNumber(ferry.api, appId);
    await ferry.temporal!.stop('SIGTERM');
    await ferry.startTemporal();
    // Nobody restarts the API or the worker: the job must come back on its own.
    await ferry.api.statusWhen(appId, (status) => status.state === 'steady', 'the job to be running again', 120_000);
    await change('dee', 'After a Temporal restart');
    expect(await maxCycleNumber(ferry.api, appId)).toBeGreaterThan(cyclesBefore);
  });
});
