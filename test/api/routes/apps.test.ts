import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { startScimTarget, type ScimTarget } from '../../../dev/scim-target/index.ts';
import { ApiError } from '../../../api/errors.ts';
import type { JobStatus, ProvisioningControl } from '../../../api/provisioning-control.ts';
import { recordingProvisioning } from '../helpers.ts';
import { read, send, storeApp } from './helpers.ts';

const TOKEN = 'tok_apps_test_5c1f9e2b7a8d4e6f';

let ctx: Awaited<ReturnType<typeof storeApp>>;
let target: ScimTarget;
beforeAll(async () => {
  ctx = await storeApp();
  target = await startScimTarget({ host: '127.0.0.1', token: TOKEN });
});
afterAll(async () => {
  await target.close();
  await ctx.close();
});

const req = (path: string, init?: RequestInit) => ctx.app.request(`/api/v1${path}`, init);

const newApp = (overrides: Record<string, unknown> = {}) => ({
  name: 'GroupTalk for Contoso',
  template: 'grouptalk',
  target: { url: 'https://api.grouptalk.example/scim', token: TOKEN },
  ...overrides,
});

const postApp = (overrides: Record<string, unknown> = {}) => req('/apps', send('POST', newApp(overrides)));

describe('gallery', () => {
  it('lists the four templates with their default mappings', async () => {
    const res = await req('/gallery', send('GET'));
    expect(res.status).toBe(200);
    const body = await read(res);
    expect(body.items.map((t: { id: string }) => t.id).sort()).toEqual([
      'generic-scim',
      'grouptalk',
      'ipass-smartconnect',
      'mediusflow',
    ]);
    expect(
      body.items.find((t: { id: string }) => t.id === 'grouptalk').objectTypes.user.mappings.length,
    ).toBeGreaterThan(3);
  });
});

