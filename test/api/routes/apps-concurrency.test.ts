// PATCH /apps/{id} under concurrency, on Postgres (row locks are real there): PATCHes at once all
// land, and If-Match makes a change conditional on the version a client read (412 otherwise).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../api/app.ts';
import { openStore, type Store } from '../../../store/index.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from '../../support/postgres.ts';
import { API_KEY, recordingProvisioning } from '../helpers.ts';
import { read, send } from './helpers.ts';

let db: TestDatabase;
let store: Store;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  db = await createTestDatabase('apps_concurrency');
  store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY, poolSize: 8 });
  await store.migrate();
  app = createApp({ apiKeys: [API_KEY], provisioning: recordingProvisioning().control, resources: { store } });
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
});

const req = (path: string, init?: RequestInit) => app.request(`/api/v1${path}`, init);

async function createGroupTalk(): Promise<{ id: string; etag: string }> {
  const res = await req(
    '/apps',
    send('POST', {
      name: 'GroupTalk',
      template: 'grouptalk',
      target: { url: 'https://api.grouptalk.example/scim', token: 'tok_concurrency_0123456789' },
    }),
  );
  expect(res.status).toBe(201);
  return { id: (await read(res)).id, etag: res.headers.get('etag')! };
}

describe('PATCH /apps/{id} under concurrency', () => {
  it('applies PATCHes sent at once one after the other: no field of any of them is lost', async () => {
    for (let round = 0; round < 3; round++) {
      const { id } = await createGroupTalk();
      const patches = [
        { name: `Renamed ${round}` },
        { settings: { cycleIntervalMinutes: 17 } },
        { settings: { notificationEmail: 'ops@contoso.com' } },
        { settings: { deletionThreshold: { percent: 12 } } },
        { settings: { profile: 'entra-2017' } },
        { settings: { rateLimit: { requestsPerSecond: 7 } } },
        { settings: { rateLimit: { concurrency: 3 } } },
        { target: { token: 'tok_rotated_concurrently_42' } },
      ];
      const answers = await Promise.all(patches.map((body) => req(`/apps/${id}`, send('PATCH', body))));
      expect(answers.map((r) => r.status)).toEqual(patches.map(() => 200));
      const res = await req(`/apps/${id}`, send('GET'));
      const after = await read(res);
      expect(after.name).toBe(`Renamed ${round}`);
      expect(after.settings).toMatchObject({
        cycleIntervalMinutes: 17,
        notificationEmail: 'ops@contoso.com',
        deletionThreshold: { percent: 12 },
        profile: 'entra-2017',
        rateLimit: { requestsPerSecond: 7, concurrency: 3 },
      });
      expect((await store.apps.getSecrets(id)).token).toBe('tok_rotated_concurrently_42');
      // Every change made a new version: the ETag counts them.
      expect(res.headers.get('etag')).toBe(`"${1 + patches.length}"`);
    }
  });

  it('answers 412 precondition_failed to a PATCH whose If-Match was read before another change, writing nothing', async () => {
    const { id, etag } = await createGroupTalk();
    const got = await req(`/apps/${id}`, send('GET'));
    expect(got.headers.get('etag')).toBe(etag);

    const first = await req(
      `/apps/${id}`,
      send('PATCH', { settings: { cycleIntervalMinutes: 25 } }, { 'If-Match': etag }),
    );
    expect(first.status).toBe(200);
    const current = first.headers.get('etag')!;
    expect(current).not.toBe(etag);

    const stale = await req(`/apps/${id}`, send('PATCH', { name: 'Stale rename' }, { 'If-Match': etag }));
    expect(stale.status).toBe(412);
    expect((await read(stale)).error.code).toBe('precondition_failed');
    expect(stale.headers.get('etag')).toBe(current);
    const after = await read(await req(`/apps/${id}`, send('GET')));
    expect(after).toMatchObject({ name: 'GroupTalk', settings: { cycleIntervalMinutes: 25 } });

    // The current ETag (also among others) and `*` let the change through.
    const fresh = await req(`/apps/${id}`, send('PATCH', { name: 'Fresh' }, { 'If-Match': `"999", ${current}` }));
    expect(fresh.status).toBe(200);
    expect((await req(`/apps/${id}`, send('PATCH', { name: 'Any' }, { 'If-Match': '*' }))).status).toBe(200);
  });

  it('lets exactly one of two PATCHes with the same If-Match through', async () => {
    const { id, etag } = await createGroupTalk();
    const answers = await Promise.all(
      ['One', 'Two'].map((name) => req(`/apps/${id}`, send('PATCH', { name }, { 'If-Match': etag }))),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 412]);
    const winner = await read(answers.find((r) => r.status === 200)!);
    expect((await read(await req(`/apps/${id}`, send('GET')))).name).toBe(winner.name);
  });

  it('names If-Match when it is not an ETag', async () => {
    const { id } = await createGroupTalk();
    const res = await req(`/apps/${id}`, send('PATCH', { name: 'X' }, { 'If-Match': '3' }));
    expect(res.status).toBe(400);
    expect((await read(res)).error.details[0]).toMatchObject({ path: 'If-Match', in: 'header' });
  });
});
