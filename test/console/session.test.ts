// The console's sign-in, session cookie and CSRF protection, through the real app (no browser):
// the facts a person relies on — the key never sits readable in the cookie, a change without the
// page's token or from another site does nothing, a viewer is shown no action and is refused anyway.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_SECONDS, SessionSealer } from '../../console/session.ts';
import { jobStatus, recordingProvisioning } from '../api/helpers.ts';
import { API_KEY, auth, createTestApp, read, send, storeApp } from '../api/routes/helpers.ts';

type Ctx = Awaited<ReturnType<typeof storeApp>>;
let ctx: Ctx;
let appId: string;
let viewerKey: string;

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

async function signIn(key: string, url = 'http://ferry.test/console/sign-in'): Promise<Response> {
  return ctx.app.request(url, { method: 'POST', headers: FORM, body: form({ apiKey: key }) });
}

/** The session cookie (name=value) a sign-in set. */
function cookieOf(res: Response): string {
  const header = res.headers.get('Set-Cookie') ?? '';
  return header.split(';')[0];
}

/** The notice or error line a change redirected back with. */
function outcome(res: Response): { notice: string | null; error: string | null } {
  const params = new URL(res.headers.get('Location') ?? '/', 'http://x').searchParams;
  return { notice: params.get('notice'), error: params.get('error') };
}

const csrfOf = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

beforeAll(async () => {
  ctx = await storeApp();
  appId = await createTestApp(ctx.app, 'Payroll');
  const viewer = await read(await ctx.app.request('/api/v1/keys', send('POST', { name: 'auditor', role: 'viewer' })));
  viewerKey = viewer.key;
});
afterAll(async () => {
  await ctx?.close();
});

