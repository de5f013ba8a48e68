// Sources in the console, in Chromium: an admin creates a csv source that takes uploads, uploads an
// HR export from the source's page, watches the import appear in its history and finds the people
// in the directory; a bad export is refused with the line it names and imports nothing; pause,
// resume and delete (after a confirmation page) change the source as the API shows. An ldap source's
// bind password is write-only (never in a page, not even a refused form's); a scim source's token is
// shown once. A viewer sees the sources and no button or form. A quarantined source's page says why
// (its last error) and what to do, and its Release quarantine button takes it out (POST …/resume);
// a viewer reads the reason but gets no button. An import Temporal retried is one run counting its attempts.
import { expect, it } from 'vitest';
import { WAIT, check, consoleSuite, signIn, text } from './harness.ts';

interface Source {
  id: string;
  name: string;
  type: string;
  enabled: boolean;
  config: Record<string, unknown>;
  hasBindPassword: boolean;
}

const EXPORT = [
  'employee,email,name,active',
  'e1001,hedy.lamarr@contoso.example,Hedy Lamarr,true',
  'e1002,katherine.johnson@contoso.example,Katherine Johnson,true',
].join('\n');

consoleSuite('sources in Chromium', (world) => {
  const url = (p: string) => `${world.ferry.url}${p}`;
  const sources = async (): Promise<Source[]> => (await world.api('GET', '/sources')).items;

  it('creates a csv source, uploads an export, shows the import and the people in the directory', async () => {
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, world, world.ferry.apiKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sources' }).click();
    await page.getByRole('heading', { name: 'Sources', level: 1 }).waitFor(WAIT);
    await page.getByRole('link', { name: 'New source' }).click();
    await page.getByRole('heading', { name: 'New source', level: 1 }).waitFor(WAIT);
    // csv is the default type, taking uploads.
    expect(await page.getByLabel('Uploaded (from this console or POST …/snapshots)').isChecked()).toBe(true);
    await page.getByLabel('Name', { exact: true }).fill('HR export');
    await page.getByLabel('Column of the stable id (default id)').fill('employee');
    await page.getByLabel('Column of the user principal name (default userPrincipalName)').fill('email');
    await page
      .getByLabel('Other columns (attribute=column, one a line)')
      .fill('displayName=name\naccountEnabled=active');
    await check(page, '70-sources-new-csv');
    await page.getByRole('button', { name: 'Create source' }).click();
    await page.getByRole('heading', { name: 'Source HR export', level: 1 }).waitFor(WAIT);
    expect(await page.getByRole('status').innerText()).toMatch(text('Created source HR export'));
    const [created] = (await sources()).filter((s) => s.name === 'HR export');
    expect(created).toMatchObject({
      type: 'csv',
      enabled: true,
      config: {
        origin: 'upload',
        columns: { id: 'employee', userPrincipalName: 'email', displayName: 'name', accountEnabled: 'active' },
      },
    });
    expect(page.url()).toMatch(text(`/console/sources/${created.id}`));

    // A row without its user principal name: refused with its line, nothing kept or imported.
    await page.getByLabel('HR export (CSV, or a JSON array of rows)').setInputFiles({
      name: 'bad.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`${EXPORT}\ne1003,,Nobody,true\n`),
    });
    await page.getByRole('button', { name: 'Upload and import' }).click();
    await expect.poll(() => page.getByRole('alert').innerText(), WAIT).toMatch(text('Not uploaded (bad.csv)'));
    expect(await page.getByRole('alert').innerText()).toMatch(text('line 4'));
    expect((await world.api('GET', `/sources/${created.id}/snapshots`)).items).toEqual([]);

    await page.getByLabel('HR export (CSV, or a JSON array of rows)').setInputFiles({
      name: 'people.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(EXPORT),
    });
    await page.getByRole('button', { name: 'Upload and import' }).click();
    await expect
      .poll(() => page.getByRole('status').innerText(), WAIT)
      .toMatch(text('Uploaded people.csv: 2 people; import requested'));
    // The history refreshes itself: the import shows up, succeeded, with its counts.
    const runs = page.getByRole('table', { name: 'Imports, newest first' });
    await expect.poll(() => runs.innerText().catch(() => ''), WAIT).toMatch(/succeeded\s+full/);
    expect(await runs.locator('tbody tr').first().locator('td').nth(5).innerText()).toBe('2');
    await check(page, '71-sources-csv-imported');

    // The list shows its state and last import; the directory holds the people.
    await page.goto(url('/console/sources'));
    const row = page.getByRole('row').filter({ hasText: 'HR export' });
    expect(await row.innerText()).toMatch(text('running'));
    expect(await row.innerText()).toMatch(text('succeeded (full): 2 created'));
    await check(page, '72-sources-list');
    await page.goto(url('/console/directory?search=Hedy'));
    await page.getByRole('link', { name: 'Hedy Lamarr' }).click();
    await page.getByRole('heading', { name: 'User Hedy Lamarr', level: 1 }).waitFor(WAIT);
    expect(await page.locator('main').innerText()).toMatch(text('hedy.lamarr@contoso.example'));

    // Pause and resume flip enabled; delete asks first, and the people stay.
    await page.goto(url(`/console/sources/${created.id}`));
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.getByRole('status').innerText(), WAIT).toMatch(text('Paused'));
    expect(await page.locator('main .badge').first().innerText()).toBe('paused');
    expect((await world.api('GET', `/sources/${created.id}`)).enabled).toBe(false);
    expect(await page.getByRole('button', { name: 'Sync now' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.getByRole('status').innerText(), WAIT).toMatch(text('Resumed'));
    expect((await world.api('GET', `/sources/${created.id}`)).enabled).toBe(true);
    await page.getByRole('button', { name: 'Sync now' }).click();
    await expect.poll(() => page.getByRole('status').innerText(), WAIT).toMatch(text('Import requested'));

    await page.getByRole('link', { name: 'Delete this source…' }).click();
    await page.getByRole('heading', { name: 'Delete HR export?', level: 1 }).waitFor(WAIT);
    expect((await sources()).map((s) => s.id)).toContain(created.id);
    await page.getByRole('button', { name: 'Delete HR export' }).click();
    await page.getByRole('heading', { name: 'Sources', level: 1 }).waitFor(WAIT);
    expect(await page.getByRole('status').innerText()).toMatch(text('Source deleted'));
    expect((await sources()).map((s) => s.id)).not.toContain(created.id);
    expect((await world.api('GET', '/directory/users?search=hedy.lamarr')).items).toHaveLength(1);
    await context.close();
  });

  it('never shows an ldap bind password, not even in a refused form; shows a scim token once', async () => {
    const context = await world.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await signIn(page, world, world.ferry.apiKey);
    const secret = 'Bind-Secret-4711';
    await page.goto(url('/console/sources/new?type=ldap'));
    await page.getByLabel('Name', { exact: true }).fill('Head office');
    await page.getByLabel('Server URL (ldap:// or ldaps://)').fill('http://dc1.corp.example');
    await page.getByLabel('Bind DN').fill('cn=reader,dc=corp,dc=example');
    await page.getByLabel('Bind password (write-only: never shown again)').fill(secret);
    await page.getByLabel('Base DN').fill('dc=corp,dc=example');
    await page.getByRole('button', { name: 'Create source' }).click();
    const urlField = page.getByLabel('Server URL (ldap:// or ldaps://)');
    await expect.poll(() => urlField.getAttribute('aria-invalid'), WAIT).toBe('true');
    expect(await page.getByRole('alert').innerText()).toMatch(text('Not created'));
    expect(await page.getByLabel('Bind DN').inputValue()).toBe('cn=reader,dc=corp,dc=example');
    expect(await page.getByLabel('Bind password (write-only: never shown again)').inputValue()).toBe('');
    expect(await page.content()).not.toContain(secret);
    expect((await sources()).filter((s) => s.name === 'Head office')).toEqual([]);

    await urlField.fill('ldap://127.0.0.1:1');
    await page.getByLabel('Bind password (write-only: never shown again)').fill(secret);
    await page.getByLabel('Profile').selectOption('activeDirectory');
    await page.getByLabel('User filter (optional)').fill('(objectClass=user)');
    await page.getByRole('button', { name: 'Create source' }).click();
    await page.getByRole('heading', { name: 'Source Head office', level: 1 }).waitFor(WAIT);
    expect(await page.content()).not.toContain(secret);
    expect(await page.locator('main').innerText()).toMatch(text('Bind password: set'));
    const [ldap] = (await sources()).filter((s) => s.name === 'Head office');
    expect(ldap).toMatchObject({
      type: 'ldap',
      hasBindPassword: true,
      config: { url: 'ldap://127.0.0.1:1', profile: 'activeDirectory', userFilter: '(objectClass=user)' },
    });
    await check(page, '73-sources-ldap');

    await page.goto(url('/console/sources/new?type=scim'));
    await page.getByLabel('Name', { exact: true }).fill('Okta push');
    await page.getByRole('button', { name: 'Create source' }).click();
    await page.getByRole('heading', { name: 'Source Okta push created', level: 1 }).waitFor(WAIT);
    const token = await page.locator('#scim-token').innerText();
    expect(token).toMatch(/^fst_[A-Za-z0-9_-]{43}$/);
    expect(await page.locator('main').innerText()).toMatch(text(`${world.ferry.url}/scim/v2`));
    await check(page, '74-sources-scim-token');
    // The token works, and is never shown again.
    const me = await fetch(`${world.ferry.url}/scim/v2/Users`, { headers: { Authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    await page.getByRole('link', { name: 'Go to the source' }).click();
    await page.getByRole('heading', { name: 'Source Okta push', level: 1 }).waitFor(WAIT);
    expect(await page.content()).not.toContain(token);
    await page.goto(url('/console/sources'));
    expect(await page.content()).not.toContain(token);
    await context.close();
  });

  it('shows why a source is quarantined and releases it; a viewer reads why but gets no button', async () => {
    const created = await world.api('POST', '/sources', { type: 'csv', name: 'Gone export', origin: 'upload' });
    // A quarantine as the source's workflow writes it after a day of failed imports.
    const quarantine = {
      since: '2026-01-02T09:00:00.000Z',
      failingSince: '2026-01-01T09:00:00.000Z',
      failures: 31,
      code: 'Unavailable',
      message: 'The HR share answered 503 Service Unavailable',
    };
    await world.ferry.store.sources.setState(created.id, { quarantine });
    // Its last import, failed after Temporal retried it twice: one run counting 3 attempts.
    const store = world.ferry.store.sources;
    const run = await store.beginRun(created.id, 'full');
    await store.retryRun(run.id, created.id, 'full', 3);
    const zero = { created: 0, updated: 0, deleted: 0, unchanged: 0, stagedDeletions: 0 };
    await store.finishRun(run.id, { status: 'failed', counts: zero, error: quarantine.message });
    expect(await world.api('GET', `/sources/${created.id}`)).toMatchObject({ status: 'quarantined', quarantine });

    const viewerContext = await world.browser.newContext({ viewport: { width: 390, height: 844 } });
    const viewer = await viewerContext.newPage();
    await signIn(viewer, world, world.viewerKey);
    await viewer.goto(url(`/console/sources/${created.id}`));
    await viewer.getByRole('heading', { name: 'Source Gone export', level: 1 }).waitFor(WAIT);
    expect(await viewer.locator('#quarantine').innerText()).toMatch(text(quarantine.message));
    expect(await viewer.getByRole('button', { name: /Release quarantine|Sync now/ }).count()).toBe(0);
    await viewerContext.close();

    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, world, world.ferry.apiKey);
    await page.goto(url(`/console/sources/${created.id}`));
    await page.getByRole('heading', { name: 'Source Gone export', level: 1 }).waitFor(WAIT);
    expect(await page.locator('main .badge').first().innerText()).toBe('quarantined');
    const note = await page.locator('#quarantine').innerText();
    expect(note).toMatch(text('Quarantined since'));
    expect(note).toMatch(text('31 in a row'));
    expect(note).toMatch(text('Last error (Unavailable): The HR share answered 503 Service Unavailable'));
    expect(note).toMatch(text('What to do: fix the cause (the export file or folder'));
    const runRow = page
      .getByRole('table', { name: 'Imports, newest first' })
      .locator('tbody tr')
      .filter({ has: page.getByRole('cell', { name: String(run.id), exact: true }) });
    expect(await runRow.locator('td').last().innerText()).toBe('3');
    await check(page, '76-sources-quarantined');
    await page.getByRole('button', { name: 'Release quarantine' }).click();
    await expect
      .poll(() => page.getByRole('status').innerText(), WAIT)
      .toMatch(text('Released from quarantine: an import was requested'));
    expect(await world.api('GET', `/sources/${created.id}`)).toMatchObject({ status: 'active', quarantine: null });
    expect(await page.locator('#quarantine').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Release quarantine' }).count()).toBe(0);
    expect(await page.locator('main .badge').first().innerText()).toBe('running');
    await context.close();
    await world.api('DELETE', `/sources/${created.id}`);
  });

  it('shows a viewer the sources with no button or form', async () => {
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, world, world.viewerKey);
    await page.goto(url('/console/sources'));
    await page.getByRole('table', { name: 'Sources' }).waitFor(WAIT);
    expect(await page.getByRole('link', { name: 'New source' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Head office' }).click();
    await page.getByRole('heading', { name: 'Source Head office', level: 1 }).waitFor(WAIT);
    expect(await page.getByRole('button', { name: /Sync now|Pause|Resume/ }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Delete this source…' }).count()).toBe(0);
    await check(page, '75-sources-viewer');
    await page.goto(url('/console/sources/new'));
    expect(await page.getByRole('alert').innerText()).toMatch(text('cannot add sources'));
    expect(await page.getByRole('textbox').count()).toBe(0);
    await context.close();
  });
});
