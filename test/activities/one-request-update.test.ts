// An updated user costs one request: the link keeps the values last exported, so the PATCH is
// computed from them with no GET first. A link without them (made before Ferry kept them) reads the
// target once; an account deleted in the target meanwhile is matched again and re-created.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleSummary } from '../../activities/types.ts';
import { createApp, seedDirectory, upn, userId } from '../provisioning/fixtures.ts';
import { openActivityTestbed, runCycleDirect, type ActivityTestbed } from './helpers.ts';

describe('one request per updated user', () => {
  const shape = { users: 6, groups: 1 };
  let t: ActivityTestbed;
  let appId: string;
  let cycles = 0;

  beforeAll(async () => {
    t = await openActivityTestbed('onerequest');
    await seedDirectory(t.store, shape);
    appId = await createApp(t.store, t.peer, { shape });
    expect((await cycle('initial')).status).toBe('succeeded');
  });
  afterAll(async () => {
    await t?.close();
  });

  async function cycle(kind: 'initial' | 'incremental'): Promise<CycleSummary> {
    const app = await t.store.apps.require(appId);
    return runCycleDirect(t.handle.activities, { appId, cycleNumber: ++cycles, kind, watermark: app.watermark });
  }

  /** The requests a cycle sent about one user's account (its target id, or a filter naming its userName). */
  async function requestsFor(i: number, run: () => Promise<unknown>) {
    const targetId = (await t.store.links.get(appId, 'user', userId(i)))?.targetId as string;
    const from = t.peer.requestLog.length;
    await run();
    return t.peer.requestLog
      .slice(from)
      .filter((r) => r.path.includes(targetId) || decodeURIComponent(r.path).includes(upn(i)))
      .map((r) => `${r.method} ${r.status}`);
  }

  const titleAt = async (i: number) => (await t.peer.users()).find((u) => u.userName === upn(i))?.title;

  it('an updated user costs exactly one PATCH', async () => {
    await t.store.directory.patchUser(userId(1), { jobTitle: 'Director' });
    const requests = await requestsFor(1, async () => expect((await cycle('incremental')).counts.updated).toBe(1));
    expect(requests).toEqual(['PATCH 200']);
    expect(await titleAt(1)).toBe('Director');
    const link = await t.store.links.get(appId, 'user', userId(1));
    expect(link?.exportedValues?.values.title).toBe('Director');
  });

  it('a link without stored values (from before the upgrade) reads the target once, then no more', async () => {
    await t.store.db.execute(sql`update links set exported_values = null where source_id = ${userId(2)}`);
    await t.store.directory.patchUser(userId(2), { jobTitle: 'Lead' });
    expect(await requestsFor(2, () => cycle('incremental'))).toEqual(['GET 200', 'PATCH 200']);
    await t.store.directory.patchUser(userId(2), { jobTitle: 'Head' });
    expect(await requestsFor(2, () => cycle('incremental'))).toEqual(['PATCH 200']);
    expect(await titleAt(2)).toBe('Head');
  });

  it('an account deleted in the target is matched again and re-created when its PATCH finds nothing', async () => {
    const link = await t.store.links.get(appId, 'user', userId(3));
    const res = await fetch(`${t.peer.baseUrl}/Users/${link?.targetId}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${t.peer.token}` },
    });
    expect(res.status).toBe(204);
    await t.store.directory.patchUser(userId(3), { jobTitle: 'Returned' });
    const summary = await cycle('incremental');
    expect(summary.counts).toMatchObject({ created: 1, failed: 0 });
    expect(await titleAt(3)).toBe('Returned');
    const relinked = await t.store.links.get(appId, 'user', userId(3));
    expect(relinked?.targetId).not.toBe(link?.targetId);
    expect(relinked?.failureCount).toBe(0);
  });
});
