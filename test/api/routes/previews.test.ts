// Preview before apply through the real API over the real job: a proposed mapping or scoping change
// shows what the next cycle would do for every object — counts per action, each object's action and
// attribute changes — without a request to the target or a change to the app; applying it saves the
// change, and the job's next cycle does what the preview said. A stale preview is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The API first: @hono/zod-openapi extends zod before the engine's schemas are made.
import { read, send } from './helpers.ts';
import { genericScimTemplate } from '../../../gallery/index.ts';
import { upn, userId } from '../../provisioning/fixtures.ts';
import { provisionedApp, startJobApi, type JobApi } from './job-api.ts';

const shape = { users: 8, groups: 1 };
const noSales = {
  title: 'no sales',
  clauses: [{ attribute: 'department', operator: 'NOT EQUALS' as const, value: 'Sales' }],
};
/** The template's user mappings with `title` taken from the department instead of the job title. */
const titleFromDepartment = genericScimTemplate.objectTypes.user.mappings.map((m) =>
  'target' in m && m.target === 'title' ? { ...m, source: 'department' } : m,
);

describe('preview before apply', () => {
  let t: JobApi;
  let appId: string;

  beforeAll(async () => {
    // The peer listens on loopback over plain http, as FERRY_ALLOW_INSECURE_LOOPBACK=1 allows.
    t = await startJobApi({ api: { allowInsecureLoopback: true } });
    appId = await provisionedApp(t, shape);
  });

  afterAll(async () => {
    await t?.close();
  });

  const request = (path: string, method = 'GET', body?: unknown) =>
    t.api.app.request(`/api/v1/apps/${appId}${path}`, send(method, body));

  /** Posts the change and waits (generously) until its preview is computed. */
  const preview = async (change: unknown) => {
    const res = await request('/preview', 'POST', change);
    if (res.status !== 202) throw new Error(JSON.stringify(await read(res)));
    const started = await read(res);
    expect(res.headers.get('Location')).toBe(`/api/v1/apps/${appId}/previews/${started.id}`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const body = await read(await request(`/previews/${started.id}`));
      if (body.status !== 'running') return body;
      if (Date.now() > deadline) throw new Error('the preview did not complete in 60 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('shows the users a scoping filter would disable, without a request to the target or a change to the app', async () => {
    const sent = t.peer.requestLog.length;
    const got = await request('');
    const before = await read(got);
    const body = await preview({ scopingFilters: { user: [noSales] } });
    expect(body.status).toBe('completed');
    expect(`"${body.baseVersion}"`).toBe(got.headers.get('ETag'));
    // Users 2, 4, 6, 8 are in Sales; the others and the group are unchanged.
    expect(body.counts).toEqual({ Disable: 4, Skip: 5 });
    expect(body.total).toBe(9);
    const disabled = await read(await request(`/previews/${body.id}?action=Disable`));
    expect(disabled.items.map((i: { objectId: string }) => i.objectId)).toEqual([2, 4, 6, 8].map(userId));
    expect(disabled.items[0]).toMatchObject({
      objectType: 'user',
      reason: 'out of scope',
      modifiedAttributes: [{ name: 'active', oldValue: true, newValue: false }],
    });
    expect(t.peer.requestLog.length).toBe(sent);
    const after = await read(await request(''));
    expect(after.scopingFilters.user).toEqual([]);
    expect(after.updatedAt).toBe(before.updatedAt);
  });

  it('shows each attribute a mapping change would modify, page by page', async () => {
    const body = await preview({ mappings: { user: titleFromDepartment } });
    expect(body.counts).toEqual({ Update: 8, Skip: 1 });
    const first = await read(await request(`/previews/${body.id}?action=Update&limit=3`));
    expect(first.items).toHaveLength(3);
    expect(first.items[0]).toMatchObject({
      objectId: userId(1),
      action: 'Update',
      modifiedAttributes: [{ name: 'title', oldValue: 'Engineer', newValue: 'Engineering' }],
    });
    const seen = [...first.items];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await read(await request(`/previews/${body.id}?action=Update&limit=3&cursor=${cursor}`));
      seen.push(...page.items);
      cursor = page.nextCursor;
    }
    expect(seen.map((i) => i.objectId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map(userId));
    expect(seen[1].modifiedAttributes).toEqual([{ name: 'title', oldValue: 'Engineer', newValue: 'Sales' }]);
  });

  it('refuses a preview computed before the app changed, with 409', async () => {
    const body = await preview({ scopingFilters: { user: [noSales] } });
    expect((await request('', 'PATCH', { settings: { cycleIntervalMinutes: 30 } })).status).toBe(200);
    const res = await request(`/previews/${body.id}/apply`, 'POST');
    expect(res.status).toBe(409);
    expect((await read(res)).error.message).toMatch(/changed since preview/);
    expect((await read(await request(''))).scopingFilters.user).toEqual([]);
  });

  it('applies a preview: the change is saved and the next cycle does what the preview showed', async () => {
    const body = await preview({ scopingFilters: { user: [noSales] } });
    const cycles = (await t.h.status(appId)).lastCycle?.number ?? 0;
    const res = await request(`/previews/${body.id}/apply`, 'POST');
    expect(res.status).toBe(200);
    const app = await read(res);
    expect(app.scopingFilters.user).toEqual([noSales]);
    expect(res.headers.get('ETag')).toBeTruthy();
    await t.h.waitForCycle(appId, cycles + 1);
    const users = await t.peer.users();
    for (const i of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const account = users.find((u) => u.userName === upn(i));
      expect(account?.active, upn(i)).toBe(i % 2 === 1);
    }
    expect((await read(await request(`/previews/${body.id}`))).status).toBe('applied');
    const again = await request(`/previews/${body.id}/apply`, 'POST');
    expect(again.status).toBe(409);
  });

  it('names what is wrong in a proposed change, and answers 404 for an unknown preview', async () => {
    const res = await request('/preview', 'POST', { mappings: { user: [{ target: 'title', type: 'nope' }] } });
    expect(res.status).toBe(400);
    expect((await read(res)).error.details[0].path).toMatch(/^mappings\.user/);
    const target = await request('/preview', 'POST', { target: { url: 'https://elsewhere.example.com' } });
    expect(target.status).toBe(400);
    expect((await request('/previews/nothing-here')).status).toBe(404);
  });
});
