// An initial cycle matches against the target's listing in the store with one lookup per page of
// objects, not one per object: a 100k-user first cycle must not cost 100k database round trips. It
// still matches every pre-existing account (by userName in any case, else by work e-mail) and still
// refuses to pick between two accounts that carry the same value (DuplicateTargetEntries).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SCIM_USER_SCHEMA } from '../../engine/types.ts';
import { genericScimTemplate } from '../../gallery/index.ts';
import { appConfig, createApp, seedDirectory, upn, userId } from '../provisioning/fixtures.ts';
import { openActivityTestbed, runCycleDirect, type ActivityTestbed } from './helpers.ts';

const USERS = 30;
const DUP = USERS; // the user two accounts claim by work e-mail
const BY_MAIL = 2; // a user whose only account carries its work e-mail under another userName
const BOTH = 4; // a user with an account by userName and another by work e-mail: userName comes first
const WORK_EMAIL = 'emails[type eq "work"].value';
const work = (i: number) => [{ type: 'work', value: upn(i), primary: true }];

describe('matching in an initial cycle against the stored listing', () => {
  let t: ActivityTestbed;
  let appId: string;
  const seeded = new Map<string, string>();

  const seed = async (body: Record<string, unknown>) => {
    const res = await fetch(`${t.peer.baseUrl}/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.peer.token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ schemas: [SCIM_USER_SCHEMA], ...body }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };

  beforeEach(async () => {
    seeded.clear();
    t = await openActivityTestbed('lookups', { deps: { bulkMatchThreshold: 1 } });
    await seedDirectory(t.store, { users: USERS, groups: 1 });
    // Matched by userName, then by work e-mail.
    const { objectTypes } = appConfig(t.peer.baseUrl);
    const mappings = genericScimTemplate.objectTypes.user.mappings.map((m) =>
      m.target === WORK_EMAIL ? { ...m, matchingPrecedence: 2 } : m,
    );
    appId = await createApp(t.store, t.peer, {
      shape: { users: USERS, groups: 1 },
      overrides: { objectTypes: { ...objectTypes, user: { mappings } } },
    });
    // Every third user already has an account; some spelled in upper case.
    for (let i = 1; i < USERS; i += 3) {
      seeded.set(userId(i), await seed({ userName: i % 2 ? upn(i).toUpperCase() : upn(i), displayName: 'Old' }));
    }
    seeded.set(userId(BY_MAIL), await seed({ userName: 'renamed@contoso.com', emails: work(BY_MAIL) }));
    await seed({ userName: 'also.four@contoso.com', emails: work(BOTH) });
    await seed({ userName: 'old.one@contoso.com', emails: work(DUP) });
    await seed({ userName: 'old.two@contoso.com', emails: work(DUP) });
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await t?.close();
  });

  it('looks up a page of objects at once, matches them, and still reports a duplicate', async () => {
    const find = vi.spyOn(t.store.targetListings, 'find');
    const findMany = vi.spyOn(t.store.targetListings, 'findMany');
    const summary = await runCycleDirect(t.handle.activities, {
      appId,
      cycleNumber: 1,
      kind: 'initial',
      watermark: null,
      batchSize: 50,
    });

    // One page of users and one of groups: one lookup each, however many objects the page holds.
    expect(find).not.toHaveBeenCalled();
    expect(findMany.mock.calls.map(([, objectType]) => objectType)).toEqual(['user', 'group']);
    expect(findMany.mock.calls[0][2].length).toBeGreaterThanOrEqual(USERS);

    // Matched, not created again: each seeded account is now the user's link.
    for (const [sourceId, targetId] of seeded) {
      expect((await t.store.links.get(appId, 'user', sourceId))?.targetId, sourceId).toBe(targetId);
    }
    expect(summary).toMatchObject({ counts: { updated: seeded.size, failed: 1 } });

    const logs = await t.store.logs.query({ appId, cycleId: summary.cycleId, objectId: userId(DUP), limit: 10 });
    const [dup] = logs.items;
    expect(dup).toMatchObject({ status: 'Failure', errorCode: 'DuplicateTargetEntries' });
    const matching = dup.steps.find((s) => s.name === 'matching');
    expect(matching).toMatchObject({ status: 'Failure', details: { source: 'bulk listing of the target' } });
    expect(matching?.details?.attempts).toEqual([
      `userName eq "${upn(DUP)}": 0 found`,
      expect.stringMatching(/^emails\[type eq "work" and value eq "user030@contoso.com"\]: 2 found \(.+, .+\)$/),
    ]);
    expect((await t.store.links.get(appId, 'user', userId(DUP)))?.targetId ?? null).toBeNull();
  });
});
