// Journey: change-driven push. A directory change reaches the target within seconds through a small
// incremental cycle, not at the next cycle of the cadence (a day here, so only push can explain it); a
// burst of changes is a few cycles, not one per change; an app with push turned off waits for its cadence.
// One `npm start` on a fresh Postgres database; the scimmy peer is the target.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/net.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { createApp, person, startProvisioning, startFerryOnPostgres, type FerryApi, type Json } from './harness.ts';
import { usersByName } from './targets.ts';

let closeFerry: (() => Promise<void>) | undefined;
let peer: ScimPeer;
let api: FerryApi;

/** A cadence no journey outlives: a change that arrives came through push. */
const A_DAY = 24 * 60;
/** Generous: "within seconds" on a busy 2-core machine; the bench measures the real latency. */
const PUSH_BOUND_MS = 60_000;

beforeAll(async () => {
  peer = await startScimmyPeer();
  ({ api, close: closeFerry } = await startFerryOnPostgres('push'));
});
afterAll(async () => {
  await closeFerry?.();
  await peer?.close();
});

const account = async (userId: string, domain: string) => (await usersByName(peer)).get(`${userId}@${domain}`);

/** Directory users `<id>@<domain>`, an app assigned exactly them, and its initial cycle done. */
async function provisioned(domain: string, ids: string[], settings: Record<string, unknown> = {}): Promise<string> {
  await api.ok('POST', '/directory/import', { users: ids.map((id) => person(id, domain)) });
  const appId = await createApp(
    api,
    { url: peer.baseUrl, token: peer.token },
    { name: `Push ${domain}`, settings: { scope: 'assigned', cycleIntervalMinutes: A_DAY, ...settings } },
  );
  for (const id of ids) await api.ok('POST', `/apps/${appId}/assignments`, { principalId: id });
  expect((await startProvisioning(api, appId)).status).toBe('succeeded');
  for (const id of ids) expect(await account(id, domain)).toBeDefined();
  return appId;
}

const cyclesAfter = async (appId: string, since: number) =>
  (await api.cycles(appId)).filter((c: Json) => Date.parse(c.startedAt) >= since);

describe('change-driven push (npm start on Postgres)', () => {
  it('a user changed in the directory reaches the target within seconds, by a small incremental cycle', async () => {
    const domain = 'push.example';
    const appId = await provisioned(domain, ['pia', 'pat', 'pol']);
    expect((await api.ok('GET', `/apps/${appId}`)).settings.pushChanges).toBe(true);

    const since = Date.now();
    await api.ok('PATCH', '/directory/users/pia', { jobTitle: 'Pushed' });
    await until(async () => (await account('pia', domain))?.title === 'Pushed', 'the change to reach the target', {
      timeoutMs: PUSH_BOUND_MS,
      pollMs: 100,
    });
    // Nobody asked for a cycle and the cadence is a day away: an incremental cycle of the one changed user did it.
    await until(
      async () => (await cyclesAfter(appId, since)).every((c: Json) => c.status !== 'running'),
      'the push cycle to end',
      { timeoutMs: PUSH_BOUND_MS, pollMs: 100 },
    );
    const cycles = await cyclesAfter(appId, since);
    expect(cycles.length).toBeGreaterThanOrEqual(1);
    expect(cycles.every((c: Json) => c.kind === 'incremental')).toBe(true);
    const pushed = cycles.find((c: Json) => (c.counts.updated ?? 0) > 0);
    expect(pushed).toMatchObject({ total: 1, counts: expect.objectContaining({ updated: 1 }) });
    expect((await api.status(appId)).state).toBe('steady');
  });

  it('a burst of changes is pushed by a few cycles, not one per change', async () => {
    const domain = 'burst.example';
    const ids = Array.from({ length: 10 }, (_, i) => `burst${i}`);
    const appId = await provisioned(domain, ids);

    const since = Date.now();
    const changes = 40;
    for (let i = 0; i < changes; i++) {
      await api.ok('PATCH', `/directory/users/${ids[i % ids.length]}`, { jobTitle: `Step ${i}` });
    }
    // Every user ends with the last value written for it.
    const last = (id: string) => `Step ${changes - ids.length + ids.indexOf(id)}`;
    await until(
      async () => {
        const users = await usersByName(peer);
        return ids.every((id) => users.get(`${id}@${domain}`)?.title === last(id));
      },
      'the burst to reach the target',
      { timeoutMs: PUSH_BOUND_MS * 2, pollMs: 200 },
    );
    await until(
      async () => (await cyclesAfter(appId, since)).every((c: Json) => c.status !== 'running'),
      'the push cycles to end',
      { timeoutMs: PUSH_BOUND_MS, pollMs: 200 },
    );
    const cycles = await cyclesAfter(appId, since);
    // Coalesced: a cycle per push window (about a second), however many changes fell into it.
    expect(cycles.length).toBeGreaterThanOrEqual(1);
    expect(cycles.length).toBeLessThanOrEqual(changes / 4);
    expect(cycles.every((c: Json) => c.kind === 'incremental' && c.status === 'succeeded')).toBe(true);
    expect(cycles.every((c: Json) => c.total <= ids.length)).toBe(true);
  });

  it('with push turned off, a change waits for the next cycle (here: one run on request)', async () => {
    const quiet = 'quiet.example';
    const loud = 'loud.example';
    const quietApp = await provisioned(quiet, ['qin'], { pushChanges: false });
    const loudApp = await provisioned(loud, ['lou']);
    expect((await api.ok('GET', `/apps/${quietApp}`)).settings.pushChanges).toBe(false);

    const since = Date.now();
    await api.ok('PATCH', '/directory/users/qin', { jobTitle: 'Waits' });
    // The app with push on is the clock: once its later change has arrived, push had every chance.
    await api.ok('PATCH', '/directory/users/lou', { jobTitle: 'Arrives' });
    await until(async () => (await account('lou', loud))?.title === 'Arrives', 'the pushed change', {
      timeoutMs: PUSH_BOUND_MS,
      pollMs: 100,
    });
    expect((await account('qin', quiet))?.title).not.toBe('Waits');
    expect(await cyclesAfter(quietApp, since)).toEqual([]);

    // The cadence's cycle (run now instead of in a day) brings it.
    expect((await api.runCycle(quietApp)).status).toBe('succeeded');
    expect((await account('qin', quiet))?.title).toBe('Waits');

    // Turned back on, the next change is pushed.
    await api.ok('PATCH', `/apps/${quietApp}`, { settings: { pushChanges: true } });
    await api.ok('PATCH', '/directory/users/qin', { jobTitle: 'Pushed now' });
    await until(async () => (await account('qin', quiet))?.title === 'Pushed now', 'the change after push is on', {
      timeoutMs: PUSH_BOUND_MS,
      pollMs: 100,
    });
    await api.ok('DELETE', `/apps/${loudApp}`);
  });
});
