// The app page's "Target capabilities" through the real app (no browser), against the scimmy peer:
// an operator probes with the button and sees the suggested profile and each check; a viewer sees the
// same result but no Probe button.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, read, send, storeApp } from '../api/routes/helpers.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';

let ctx: Awaited<ReturnType<typeof storeApp>>;
let peer: ScimPeer;
let appId: string;
let viewerKey: string;

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const csrfOf = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

async function signIn(key: string): Promise<string> {
  const res = await ctx.app.request('http://ferry.test/console/sign-in', {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({ apiKey: key }).toString(),
  });
  return (res.headers.get('Set-Cookie') ?? '').split(';')[0];
}

const page = async (cookie: string) =>
  (await ctx.app.request(`/console/apps/${appId}`, { headers: { Cookie: cookie } })).text();

beforeAll(async () => {
  ctx = await storeApp({ allowInsecureLoopback: true });
  peer = await startScimmyPeer();
  const created = await ctx.app.request(
    '/api/v1/apps',
    send('POST', {
      name: 'Probed',
      template: 'generic-scim',
      target: { url: peer.baseUrl, token: peer.token },
      settings: { allowInsecureLoopback: true },
    }),
  );
  appId = (await read(created)).id;
  viewerKey = (await read(await ctx.app.request('/api/v1/keys', send('POST', { name: 'auditor', role: 'viewer' }))))
    .key;
});
afterAll(async () => {
  await peer?.close();
  await ctx?.close();
});

describe('console: target capabilities', () => {
  it('an operator probes with writes from the app page and sees the suggestion and the checks', async () => {
    const cookie = await signIn(API_KEY);
    const before = await page(cookie);
    expect(before).toContain('Target capabilities');
    expect(before).toContain('Not probed yet.');
    const res = await ctx.app.request(`/console/apps/${appId}/probe`, {
      method: 'POST',
      headers: { ...FORM, Cookie: cookie },
      body: new URLSearchParams({ _csrf: csrfOf(before), writes: 'true' }).toString(),
    });
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('Location') ?? '/', 'http://x').searchParams.get('notice')).toBe(
      'Probed: suggested profile strict',
    );
    const after = await page(cookie);
    expect(after).toContain('(with writes)');
    expect(after).toMatch(/Suggested profile: <strong>strict<\/strong>/);
    expect(after).toContain('<code>patchValuePath</code>');
    expect(after).not.toContain(peer.token);
    expect((await peer.users()).length).toBe(0);
  });

  it('a viewer sees the result but no Probe button', async () => {
    const html = await page(await signIn(viewerKey));
    expect(html).toMatch(/Suggested profile: <strong>strict<\/strong>/);
    expect(html).not.toContain(`action="/console/apps/${appId}/probe"`);
  });
});
