// Journey: an app that already holds accounts. The target (the scimmy peer) is seeded the way a real
// app looks when Ferry is connected to it late — a stale account, a disabled one, one whose userName
// differs only in case, two accounts that both match one person, and one that someone creates just
// before Ferry does (the POST answers 409) — then Ferry runs its initial cycle and a later change.
// The same journey runs on the embedded defaults (`npm start`, PGlite) and on Postgres with
// separate processes: both must give the same result.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/postgres.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { OneProcessFerry, SeparateProcessesFerry, tempDir, type FerryApi, type Json } from './harness.ts';
import { seedUser, startHookProxy, usersByName, type HookProxy } from './targets.ts';

const DOMAIN = 'existing.example';
const at = (name: string) => `${name}@${DOMAIN}`;

interface RunningFerry {
  api: FerryApi;
  stop(): Promise<void>;
}

const MODES: { name: string; start(): Promise<RunningFerry> }[] = [
  {
    name: 'npm start, embedded database',
    async start() {
      const data = tempDir('existing');
      const ferry = await OneProcessFerry.create({ dataDir: data.dir });
      await ferry.start();
      return {
        api: ferry.api,
        stop: async () => {
          await ferry.stop('SIGKILL');
          data.cleanup();
        },
      };
    },
  },
  {
    name: 'separate processes on Postgres',
    async start() {
      const data = tempDir('existing-pg');
      const db = await createTestDatabase('journey_existing');
      const ferry = await SeparateProcessesFerry.create({ databaseUrl: db.url, dataDir: data.dir });
      await ferry.start();
      return {
        api: ferry.api,
        stop: async () => {
          await ferry.stop('SIGKILL');
          await db.drop();
          data.cleanup();
        },
      };
    },
  },
];

const work = (mail: string) => [{ type: 'work', value: mail, primary: true }];