describe('console sign-in', () => {
  it('sends a signed-out browser from / to the sign-in page, whose field is labelled "API key"', async () => {
    const res = await ctx.app.request('/');
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/console/sign-in');
    const page = await ctx.app.request('/console/sign-in');
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html.startsWith('<!DOCTYPE html><html lang="en">')).toBe(true);
    expect(html).toMatch(/<label for="apiKey">API key<\/label>/);
    expect(page.headers.get('Content-Security-Policy')).toContain("frame-ancestors 'none'");
  });

  it('refuses a wrong key and sets no cookie', async () => {
    const res = await signIn('not-a-key-at-all-123');
    expect(res.status).toBe(401);
    expect(res.headers.get('Set-Cookie')).toBeNull();
    expect(await res.text()).toContain('This API key was not accepted');
  });

  it('keeps a good key sealed in an HttpOnly, SameSite=Strict cookie, Secure over https', async () => {
    const res = await signIn(API_KEY);
    expect(res.status).toBe(303);
    const header = res.headers.get('Set-Cookie') ?? '';
    expect(header).toMatch(/HttpOnly/);
    expect(header).toMatch(/SameSite=Strict/);
    expect(header).not.toMatch(/Secure/);
    expect(header).not.toContain(API_KEY);
    expect(Buffer.from(cookieOf(res).split('.')[1] ?? '', 'base64url').toString('latin1')).not.toContain(API_KEY);

    const secure = await signIn(API_KEY, 'https://ferry.test/console/sign-in');
    expect(secure.headers.get('Set-Cookie')).toMatch(/Secure/);
  });

  it('shows the apps to a signed-in browser, and sends an altered cookie back to sign-in', async () => {
    const cookie = cookieOf(await signIn(API_KEY));
    const page = await ctx.app.request('/', { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Payroll');

    const altered = cookie.slice(0, -3) + (cookie.endsWith('AAA') ? 'BBB' : 'AAA');
    const res = await ctx.app.request('/', { headers: { Cookie: altered } });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/console/sign-in');
  });

  it('signs out: the cookie is cleared', async () => {
    const cookie = cookieOf(await signIn(API_KEY));
    const page = await ctx.app.request('/', { headers: { Cookie: cookie } });
    const csrf = csrfOf(await page.text());
    const res = await ctx.app.request('/console/sign-out', {
      method: 'POST',
      headers: { ...FORM, Cookie: cookie },
      body: form({ _csrf: csrf }),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('Set-Cookie')).toMatch(/Max-Age=0/);
  });
});

describe('console CSRF protection', () => {
  const start = (cookie: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
    ctx.app.request(`/console/apps/${appId}/actions/start`, {
      method: 'POST',
      headers: { ...FORM, Cookie: cookie, ...headers },
      body: form(body),
    });
  const starts = () => ctx.calls.filter((call) => call.method === 'start').length;

  it('refuses a change without the token, with a wrong token, or from another site; does it with the token', async () => {
    const cookie = cookieOf(await signIn(API_KEY));
    const csrf = csrfOf(
      await (await ctx.app.request(`/console/apps/${appId}`, { headers: { Cookie: cookie } })).text(),
    );
    expect(csrf).not.toBe('');
    const before = starts();

    expect((await start(cookie, {})).status).toBe(403);
    expect((await start(cookie, { _csrf: `${csrf}x` })).status).toBe(403);
    expect((await start(cookie, { _csrf: csrf }, { Origin: 'https://evil.example' })).status).toBe(403);
    expect(starts()).toBe(before);

    const done = await start(cookie, { _csrf: csrf }, { Origin: 'http://localhost' });
    expect(done.status).toBe(303);
    expect(outcome(done)).toEqual({ notice: 'Asked the job to start', error: null });
    expect(starts()).toBe(before + 1);
  });

  it("does not accept one session's token for another session", async () => {
    const first = cookieOf(await signIn(API_KEY));
    const second = cookieOf(await signIn(API_KEY));
    const csrf = csrfOf(await (await ctx.app.request('/', { headers: { Cookie: first } })).text());
    expect((await start(second, { _csrf: csrf })).status).toBe(403);
  });

  it('accepts the token in the X-CSRF-Token header (htmx)', async () => {
    const cookie = cookieOf(await signIn(API_KEY));
    const csrf = csrfOf(await (await ctx.app.request('/', { headers: { Cookie: cookie } })).text());
    const before = starts();
    const res = await start(cookie, {}, { 'X-CSRF-Token': csrf });
    expect(outcome(res)).toEqual({ notice: 'Asked the job to start', error: null });
    expect(starts()).toBe(before + 1);
  });
});

describe('console roles', () => {
  it('shows a viewer no action button, and the API refuses a viewer’s change anyway', async () => {
    const cookie = cookieOf(await signIn(viewerKey));
    const html = await (await ctx.app.request(`/console/apps/${appId}`, { headers: { Cookie: cookie } })).text();
    expect(html).toContain('Payroll');
    expect(html).not.toMatch(/actions\/(start|pause|resume|run|restart|release)/);
    expect(html).not.toContain('Save settings');
    expect(html).not.toContain('New app');

    const before = ctx.calls.length;
    const res = await ctx.app.request(`/console/apps/${appId}/actions/start`, {
      method: 'POST',
      headers: { ...FORM, Cookie: cookie },
      body: form({ _csrf: csrfOf(html) }),
    });
    expect(res.status).toBe(303);
    expect(outcome(res).error).toContain('lacks the permission provisioning:control');
    expect(ctx.calls.slice(before).filter((c) => c.method === 'start')).toEqual([]);
  });

  it('shows a viewer no directory form, and the API refuses a viewer’s directory change anyway', async () => {
    const cookie = cookieOf(await signIn(viewerKey));
    const group = await read(
      await ctx.app.request('/api/v1/directory/groups', send('POST', { id: 'gv', displayName: 'Viewers see this' })),
    );
    const html = await (
      await ctx.app.request(`/console/directory/groups/${group.id}`, { headers: { Cookie: cookie } })
    ).text();
    expect(html).toContain('Viewers see this');
    expect(html).not.toContain('Add member');
    expect(html).not.toContain('New user');

    const res = await ctx.app.request('/console/directory/users', {
      method: 'POST',
      headers: { ...FORM, Cookie: cookie },
      body: form({ _csrf: csrfOf(html), userPrincipalName: 'sneaky@contoso.example', accountEnabled: 'true' }),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('lacks the permission directory:write');
    const users = await read(await ctx.app.request('/api/v1/directory/users?search=sneaky', { headers: auth() }));
    expect(users.items).toEqual([]);
  });

  it("imports a file over 1 MiB through the console's upload form (the import body limit applies)", async () => {
    const cookie = cookieOf(await signIn(API_KEY));
    const html = await (await ctx.app.request('/console/directory', { headers: { Cookie: cookie } })).text();
    const rows = Array.from(
      { length: 12_000 },
      (_, i) => `bulk${i}@contoso.example,Bulk Person ${i} ${'x'.repeat(60)}`,
    );
    const csv = ['userPrincipalName,displayName', ...rows].join('\n');
    expect(csv.length).toBeGreaterThan(1024 * 1024);
    const body = new FormData();
    body.set('_csrf', csrfOf(html));
    body.set('kind', 'users');
    body.set('file', new File([csv], 'bulk.csv', { type: 'text/csv' }));
    const res = await ctx.app.request('/console/directory/import', {
      method: 'POST',
      headers: { Cookie: cookie },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Imported bulk.csv');
    const found = await read(await ctx.app.request('/api/v1/directory/users?search=bulk11999@', { headers: auth() }));
    expect(found.items).toHaveLength(1);
  });

  it("shows a scim source's URL at the address the browser used, https included", async () => {
    const signedIn = await signIn(API_KEY, 'https://ferry.test/console/sign-in');
    const cookie = cookieOf(signedIn);
    const page = await ctx.app.request('https://ferry.test/console/sources/new?type=scim', {
      headers: { Cookie: cookie },
    });
    const res = await ctx.app.request('https://ferry.test/console/sources?type=scim', {
      method: 'POST',
      headers: { ...FORM, Cookie: cookie },
      body: form({ _csrf: csrfOf(await page.text()), name: 'Pushed' }),
    });
    expect(res.status).toBe(201);
    const html = await res.text();
    expect(html).toContain('https://ferry.test/scim/v2');
    expect(html).toMatch(/fst_[A-Za-z0-9_-]{43}/);
  });

  it('ends the session of a revoked key', async () => {
    const made = await read(await ctx.app.request('/api/v1/keys', send('POST', { name: 'temp', role: 'operator' })));
    const cookie = cookieOf(await signIn(made.key));
    expect((await ctx.app.request('/', { headers: { Cookie: cookie } })).status).toBe(200);
    expect((await ctx.app.request(`/api/v1/keys/${made.id}`, { method: 'DELETE', headers: auth() })).status).toBe(200);
    // Stored keys are remembered a few seconds; the revoking process forgets at once.
    const res = await ctx.app.request('/', { headers: { Cookie: cookie } });
    expect(res.status).toBe(303);
  });
});

describe('console status pages', () => {
  it('shows a running cycle as a progress bar, and a quarantine with its reason and what to do', async () => {
    const status = jobStatus('quarantined', {
      cycle: { kind: 'initial', number: 3 },
      quarantine: { reason: 'The target answered 401 to every request', since: '2026-11-30T10:00:00.000Z' },
    });
    const other = await storeApp({ provisioning: recordingProvisioning(status).control });
    try {
      const id = await createTestApp(other.app, 'Quarantined app');
      const signedIn = await other.app.request('/console/sign-in', {
        method: 'POST',
        headers: FORM,
        body: form({ apiKey: API_KEY }),
      });
      const cookie = cookieOf(signedIn);
      const rows = await (await other.app.request('/console/overview/rows', { headers: { Cookie: cookie } })).text();
      expect(rows).toContain('Quarantined app');
      expect(rows).toMatch(/<progress[^>]*aria-label="Cycle 3 \(initial\)"/);
      expect(rows).toContain('badge-quarantined');
      const panel = await (
        await other.app.request(`/console/apps/${id}/status`, { headers: { Cookie: cookie } })
      ).text();
      expect(panel).toContain('The target answered 401 to every request');
      expect(panel).toContain('Release');
      expect(panel).toMatch(/<progress/);
    } finally {
      await other.close();
    }
  });
});

describe('console pages that read more than the app', () => {
  const page = async (app: Ctx['app'], path: string) => {
    const cookie = cookieOf(
      await app.request('/console/sign-in', { method: 'POST', headers: FORM, body: form({ apiKey: API_KEY }) }),
    );
    const res = await app.request(path, { headers: { Cookie: cookie } });
    return { status: res.status, html: await res.text() };
  };

  it('opens an app page whose job does not answer its status query, saying so, instead of waiting on it', async () => {
    const { control } = recordingProvisioning();
    control.status = () => new Promise(() => undefined);
    const other = await storeApp({ provisioning: control, statusTimeoutMs: 50 });
    try {
      const id = await createTestApp(other.app, 'Silent job');
      await other.store.apps.setProvisioningEnabled(id, true);
      const { status, html } = await page(other.app, `/console/apps/${id}`);
      expect(status).toBe(200);
      expect(html).toContain('Silent job');
      expect(html).toContain('The job is not answering right now.');
    } finally {
      await other.close();
    }
  });

  it("shows a group's members with their names, nested groups as links, and every member through nesting", async () => {
    const api = (path: string, body: unknown) => ctx.app.request(`/api/v1${path}`, send('POST', body));
    await api('/directory/groups', { id: 'cg-outer', displayName: 'Outer team' });
    await api('/directory/groups', { id: 'cg-inner', displayName: 'Inner team' });
    await api('/directory/users', { id: 'cu-1', userPrincipalName: 'cu1@contoso.com', displayName: 'Direct Person' });
    await api('/directory/users', { id: 'cu-2', userPrincipalName: 'cu2@contoso.com', displayName: 'Nested Person' });
    await api('/directory/groups/cg-outer/members', { memberId: 'cu-1' });
    await api('/directory/groups/cg-outer/members', { memberId: 'cg-inner' });
    await api('/directory/groups/cg-inner/members', { memberId: 'cu-2' });

    const list = await page(ctx.app, '/console/directory?kind=groups&search=team');
    expect(list.html).toContain('<a href="/console/directory/groups/cg-outer">Outer team</a>');

    const direct = await page(ctx.app, '/console/directory/groups/cg-outer');
    expect(direct.status).toBe(200);
    expect(direct.html).toContain('Direct Person');
    expect(direct.html).toContain('<a href="/console/directory/groups/cg-inner">Inner team</a>');
    expect(direct.html).not.toContain('Nested Person');

    const nested = await page(ctx.app, '/console/directory/groups/cg-outer?nested=1');
    expect(nested.html).toContain('Direct Person');
    expect(nested.html).toContain('Nested Person');
  });
});

describe('target credentials in the console', () => {
  const SECRET = 'oauth-client-secret-0123456789';
  const signedIn = async () => {
    const cookie = cookieOf(await signIn(API_KEY));
    const csrf = csrfOf(await (await ctx.app.request('/console/new', { headers: { Cookie: cookie } })).text());
    const post = (path: string, fields: Record<string, string>) =>
      ctx.app.request(path, {
        method: 'POST',
        headers: { ...FORM, Cookie: cookie },
        body: form({ _csrf: csrf, ...fields }),
      });
    return { cookie, post };
  };
  const oauthFields = {
    template: 'generic-scim',
    url: 'https://crm.example/scim/v2',
    auth: 'oauth2',
    tokenUrl: 'https://login.crm.example/oauth2/token',
    clientId: 'ferry-client',
  };

  it('creates an app with OAuth client credentials from the wizard; the secret is never shown again', async () => {
    const { cookie, post } = await signedIn();
    const res = await post('/console/new', { ...oauthFields, name: 'CRM over OAuth', clientSecret: SECRET });
    expect(res.status).toBe(303);
    const id = decodeURIComponent(/\/console\/new\/([^/?]+)/.exec(res.headers.get('Location') ?? '')?.[1] ?? '');
    const app = await read(await ctx.app.request(`/api/v1/apps/${id}`, send('GET')));
    expect(app.target).toMatchObject({
      auth: 'oauth2',
      hasClientSecret: true,
      oauth: { tokenUrl: oauthFields.tokenUrl, clientId: 'ferry-client' },
    });
    const page = await (await ctx.app.request(`/console/apps/${id}`, { headers: { Cookie: cookie } })).text();
    expect(page).toContain('value="ferry-client"');
    expect(page).not.toContain(SECRET);
  });

  it('refuses an OAuth app without its secret, naming the field, and creates nothing', async () => {
    const { post } = await signedIn();
    const res = await post('/console/new', { ...oauthFields, name: 'CRM without a secret' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Client secret: required for OAuth');
    const apps = await read(await ctx.app.request('/api/v1/apps?limit=500', send('GET')));
    expect(apps.items.map((a: { name: string }) => a.name)).not.toContain('CRM without a secret');
  });

  it('switches a bearer app to OAuth and back in its settings, asking for the secret each switch needs', async () => {
    const { post } = await signedIn();
    const id = await createTestApp(ctx.app, 'Switching credentials');
    const settings = (fields: Record<string, string>) =>
      post(`/console/apps/${id}/settings`, { url: 'https://crm.example/scim/v2', ...fields });
    const auth = async () => (await read(await ctx.app.request(`/api/v1/apps/${id}`, send('GET')))).target;

    const noSecret = await settings({ ...oauthFields, authBefore: 'bearer' });
    expect(outcome(noSecret).error).toBe('Client secret: required for OAuth');
    expect((await auth()).auth).toBe('bearer');

    expect(outcome(await settings({ ...oauthFields, authBefore: 'bearer', clientSecret: SECRET })).notice).toBe(
      'Settings saved',
    );
    expect(await auth()).toMatchObject({ auth: 'oauth2', hasClientSecret: true });

    // Saving again with the secret field empty keeps the stored secret.
    expect(outcome(await settings({ ...oauthFields, authBefore: 'oauth2', scope: 'scim' })).notice).toBe(
      'Settings saved',
    );
    expect(await auth()).toMatchObject({ auth: 'oauth2', hasClientSecret: true, oauth: { scope: 'scim' } });

    const noToken = await settings({ auth: 'bearer', authBefore: 'oauth2' });
    expect(outcome(noToken).error).toBe('Bearer token: give the token the target expects');
    expect(
      outcome(await settings({ auth: 'bearer', authBefore: 'oauth2', token: 'tok_back_to_bearer_0123' })).notice,
    ).toBe('Settings saved');
    expect(await auth()).toMatchObject({ auth: 'bearer', hasToken: true });
  });
});

describe('SessionSealer', () => {
  it('opens only its own, unexpired cookies', () => {
    let now = 1_000_000;
    const sealer = new SessionSealer('secret-one', { now: () => now });
    const cookie = sealer.seal('fk_abc');
    expect(sealer.open(cookie)?.apiKey).toBe('fk_abc');
    expect(new SessionSealer('secret-two', { now: () => now }).open(cookie)).toBeNull();
    expect(sealer.open(undefined)).toBeNull();
    expect(sealer.open('v1.garbage')).toBeNull();
    now += SESSION_SECONDS * 1000;
    expect(sealer.open(cookie)).toBeNull();
  });
});
