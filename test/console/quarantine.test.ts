// Quarantining by hand and an object's assigned apps, in Chromium: an admin puts an app in quarantine
// with a reason and reads that reason in its status, then releases it; a reason of only spaces is
// refused on the page; a viewer gets no quarantine form. A user's (and a group's) directory page lists
// the apps it is assigned to, directly or through a nested group, linking to the app page.
import { beforeAll, expect, it } from 'vitest';
import { WAIT, check, consoleSuite, signIn, text } from './harness.ts';

consoleSuite('quarantine by hand and assigned apps in Chromium', (world) => {
  let appId: string;
  const appPage = () => `${world.ferry.url}/console/apps/${appId}`;
  beforeAll(async () => {
    const app = await world.api('POST', '/apps', {
      name: 'Quarantine me',
      template: 'generic-scim',
      target: { url: world.target.baseUrl, token: world.target.token },
    });
    appId = app.id;
    await world.api('POST', `/apps/${appId}/assignments`, { principalId: 'u1' });
    await world.api('POST', `/apps/${appId}/assignments`, { principalId: 'g2', role: 'Reader' });
    await world.api('POST', `/apps/${appId}/provisioning/start`);
  });

  it('quarantines an app with a reason shown in its status, refuses an empty reason, and releases it', async () => {
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, world, world.ferry.apiKey);
    await page.goto(appPage());
    await page.getByRole('heading', { name: 'Quarantine me', level: 1 }).waitFor(WAIT);

    // Spaces pass the browser's `required` but are no reason: an error on the page, nothing sent.
    await page.getByLabel('Reason', { exact: true }).fill('   ');
    await page.getByRole('button', { name: 'Quarantine', exact: true }).click();
    await expect
      .poll(() => page.getByRole('alert').filter({ hasText: 'Not quarantined' }).innerText(), WAIT)
      .toMatch(text('give a reason'));
    expect((await world.api('GET', `/apps/${appId}/provisioning`)).status?.quarantine ?? null).toBeNull();

    await page.getByLabel('Reason', { exact: true }).fill('Target migration until Friday');
    await page.getByRole('button', { name: 'Quarantine', exact: true }).click();
    await expect.poll(() => page.getByRole('status').innerText(), WAIT).toMatch(text('Asked the job to quarantine'));
    await expect.poll(() => page.locator('#status .badge').innerText(), WAIT).toBe('quarantined');
    await expect.poll(() => page.locator('#status').innerText(), WAIT).toMatch(text('Quarantined by hand since'));
    expect(await page.locator('#status').innerText()).toMatch(text('Target migration until Friday'));
    const quarantined = await world.api('GET', `/apps/${appId}/provisioning`);
    expect(quarantined.status.quarantine).toMatchObject({ reason: 'Manual', message: 'Target migration until Friday' });
    await check(page, '40-app-quarantined-by-hand');

    await page.getByRole('button', { name: 'Release quarantine' }).click();
    await expect.poll(() => page.getByRole('status').innerText(), WAIT).toMatch(text('Asked the job to release'));
    await expect.poll(() => page.locator('#status .badge').innerText(), WAIT).not.toBe('quarantined');
    expect(await page.locator('#status').innerText()).not.toMatch(text('Target migration until Friday'));
    expect((await world.api('GET', `/apps/${appId}/provisioning`)).status.quarantine).toBeNull();
    await context.close();
  });

  it('shows a viewer no quarantine form', async () => {
    const context = await world.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await signIn(page, world, world.viewerKey);
    await page.goto(appPage());
    await page.locator('#status').waitFor(WAIT);
    expect(await page.getByRole('button', { name: 'Quarantine', exact: true }).count()).toBe(0);
    expect(await page.getByLabel('Reason', { exact: true }).count()).toBe(0);
    await context.close();
  });

  it("lists a user's assigned apps on its page, directly and through a nested group, linking to the app", async () => {
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, world, world.viewerKey);
    await page.goto(`${world.ferry.url}/console/directory`);
    await page.getByLabel('Name contains').fill('lovelace');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Ada Lovelace' }).click();
    await page.getByRole('heading', { name: 'User Ada Lovelace', level: 1 }).waitFor(WAIT);
    const ada = page.getByRole('table', { name: 'Apps this object is assigned to' });
    expect(await ada.innerText()).toMatch(text('Quarantine me'));
    expect(await ada.innerText()).toMatch(text('directly'));
    await check(page, '41-user-assigned-apps');

    // Barbara Liskov is in Compilers, nested in Engineers, which is assigned.
    await page.goto(`${world.ferry.url}/console/directory/users/u5`);
    const barbara = page.getByRole('table', { name: 'Apps this object is assigned to' });
    await barbara.waitFor(WAIT);
    expect(await barbara.innerText()).toMatch(text('through group Engineers'));
    expect(await barbara.innerText()).toMatch(text('Reader'));
    // The nested group's own page says the same.
    await page.goto(`${world.ferry.url}/console/directory/groups/g3`);
    const compilers = page.getByRole('table', { name: 'Apps this object is assigned to' });
    await compilers.waitFor(WAIT);
    expect(await compilers.innerText()).toMatch(text('through group Engineers'));
    // Ken Thompson is assigned nowhere.
    await page.goto(`${world.ferry.url}/console/directory/users/u6`);
    await page.getByText('Not assigned to any app').waitFor(WAIT);

    await page.goto(`${world.ferry.url}/console/directory/users/u1`);
    await page.getByRole('link', { name: 'Quarantine me' }).click();
    await page.getByRole('heading', { name: 'Quarantine me', level: 1 }).waitFor(WAIT);
    expect(page.url()).toBe(appPage());
    await context.close();
  });
});