describe.each(MODES)('an app that already holds the accounts ($name, scimmy peer)', (mode) => {
  let peer: ScimPeer;
  let proxy: HookProxy;
  let ferry: RunningFerry;
  let api: FerryApi;
  let appId: string;
  const seeded: Record<string, string> = {};

  beforeAll(async () => {
    peer = await startScimmyPeer();
    // The account "late" appears at the target just before Ferry's POST reaches it (another admin,
    // or an earlier attempt whose answer was lost): the POST answers 409 uniqueness.
    proxy = await startHookProxy(peer.baseUrl, async (request) => {
      if (request.method !== 'POST' || !request.path.endsWith('/Users')) return;
      const body = JSON.parse(request.body.toString() || '{}') as { userName?: string };
      if (body.userName === at('late') && seeded.late === undefined) {
        seeded.late = (await seedUser(peer, { userName: at('late'), displayName: 'Created Elsewhere' })).id as string;
      }
    });
    ferry = await mode.start();
    api = ferry.api;
  });

  afterAll(async () => {
    await ferry?.stop();
    await proxy?.close();
    await peer?.close();
  });

  it('matches and updates existing accounts instead of duplicating them, and logs why for each', async () => {
    // The target as Ferry finds it.
    seeded.stale = (
      await seedUser(peer, {
        userName: at('stale'),
        displayName: 'Old Name',
        title: 'Intern',
        emails: work(at('stale')),
      })
    ).id as string;
    seeded.disabled = (await seedUser(peer, { userName: at('disabled'), displayName: 'Dee Sabled', active: false }))
      .id as string;
    seeded.casey = (await seedUser(peer, { userName: `Casey@${DOMAIN.toUpperCase()}`, displayName: 'Casey Case' }))
      .id as string;
    seeded.same = (
      await seedUser(peer, {
        userName: at('same'),
        displayName: 'Sam Same',
        active: true,
        emails: work(at('same')),
        name: { givenName: 'Sam', familyName: 'Same', formatted: 'Sam Same' },
      })
    ).id as string;
    // Two old accounts that both carry dup's work e-mail: matching cannot tell which is dup's.
    const dupOne = await seedUser(peer, { userName: at('dup.old1'), displayName: 'Dup One', emails: work(at('dup')) });
    const dupTwo = await seedUser(peer, { userName: at('dup.old2'), displayName: 'Dup Two', emails: work(at('dup')) });

    // The directory.
    const person = (id: string, givenName: string, surname: string, extra: Record<string, unknown> = {}) => ({
      id: `ex-${id}`,
      userPrincipalName: at(id),
      givenName,
      surname,
      displayName: `${givenName} ${surname}`,
      mail: at(id),
      ...extra,
    });
    const users = [
      person('stale', 'Stella', 'Stale', { jobTitle: 'Engineer' }),
      person('disabled', 'Dee', 'Sabled'),
      person('casey', 'Casey', 'Case'),
      person('same', 'Sam', 'Same'),
      person('dup', 'Dup', 'Licate'),
      person('late', 'Lee', 'Late'),
      person('new', 'Nia', 'New'),
    ];
    const imported = await api.ok('POST', '/directory/import', { users });
    expect(imported.errors).toEqual([]);

    // The app: userName first, then the work e-mail, as matching attributes.
    const gallery = await api.ok('GET', '/gallery');
    const template = gallery.items.find((t: Json) => t.id === 'generic-scim');
    const mappings = template.objectTypes.user.mappings.map((m: Json) =>
      m.target === 'emails[type eq "work"].value' ? { ...m, matchingPrecedence: 2 } : m,
    );
    const app = await api.ok('POST', '/apps', {
      name: 'Existing accounts',
      template: 'generic-scim',
      target: { url: proxy.baseUrl, token: peer.token },
      settings: { scope: 'all', allowInsecureLoopback: true },
      mappings: { user: mappings },
    });
    appId = app.id;
    const since = Date.now();
    await api.ok('POST', `/apps/${appId}/provisioning/start`);
    const first = await api.cycleFinishedAfter(appId, since, 'the initial cycle');
    expect(first.kind).toBe('initial');

    // Exactly one account per person; the pre-existing ones kept their ids.
    const byName = await usersByName(peer);
    expect(byName.get(at('stale'))!.id).toBe(seeded.stale);
    expect(byName.get(at('disabled'))!.id).toBe(seeded.disabled);
    expect(byName.get(at('casey'))!.id).toBe(seeded.casey);
    expect(byName.get(at('same'))!.id).toBe(seeded.same);
    expect(byName.get(at('late'))!.id).toBe(seeded.late);
    expect(byName.has(at('new'))).toBe(true);
    expect(byName.has(at('dup'))).toBe(false);
    // …and they now say what the directory says.
    expect(byName.get(at('stale'))).toMatchObject({ displayName: 'Stella Stale', title: 'Engineer' });
    expect(byName.get(at('disabled'))).toMatchObject({ active: true });
    expect(byName.get(at('late'))).toMatchObject({ displayName: 'Lee Late', active: true });
    expect(byName.get(at('casey'))).toMatchObject({ active: true, name: { givenName: 'Casey', familyName: 'Case' } });
    // The two accounts dup matched twice were left as they were.
    expect(byName.get(at('dup.old1'))).toMatchObject({
      displayName: 'Dup One',
      meta: { lastModified: (dupOne.meta as Json).lastModified },
    });
    expect(byName.get(at('dup.old2'))).toMatchObject({
      displayName: 'Dup Two',
      meta: { lastModified: (dupTwo.meta as Json).lastModified },
    });

    // The log: dup failed with DuplicateTargetEntries; every other entry is a success or a skip with its reason.
    const logs = await api.logs(appId, `cycleId=${first.id}`);
    const dupEntries = logs.filter((entry: Json) => entry.sourceId === 'ex-dup');
    expect(dupEntries.map((e: Json) => [e.status, e.errorCode])).toEqual([['Failure', 'DuplicateTargetEntries']]);
    for (const entry of logs.filter((e: Json) => e.sourceId !== 'ex-dup')) {
      expect({ id: entry.sourceId, status: entry.status }).toMatchObject({
        status: expect.stringMatching(/^(Success|Skipped)$/),
      });
      const processing = entry.steps.find((s: Json) => s.name === 'processing');
      expect(processing?.details?.reason, `reason for ${entry.sourceId}`).toEqual(expect.any(String));
    }
    const actionOf = (id: string) => logs.find((e: Json) => e.sourceId === `ex-${id}`)?.action;
    expect(actionOf('new')).toBe('Create');
    expect(actionOf('stale')).toBe('Update');
    expect(actionOf('disabled')).toBe('Update');
    expect(actionOf('same')).toBe('Skip');
  });

  it('keeps the matched accounts in step afterwards: a later change reaches them', async () => {
    await api.ok('PATCH', '/directory/users/ex-stale', { jobTitle: 'Staff Engineer' });
    await api.ok('PATCH', '/directory/users/ex-disabled', { displayName: 'Dee Abled' });
    await api.ok('PATCH', '/directory/users/ex-casey', { surname: 'Cased' });
    await api.ok('PATCH', '/directory/users/ex-late', { jobTitle: 'Latecomer' });
    const cycle = await api.runCycle(appId);
    expect(cycle.status).toBe('succeeded');
    const byName = await usersByName(peer);
    expect(byName.get(at('stale'))).toMatchObject({ id: seeded.stale, title: 'Staff Engineer' });
    expect(byName.get(at('disabled'))).toMatchObject({ id: seeded.disabled, displayName: 'Dee Abled' });
    expect(byName.get(at('casey'))).toMatchObject({ id: seeded.casey, name: { familyName: 'Cased' } });
    expect(byName.get(at('late'))).toMatchObject({ id: seeded.late, title: 'Latecomer' });
    const logs = await api.logs(appId, `cycleId=${cycle.id}`);
    // Only dup, retried, still fails for the same reason.
    expect(logs.filter((e: Json) => e.status === 'Failure').map((e: Json) => [e.sourceId, e.errorCode])).toEqual(
      logs.some((e: Json) => e.sourceId === 'ex-dup') ? [['ex-dup', 'DuplicateTargetEntries']] : [],
    );
  });
});
