// The admin pages in Chromium: API keys (created with a role, shown once, listed, revoked — the
// revoked key no longer signs in), the audit log saying who did it, the logs' time-range filter,
// and deleting an app (its name typed to confirm, its logs kept for their retention period). A
// viewer sees no key or audit page and no delete button. An app's settings form shows SCIM Bulk
// (off by default, explained in a line) and saves it both ways, leaving the other settings as they
// were. Screenshots and axe-core as in the journey.
import { expect, it } from 'vitest';
import { WAIT, check, consoleSuite, signIn, text } from './harness.ts';

consoleSuite('the admin pages in Chromium', (world) => {
  it("shows an app's SCIM Bulk setting and saves it ticked and unticked", async () => {
    const app = await world.api('POST', '/apps', {
      name: 'Bulk toggle',
      template: 'generic-scim',
      target: { url: world.target.baseUrl, token: world.target.token },
      settings: { cycleIntervalMinutes: 17 },
    });
    expect(app.settings).toMatchObject({ bulk: false, cycleIntervalMinutes: 17 });
    const settings = async () => (await world.api('GET', `/apps/${app.id}`)).settings;
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, world, world.ferry.apiKey);
    await page.goto(`${world.ferry.url}/console/apps/${app.id}`);
    const bulk = page.getByRole('checkbox', { name: 'SCIM Bulk' });
    await bulk.waitFor(WAIT);
    expect(await bulk.isChecked()).toBe(false);
    expect(await bulk.getAttribute('aria-describedby')).toBe('s-bulk-hint');
    expect(await page.locator('#s-bulk-hint').innerText()).toMatch(text('/Bulk requests'));
    await check(page, '35-app-settings-bulk');

    await bulk.check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.getByRole('status').first().innerText(), WAIT).toMatch(text('Settings saved'));
    expect(await settings()).toMatchObject({ bulk: true, cycleIntervalMinutes: 17 });
    expect(await page.getByRole('checkbox', { name: 'SCIM Bulk' }).isChecked()).toBe(true);

    await page.getByRole('checkbox', { name: 'SCIM Bulk' }).uncheck();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(async () => (await settings()).bulk, WAIT).toBe(false);
    expect(await settings()).toMatchObject({ cycleIntervalMinutes: 17 });
    expect(await page.getByRole('checkbox', { name: 'SCIM Bulk' }).isChecked()).toBe(false);
    await context.close();
  });

  it('creates a key shown once, revokes it, and reads who did it in the audit log', async () => {
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, world, world.ferry.apiKey);
    await page.getByRole('link', { name: 'Keys', exact: true }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor(WAIT);
    await page.getByLabel('Key name').fill('Helpdesk');
    await page.getByLabel('Role').selectOption('operator');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('heading', { name: 'New key Helpdesk' }).waitFor(WAIT);
    const key = (await page.locator('#new-key').innerText()).trim();
    await check(page, '30-keys-created');
    const me = await fetch(`${world.ferry.url}/api/v1/me`, { headers: { Authorization: `Bearer ${key}` } });
    expect(((await me.json()) as { role: string }).role).toBe('operator');

    // Shown once: the list has its name and prefix, never the key.
    await page.goto(`${world.ferry.url}/console/keys`);
    const row = page.getByRole('row', { name: /Helpdesk/ });
    expect(await row.innerText()).toMatch(text('operator'));
    expect(await page.content()).not.toContain(key);
    await page.getByRole('button', { name: 'Revoke Helpdesk' }).click();
    await expect.poll(() => page.getByRole('status').first().innerText(), WAIT).toMatch(text('Key revoked'));
    expect(await page.getByRole('row', { name: /Helpdesk/ }).innerText()).toMatch(text('revoked'));
    const after = await fetch(`${world.ferry.url}/api/v1/me`, { headers: { Authorization: `Bearer ${key}` } });
    expect(after.status).toBe(401);

    // The audit log names the key that created and revoked it.
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByLabel('Action').fill('key.create,key.revoke');
    await page.getByRole('button', { name: 'Filter' }).click();
    const entries = page.getByRole('table');
    await expect.poll(() => entries.innerText(), WAIT).toMatch(text('key.revoke'));
    expect(await entries.innerText()).toMatch(text('key.create'));
    expect(await entries.innerText()).toMatch(text('(admin)'));
    await check(page, '31-audit');
    await context.close();

    // A viewer has no key or audit page, and the pages say so without a button.
    const viewer = await world.browser.newContext({ viewport: { width: 390, height: 844 } });
    const viewerPage = await viewer.newPage();
    await signIn(viewerPage, world, world.viewerKey);
    expect(await viewerPage.getByRole('link', { name: 'Keys', exact: true }).count()).toBe(0);
    expect(await viewerPage.getByRole('link', { name: 'Audit', exact: true }).count()).toBe(0);
    await viewerPage.goto(`${world.ferry.url}/console/keys`);
    await viewerPage.getByText("Your key's role cannot manage keys").waitFor(WAIT);
    expect(await viewerPage.getByRole('button', { name: 'Create key' }).count()).toBe(0);
    await viewerPage.goto(`${world.ferry.url}/console/audit`);
    await viewerPage.getByText("Your key's role cannot read the audit log").waitFor(WAIT);
    await check(viewerPage, '32-audit-viewer');
    await viewer.close();
  });

  it('filters logs by time range and deletes an app after its name is typed, keeping its logs', async () => {
    const app = await world.api('POST', '/apps', {
      name: 'Short lived',
      template: 'generic-scim',
      target: { url: world.target.baseUrl, token: world.target.token },
    });
    const appId: string = app.id;
    // On demand needs a running job; one on-demand provisioning writes a log entry now.
    await world.api('POST', `/apps/${appId}/provisioning/start`);
    await world.api('POST', `/apps/${appId}/provision-on-demand`, { objectId: 'u1' });
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, world, world.ferry.apiKey);

    const logs = `${world.ferry.url}/console/apps/${appId}/logs`;
    const hourAgo = new Date(Date.now() - 3600_000).toISOString().slice(0, 16);
    const hourAhead = new Date(Date.now() + 3600_000).toISOString().slice(0, 16);
    await page.goto(logs);
    await page.getByLabel('From (UTC)').fill(hourAgo);
    await page.getByLabel('Until (UTC)').fill(hourAhead);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('details.entry').filter({ hasText: 'Ada Lovelace' }).first().waitFor(WAIT);
    await check(page, '33-logs-time-range');
    // A range that ended an hour ago holds nothing.
    await page.getByLabel('From (UTC)').fill(new Date(Date.now() - 7200_000).toISOString().slice(0, 16));
    await page.getByLabel('Until (UTC)').fill(hourAgo);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No entry matches.').waitFor(WAIT);
    // Until before from: the API's complaint, naming the field.
    await page.getByLabel('From (UTC)').fill(hourAhead);
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.getByRole('alert').innerText(), WAIT).toMatch(text('until: must be after since'));

    // Deleting: a wrong name deletes nothing; the right one does, and the logs stay readable.
    await page.goto(`${world.ferry.url}/console/apps/${appId}`);
    await page.getByLabel("Type the app's name to confirm").fill('Short');
    await page.getByRole('button', { name: 'Delete app' }).click();
    await expect.poll(() => page.getByRole('alert').first().innerText(), WAIT).toMatch(text('Not deleted'));
    expect((await world.api('GET', `/apps/${appId}`)).id).toBe(appId);
    await page.getByLabel("Type the app's name to confirm").fill('Short lived');
    await page.getByRole('button', { name: 'Delete app' }).click();
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor(WAIT);
    expect(await page.getByRole('status').first().innerText()).toMatch(text('Deleted Short lived (its logs kept for'));
    await check(page, '34-app-deleted');
    const gone = await fetch(`${world.ferry.url}/api/v1/apps/${appId}`, {
      headers: { Authorization: `Bearer ${world.ferry.apiKey}` },
    });
    expect(gone.status).toBe(404);
    expect((await world.api('GET', `/apps/${appId}/logs`)).items.length).toBeGreaterThan(0);
    await context.close();
  });
});