describe('apps', () => {
  it('creates an app from a template and never returns the token', async () => {
    const res = await postApp({ settings: { cycleIntervalMinutes: 30, notificationEmail: 'it@contoso.com' } });
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toContain(TOKEN);
    const app = JSON.parse(text);
    expect(app).toMatchObject({
      template: 'grouptalk',
      hasToken: true,
      provisioningEnabled: false,
      settings: { cycleIntervalMinutes: 30, notificationEmail: 'it@contoso.com', scope: 'assigned', profile: 'strict' },
    });
    expect(app.mappings.user.length).toBeGreaterThan(3);
    const listed = await (await req('/apps', send('GET'))).text();
    expect(listed).not.toContain(TOKEN);
    expect((await req(`/apps/${app.id}`, send('GET'))).status).toBe(200);
  });

  it('keeps the token encrypted at rest', async () => {
    const app = await read(await postApp({ name: 'Encrypted' }));
    const rows = (await ctx.store.db.execute(sql`select * from apps where id = ${app.id}`)) as unknown as {
      rows: unknown[];
    };
    expect(JSON.stringify(rows.rows)).not.toContain(TOKEN);
    expect(await ctx.store.apps.getSecrets(app.id)).toEqual({ token: TOKEN });
  });

  it('names the path of an invalid mapping expression and of a bad setting', async () => {
    const res = await postApp({
      mappings: {
        user: [{ target: 'userName', type: 'expression', expression: 'Foo([x]', matchingPrecedence: 1 }],
      },
    });
    expect(res.status).toBe(400);
    const error = (await read(res)).error;
    expect(error.code).toBe('validation_failed');
    expect(error.details.map((d: { path: string }) => d.path)).toContain('mappings.user[0].expression');
    const bad = await postApp({ settings: { cycleIntervalMinutes: 0 } });
    expect((await read(bad)).error.details[0].path).toBe('settings.cycleIntervalMinutes');
  });

  it('refuses a matching attribute the target cannot filter on', async () => {
    const res = await postApp({
      mappings: {
        user: [
          { target: 'userName', type: 'direct', source: 'userPrincipalName' },
          { target: 'displayName', type: 'direct', source: 'displayName', matchingPrecedence: 1 },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect((await read(res)).error.details.map((d: { path: string }) => d.path)).toContain(
      'mappings.user[1].matchingPrecedence',
    );
  });

  it('accepts plain http only for loopback with allowInsecureLoopback', async () => {
    const plain = await postApp({ target: { url: 'http://scim.example.com/scim', token: TOKEN } });
    expect((await read(plain)).error.details[0]).toMatchObject({ path: 'target.url' });
    const loopback = await postApp({ target: { url: target.baseUrl, token: TOKEN } });
    expect((await read(loopback)).error.details[0]).toMatchObject({ path: 'target.url' });
    const allowed = await postApp({
      target: { url: target.baseUrl, token: TOKEN },
      settings: { allowInsecureLoopback: true },
    });
    expect(allowed.status).toBe(201);
  });

  it('refuses an unknown template, a target with both token and oauth, and unknown fields', async () => {
    expect((await read(await postApp({ template: 'nope' }))).error.details[0].path).toBe('template');
    const both = await postApp({
      target: {
        url: 'https://x.example',
        token: 't',
        oauth: { tokenUrl: 'https://x.example/t', clientId: 'c', clientSecret: 's' },
      },
    });
    expect(both.status).toBe(400);
    expect((await postApp({ colour: 'blue' })).status).toBe(400);
  });

  it('stores OAuth client credentials with the secret hidden', async () => {
    const res = await postApp({
      name: 'OAuth app',
      target: {
        url: 'https://x.example/scim',
        oauth: { tokenUrl: 'https://x.example/token', clientId: 'ferry', clientSecret: 'cs_very_secret_1234' },
      },
    });
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toContain('cs_very_secret_1234');
    expect(JSON.parse(text).target).toMatchObject({
      auth: 'oauth2',
      hasClientSecret: true,
      hasToken: false,
      oauth: { clientId: 'ferry' },
    });
  });

  it('signals configChanged when mappings change, not when only the name changes', async () => {
    const app = await read(await postApp({ name: 'Signals' }));
    ctx.calls.length = 0;
    const renamed = await req(`/apps/${app.id}`, send('PATCH', { name: 'Renamed' }));
    expect(renamed.status).toBe(200);
    const renamedView = await read(renamed);
    expect(renamedView.name).toBe('Renamed');
    // The job starts an initial cycle when configVersion moves: a rename must not move it.
    expect(renamedView.configVersion).toBe(app.configVersion);
    expect(ctx.calls).toEqual([]);
    const mappings = app.mappings.user.filter((m: { target: string }) => !m.target.includes('label5'));
    const changed = await req(`/apps/${app.id}`, send('PATCH', { mappings: { user: mappings } }));
    expect(changed.status).toBe(200);
    expect((await read(changed)).configVersion).toBeGreaterThan(app.configVersion);
    expect(ctx.calls).toEqual([{ method: 'configChanged', args: [app.id] }]);
  });

  it('keeps configVersion when only the e-mail, interval or threshold change (no initial cycle)', async () => {
    const app = await read(await postApp({ name: 'Settings only' }));
    ctx.calls.length = 0;
    const res = await req(
      `/apps/${app.id}`,
      send('PATCH', {
        settings: {
          notificationEmail: 'ops@contoso.example',
          cycleIntervalMinutes: 90,
          deletionThreshold: { count: 50 },
        },
      }),
    );
    expect(res.status).toBe(200);
    const view = await read(res);
    expect(view.configVersion).toBe(app.configVersion);
    expect(ctx.calls).toEqual([]);
  });

  it('replaces the token on PATCH without ever returning it', async () => {
    const app = await read(await postApp({ name: 'Rotate' }));
    const res = await req(`/apps/${app.id}`, send('PATCH', { target: { token: 'tok_rotated_0123456789' } }));
    const text = await res.text();
    expect(text).not.toContain('tok_rotated_0123456789');
    expect(JSON.parse(text).configVersion).toBe(app.configVersion);
    expect(await ctx.store.apps.getSecrets(app.id)).toEqual({ token: 'tok_rotated_0123456789' });
    const bad = await req(`/apps/${app.id}`, send('PATCH', { settings: { profile: 'loose' } }));
    expect((await read(bad)).error.details[0].path).toBe('settings.profile');
  });

  it('tests the connection with the stored credentials', async () => {
    const app = await read(
      await postApp({
        name: 'Live',
        target: { url: target.baseUrl, token: TOKEN },
        settings: { allowInsecureLoopback: true },
      }),
    );
    const ok = await req(`/apps/${app.id}/test-connection`, send('POST'));
    expect(await read(ok)).toEqual({ ok: true });
    await req(`/apps/${app.id}`, send('PATCH', { target: { token: 'tok_wrong_0000000000' } }));
    const res = await req(`/apps/${app.id}/test-connection`, send('POST'));
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ ok: false, reason: 'unauthorized' });
    expect(text).not.toContain('tok_wrong_0000000000');
  });

  it('deletes an app (stopping its job for good) and then answers 404', async () => {
    const app = await read(await postApp({ name: 'Doomed' }));
    ctx.calls.length = 0;
    expect((await req(`/apps/${app.id}`, send('DELETE'))).status).toBe(204);
    expect(ctx.calls).toEqual([{ method: 'stop', args: [app.id] }]);
    expect((await req(`/apps/${app.id}`, send('GET'))).status).toBe(404);
    expect((await req(`/apps/${app.id}`, send('DELETE'))).status).toBe(404);
    expect((await req(`/apps/${app.id}/provisioning/start`, send('POST'))).status).toBe(404);
    expect((await req(`/apps/${app.id}`, send('PATCH', { name: 'Back' }))).status).toBe(404);
    expect((await req(`/apps/${app.id}/test-connection`, send('POST'))).status).toBe(404);
    const logs = await req(`/apps/${app.id}/logs`, send('GET'));
    expect((await read(logs)).error).toMatchObject({ code: 'not_found', message: `App ${app.id} not found` });
  });

  it('keeps the app when its job cannot be stopped (Temporal away): 503, and the delete can be retried', async () => {
    const { control } = recordingProvisioning();
    const away = await storeApp({
      provisioning: {
        ...control,
        stop: async () => {
          throw new ApiError('unavailable', 'Temporal is unavailable');
        },
      },
    });
    try {
      const viaAway = (path: string, init?: RequestInit) => away.app.request(`/api/v1${path}`, init);
      const app = await read(await viaAway('/apps', send('POST', newApp({ name: 'Kept' }))));
      expect((await viaAway(`/apps/${app.id}`, send('DELETE'))).status).toBe(503);
      expect((await viaAway(`/apps/${app.id}`, send('GET'))).status).toBe(200);
    } finally {
      await away.close();
    }
  });

  it("shows the job's state, or null with the reason when there is no job or Temporal is away, never failing or hanging", async () => {
    const { control } = recordingProvisioning();
    const paused = { appId: 'x', appName: 'x', state: 'paused' } as unknown as JobStatus;
    const cases: Array<[string, ProvisioningControl['status'], Record<string, unknown>]> = [
      ['paused job', async () => paused, { state: 'paused', reason: null }],
      ['no job', async () => null, { state: null, reason: 'notRunning' }],
      [
        'Temporal unreachable',
        async () => {
          throw new ApiError('unavailable', 'Temporal is unavailable');
        },
        { state: null, reason: 'unavailable', message: 'Temporal is unavailable' },
      ],
      ['Temporal never answers', () => new Promise<never>(() => undefined), { state: null, reason: 'unavailable' }],
    ];
    let current: ProvisioningControl['status'] = async () => null;
    const api = await storeApp({ provisioning: { ...control, status: (id) => current(id) }, statusTimeoutMs: 100 });
    try {
      const created = await read(await api.app.request('/api/v1/apps', send('POST', newApp())));
      for (const [name, status, expected] of cases) {
        current = status;
        const res = await api.app.request(`/api/v1/apps/${created.id}`, send('GET'));
        expect(res.status, name).toBe(200);
        const body = await read(res);
        expect(body.id, name).toBe(created.id);
        expect(body.provisioning, name).toMatchObject(expected);
      }
    } finally {
      await api.close();
    }
  });

  it('logs no secret while doing all this', () => {
    const all = ctx.lines.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [TOKEN, 'cs_very_secret_1234', 'tok_rotated_0123456789', 'tok_wrong_0000000000'])
      expect(all).not.toContain(secret);
  });
});
