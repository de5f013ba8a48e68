import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { startScimTarget, type ScimTarget } from '../../../dev/scim-target/index.ts';
import { ApiError } from '../../../api/errors.ts';
import type { JobStatus, ProvisioningControl } from '../../../api/provisioning-control.ts';
import { parseNetwork } from '../../../scim/index.ts';
import { recordingProvisioning } from '../helpers.ts';
import { read, send, storeApp } from './helpers.ts';

const TOKEN = 'tok_apps_test_5c1f9e2b7a8d4e6f';

let ctx: Awaited<ReturnType<typeof storeApp>>;
let target: ScimTarget;
beforeAll(async () => {
  // As with FERRY_ALLOW_INSECURE_LOOPBACK=1: these tests' live target listens on loopback. Where
  // the environment does not allow it: "where apps may point" below.
  ctx = await storeApp({ allowInsecureLoopback: true });
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

  it('keeps the Retry-After cap of an app (15 minutes by default) and names its path when out of range', async () => {
    const plain = await read(await postApp({ name: 'Default cap' }));
    expect(plain.settings.rateLimit.maxRetryAfterSeconds).toBe(900);
    const capped = await read(await postApp({ name: 'Cap', settings: { rateLimit: { maxRetryAfterSeconds: 120 } } }));
    expect(capped.settings.rateLimit).toMatchObject({ maxRetryAfterSeconds: 120, requestsPerSecond: 25 });
    for (const value of [0, 86_401, 1.5]) {
      const bad = await postApp({ settings: { rateLimit: { maxRetryAfterSeconds: value } } });
      expect(bad.status).toBe(400);
      expect((await read(bad)).error.details[0].path).toBe('settings.rateLimit.maxRetryAfterSeconds');
    }
  });

  it('keeps provisioning logs 30 days by default, per app, and names the path when out of range', async () => {
    const plain = await read(await postApp({ name: 'Default retention' }));
    expect(plain.settings.retention).toEqual({ logDays: 30 });
    const week = await read(await postApp({ name: 'Week', settings: { retention: { logDays: 7 } } }));
    expect(week.settings.retention).toEqual({ logDays: 7 });
    const changed = await read(
      await req(`/apps/${week.id}`, send('PATCH', { settings: { retention: { logDays: 400 } } })),
    );
    expect(changed.settings.retention).toEqual({ logDays: 400 });
    expect(changed.configVersion).toBe(week.configVersion);
    for (const value of [0, 3651, 2.5]) {
      const bad = await postApp({ settings: { retention: { logDays: value } } });
      expect(bad.status).toBe(400);
      expect((await read(bad)).error.details[0].path).toBe('settings.retention.logDays');
    }
  });

  it('sends single requests unless Bulk is turned on, and names the field of a bad value', async () => {
    const plain = await read(await postApp({ name: 'No bulk' }));
    expect(plain.settings.bulk).toBe(false);
    const changed = await read(await req(`/apps/${plain.id}`, send('PATCH', { settings: { bulk: true } })));
    expect(changed.settings.bulk).toBe(true);
    expect((await ctx.store.apps.require(plain.id)).configuration).toMatchObject({ bulk: true });
    const bad = await postApp({ settings: { bulk: 'yes' } });
    expect(bad.status).toBe(400);
    expect((await read(bad)).error.details[0].path).toBe('settings.bulk');
  });

  it('refuses a deeply nested or huge orphanPolicy with a short 400 naming the field, not a 500', async () => {
    const deep = `${'['.repeat(3000)}${']'.repeat(3000)}`;
    const body = `{"name":"Deep","template":"grouptalk","target":{"url":"https://api.grouptalk.example/scim","token":"t"},"settings":{"orphanPolicy":${deep}}}`;
    const nested = await req('/apps', { ...send('POST', {}), body });
    expect(nested.status).toBe(400);
    const error = (await read(nested)).error;
    expect(error.details[0].path).toBe('settings.orphanPolicy');
    expect(error.details[0].message).toMatch(/^an array is not an orphan policy/);

    const huge = await postApp({ settings: { orphanPolicy: 'x'.repeat(100_000) } });
    expect(huge.status).toBe(400);
    expect(JSON.stringify(await read(huge)).length).toBeLessThan(2_000);
  });

  it("keeps a deleted app's logs readable for its retention period, and deletes them with purge=true", async () => {
    const logOf = (appId: string, id: string) => ({
      id,
      time: new Date().toISOString(),
      appId,
      cycleId: null,
      changeId: null,
      objectType: 'user' as const,
      sourceId: 'u1',
      sourceDisplayName: 'Ada',
      targetId: 't1',
      action: 'Create' as const,
      status: 'Success' as const,
      errorCode: null,
      errorMessage: null,
      steps: [],
      modifiedAttributes: [],
      durationMs: 3,
      onDemand: false,
    });
    const kept = await read(await postApp({ name: 'Kept logs', settings: { retention: { logDays: 90 } } }));
    await ctx.store.logs.insert([logOf(kept.id, `${kept.id}-1`)]);
    expect((await req(`/apps/${kept.id}`, send('DELETE'))).status).toBe(204);
    expect((await req(`/apps/${kept.id}`, send('GET'))).status).toBe(404);
    const logs = await req(`/apps/${kept.id}/logs`, send('GET'));
    expect(logs.status).toBe(200);
    expect((await read(logs)).items.map((e: { id: string }) => e.id)).toEqual([`${kept.id}-1`]);
    expect(await ctx.store.retention.deletedAppLogs(kept.id)).toMatchObject({ name: 'Kept logs', logDays: 90 });

    const purged = await read(await postApp({ name: 'Purged logs' }));
    await ctx.store.logs.insert([logOf(purged.id, `${purged.id}-1`)]);
    expect((await req(`/apps/${purged.id}?purge=true`, send('DELETE'))).status).toBe(204);
    expect((await ctx.store.logs.query({ appId: purged.id })).items).toEqual([]);
    expect((await req(`/apps/${purged.id}/logs`, send('GET'))).status).toBe(404);
    expect((await req(`/apps/${purged.id}?purge=maybe`, send('DELETE'))).status).toBe(400);
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

  it('refuses plain http to anything but loopback, even where loopback is allowed', async () => {
    const plain = await postApp({ target: { url: 'http://scim.example.com/scim', token: TOKEN } });
    expect((await read(plain)).error.details[0]).toMatchObject({ path: 'target.url', message: 'must be an https URL' });
    const allowed = await postApp({
      target: { url: target.baseUrl, token: TOKEN },
      settings: { allowInsecureLoopback: true },
    });
    expect(allowed.status).toBe(201);
  });

  it('with FERRY_ALLOW_INSECURE_LOOPBACK=1 accepts plain http to loopback for every app, and still only to loopback', async () => {
    const env = await storeApp({ allowInsecureLoopback: true });
    try {
      const post = (url: string) =>
        env.app.request(
          '/api/v1/apps',
          send('POST', newApp({ template: 'generic-scim', target: { url, token: TOKEN } })),
        );
      const res = await post(target.baseUrl);
      expect(res.status).toBe(201);
      const app = await read(res);
      const tested = await env.app.request(`/api/v1/apps/${app.id}/test-connection`, send('POST'));
      expect(await read(tested)).toEqual({ ok: true });
      const patched = await env.app.request(
        `/api/v1/apps/${app.id}`,
        send('PATCH', { target: { url: `${target.baseUrl}/` } }),
      );
      expect(patched.status).toBe(200);
      expect((await read(await post('http://scim.example.com/scim'))).error.details[0]).toMatchObject({
        path: 'target.url',
      });
    } finally {
      await env.close();
    }
  });

  it("sets an app's connector limitations on create and PATCH, naming a bad domain", async () => {
    const created = await postApp({
      template: 'ipass-smartconnect',
      connectorLimitations: { allowedUsernameDomains: ['contoso.com'] },
    });
    expect(created.status).toBe(201);
    const app = await read(created);
    expect(app.connectorLimitations).toEqual({ allowedUsernameDomains: ['contoso.com'] });
    const patched = await req(
      `/apps/${app.id}`,
      send('PATCH', { connectorLimitations: { allowedUsernameDomains: ['contoso.com', 'fabrikam.com'] } }),
    );
    expect(patched.status).toBe(200);
    expect((await read(await req(`/apps/${app.id}`, send('GET')))).connectorLimitations).toEqual({
      allowedUsernameDomains: ['contoso.com', 'fabrikam.com'],
    });
    const bad = await req(
      `/apps/${app.id}`,
      send('PATCH', { connectorLimitations: { allowedUsernameDomains: ['contoso.com', 'not a domain'] } }),
    );
    expect(bad.status).toBe(400);
    expect((await read(bad)).error.details[0]).toMatchObject({
      path: 'connectorLimitations.allowedUsernameDomains[1]',
    });
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

  it("links to the job's page in the Temporal Web UI only when the UI is known", async () => {
    const created = await read(await postApp({ name: 'Linked' }));
    const unknown = await read(await req(`/apps/${created.id}`, send('GET')));
    expect(unknown.provisioning.temporalUiUrl).toBeNull();
    const known = await storeApp({ temporalUi: { url: 'https://temporal.contoso.example/ui', namespace: 'default' } });
    try {
      const app = await read(await known.app.request('/api/v1/apps', send('POST', newApp({ name: 'Linked' }))));
      const body = await read(await known.app.request(`/api/v1/apps/${app.id}`, send('GET')));
      expect(body.provisioning.temporalUiUrl).toBe(
        `https://temporal.contoso.example/ui/namespaces/default/workflows/provisioning%3A${app.id}`,
      );
    } finally {
      await known.close();
    }
  });

  describe('credentials stay bound to the origin they were given for', () => {
    // A second loopback listener stands for a host the caller controls: it records every
    // Authorization header it is sent.
    let elsewhere: Server;
    let elsewhereUrl: string;
    const received: string[] = [];
    beforeAll(async () => {
      elsewhere = createServer((request, response) => {
        received.push(request.headers.authorization ?? '');
        response.writeHead(401).end();
      });
      await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
      elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/scim/v2`;
    });
    afterAll(() => new Promise<void>((resolve) => elsewhere.close(() => resolve())));

    const liveApp = async (name: string) =>
      read(
        await postApp({
          name,
          target: { url: target.baseUrl, token: TOKEN },
          settings: { allowInsecureLoopback: true },
        }),
      );

    it('refuses a target on another origin without the token, naming target.token, and keeps the stored URL', async () => {
      const app = await liveApp('Moved without token');
      const res = await req(`/apps/${app.id}`, send('PATCH', { target: { url: elsewhereUrl } }));
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).not.toContain(TOKEN);
      const { error } = JSON.parse(text);
      expect(error.code).toBe('validation_failed');
      expect(error.details).toEqual([
        expect.objectContaining({
          path: 'target.token',
          message: expect.stringMatching(/^a new target origin needs the token again/),
        }),
      ]);
      expect((await read(await req(`/apps/${app.id}`, send('GET')))).target.url).toBe(target.baseUrl);
      // Pressing test-connection now still talks to the stored target: the other host sees nothing.
      expect(await read(await req(`/apps/${app.id}/test-connection`, send('POST')))).toEqual({ ok: true });
      expect(received).toEqual([]);
    });

    it('moves the target to another origin when the token comes with it', async () => {
      const app = await liveApp('Moved with token');
      const res = await req(
        `/apps/${app.id}`,
        send('PATCH', { target: { url: elsewhereUrl, token: 'tok_for_elsewhere_7f3a9c1e' } }),
      );
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain('tok_for_elsewhere_7f3a9c1e');
      expect(JSON.parse(text).target.url).toBe(elsewhereUrl);
      expect(await ctx.store.apps.getSecrets(app.id)).toEqual({ token: 'tok_for_elsewhere_7f3a9c1e' });
    });

    it('moves the target to another path on the same origin without the token', async () => {
      const app = await liveApp('New path');
      const url = target.baseUrl.replace(/\/scim\/v2$/, '/tenant-2/scim/v2');
      const res = await req(`/apps/${app.id}`, send('PATCH', { target: { url } }));
      expect(res.status).toBe(200);
      expect((await read(res)).target.url).toBe(url);
      expect(await ctx.store.apps.getSecrets(app.id)).toEqual({ token: TOKEN });
    });

    it('refuses an OAuth token URL or target on another origin without the client secret, naming target.oauth.clientSecret', async () => {
      const app = await read(
        await postApp({
          name: 'OAuth moved',
          target: {
            url: 'https://x.example/scim',
            oauth: { tokenUrl: 'https://login.x.example/token', clientId: 'ferry', clientSecret: 'cs_bound_4e8d2a6f' },
          },
        }),
      );
      const path = async (body: unknown) => {
        const res = await req(`/apps/${app.id}`, send('PATCH', body));
        expect(res.status).toBe(400);
        return (await read(res)).error.details.map((d: { path: string; message: string }) => d.path);
      };
      expect(await path({ target: { oauth: { tokenUrl: 'https://evil.example/token', clientId: 'ferry' } } })).toEqual([
        'target.oauth.clientSecret',
      ]);
      expect(await path({ target: { url: 'https://evil.example/scim' } })).toEqual(['target.oauth.clientSecret']);
      expect((await read(await req(`/apps/${app.id}`, send('GET')))).target).toMatchObject({
        url: 'https://x.example/scim',
        oauth: { tokenUrl: 'https://login.x.example/token' },
      });
      const samePath = await req(
        `/apps/${app.id}`,
        send('PATCH', {
          target: { oauth: { tokenUrl: 'https://login.x.example/oauth2/v2/token', clientId: 'ferry' } },
        }),
      );
      expect(samePath.status).toBe(200);
      const withSecret = await req(
        `/apps/${app.id}`,
        send('PATCH', {
          target: {
            oauth: {
              tokenUrl: 'https://login.y.example/token',
              clientId: 'ferry',
              clientSecret: 'cs_bound_again_1b7c',
            },
          },
        }),
      );
      expect(withSecret.status).toBe(200);
      expect((await read(withSecret)).target.oauth.tokenUrl).toBe('https://login.y.example/token');
      expect(await ctx.store.apps.getSecrets(app.id)).toEqual({ clientSecret: 'cs_bound_again_1b7c' });
    });
  });

  it('logs no secret while doing all this', () => {
    const all = ctx.lines.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [
      TOKEN,
      'cs_very_secret_1234',
      'tok_rotated_0123456789',
      'tok_wrong_0000000000',
      'tok_for_elsewhere_7f3a9c1e',
      'cs_bound_4e8d2a6f',
      'cs_bound_again_1b7c',
    ])
      expect(all).not.toContain(secret);
  });
});

describe('where apps may point (the outbound address policy)', () => {
  // The API of a server started without FERRY_ALLOW_INSECURE_LOOPBACK or FERRY_ALLOWED_TARGET_NETWORKS.
  let strict: Awaited<ReturnType<typeof storeApp>>;
  beforeAll(async () => {
    strict = await storeApp({ store: ctx.store });
  });
  afterAll(() => strict.close());

  const postStrict = (overrides: Record<string, unknown>) =>
    strict.app.request('/api/v1/apps', send('POST', newApp({ template: 'generic-scim', ...overrides })));
  const detailsOf = async (res: Response) => {
    expect(res.status).toBe(400);
    return (await read(res)).error.details as { path: string; message: string }[];
  };

  it('refuses settings.allowInsecureLoopback and loopback targets unless the server allows loopback', async () => {
    const asked = await detailsOf(
      await postStrict({ target: { url: target.baseUrl, token: TOKEN }, settings: { allowInsecureLoopback: true } }),
    );
    expect(asked).toEqual(
      expect.arrayContaining([
        {
          path: 'settings.allowInsecureLoopback',
          message: 'is accepted only when the server runs with FERRY_ALLOW_INSECURE_LOOPBACK=1 (development and tests)',
          in: 'body',
        },
        expect.objectContaining({
          path: 'target.url',
          message: expect.stringMatching(/FERRY_ALLOW_INSECURE_LOOPBACK=1/),
        }),
      ]),
    );
    for (const url of ['https://127.0.0.1:8443/scim', 'https://localhost/scim', 'https://[::1]/scim']) {
      expect(await detailsOf(await postStrict({ target: { url, token: TOKEN } })), url).toEqual([
        expect.objectContaining({
          path: 'target.url',
          message: expect.stringMatching(/outbound address policy refuses/),
        }),
      ]);
    }
  });

  it('refuses private, link-local, shared and unique-local addresses in the target and token URLs', async () => {
    for (const url of [
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.5/scim',
      'https://172.16.4.4/scim',
      'https://192.168.1.10/scim',
      'https://100.64.0.1/scim',
      'https://[fd00::1]/scim',
      'https://[fe80::1]/scim',
      'https://0.0.0.0/scim',
    ]) {
      const details = await detailsOf(await postStrict({ target: { url, token: TOKEN } }));
      expect(details, url).toEqual([
        expect.objectContaining({
          path: 'target.url',
          message: expect.stringContaining('FERRY_ALLOWED_TARGET_NETWORKS'),
        }),
      ]);
    }
    const oauth = await detailsOf(
      await postStrict({
        target: {
          url: 'https://scim.example.com/scim',
          oauth: { tokenUrl: 'https://10.0.0.9/token', clientId: 'ferry', clientSecret: 'cs_policy_0123456789' },
        },
      }),
    );
    expect(oauth.map((d) => d.path)).toEqual(['target.oauth.tokenUrl']);
    // A host name is not resolved when saved: each connection checks the address it resolves to.
    expect((await postStrict({ target: { url: 'https://scim.example.com/scim', token: TOKEN } })).status).toBe(201);
  });

  it('allows the networks named in FERRY_ALLOWED_TARGET_NETWORKS, and no others', async () => {
    const widened = await storeApp({ store: ctx.store, allowedTargetNetworks: [parseNetwork('10.20.0.0/16')] });
    try {
      const post = (url: string) =>
        widened.app.request(
          '/api/v1/apps',
          send('POST', newApp({ template: 'generic-scim', target: { url, token: TOKEN } })),
        );
      expect((await post('https://10.20.30.40/scim')).status).toBe(201);
      expect((await post('https://10.21.0.1/scim')).status).toBe(400);
      expect((await post('https://127.0.0.1/scim')).status).toBe(400);
    } finally {
      await widened.close();
    }
  });

  it('an app saved with allowInsecureLoopback earlier is not contacted once the server does not allow loopback', async () => {
    let contacted = 0;
    const listener = createServer((_request, response) => {
      contacted++;
      response.writeHead(200).end();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const port = (listener.address() as AddressInfo).port;
      const plain = await read(
        await postApp({
          template: 'generic-scim',
          target: { url: `http://127.0.0.1:${port}/scim`, token: TOKEN },
          settings: { allowInsecureLoopback: true },
        }),
      );
      const secure = await read(
        await postApp({ template: 'generic-scim', target: { url: `https://127.0.0.1:${port}/scim`, token: TOKEN } }),
      );
      const test = async (id: string) =>
        read(await strict.app.request(`/api/v1/apps/${id}/test-connection`, send('POST')));
      expect(await test(plain.id)).toMatchObject({ ok: false, reason: 'insecure' });
      expect(await test(secure.id)).toMatchObject({ ok: false, reason: 'addressNotAllowed' });
      expect(contacted).toBe(0);
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });
});
