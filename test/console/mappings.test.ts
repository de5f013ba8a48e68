// The mapping and scoping-filter editor in Chromium: the live "in scope" count follows a draft
// filter before it is saved, saving PATCHes the app through the API, a mapping added in the table
// reaches the app, a bad expression is refused naming its field, and a viewer reads without
// buttons. Screenshots and axe-core as in the journey.
import { expect, it } from 'vitest';
import { WAIT, check, consoleSuite, signIn, text } from './harness.ts';

consoleSuite('the mapping and scope editor in Chromium', (world) => {
  it('counts a draft scoping filter live, saves it, and adds a mapping', async () => {
    const app = await world.api('POST', '/apps', {
      name: 'Scoped',
      template: 'generic-scim',
      target: { url: world.target.baseUrl, token: world.target.token },
    });
    const appId: string = app.id;
    const before = app.mappings.user as unknown[];
    await world.api('POST', `/apps/${appId}/assignments`, { principalId: 'g1' });

    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, world, world.ferry.apiKey);
    await page.goto(`${world.ferry.url}/console/apps/${appId}`);
    await page.getByRole('link', { name: 'Mappings and scope' }).click();
    await page.getByRole('heading', { name: 'Mappings and scope · Scoped', level: 1 }).waitFor(WAIT);
    const count = page.locator('#scope-count');
    // Sales Team (u1–u4) is assigned: 4 of the 6 active users.
    await expect.poll(() => count.innerText(), WAIT).toMatch(text('4 of 6 active users in scope'));
    await check(page, '20-mappings-and-scope');

    // A draft filter: department EQUALS Sales. The count follows before anything is saved.
    await page.getByLabel('Filter 1, clause 1: attribute').fill('department');
    await page.getByLabel('Filter 1, clause 1: operator').selectOption('EQUALS');
    await page.getByLabel('Filter 1, clause 1: value').fill('Sales');
    await expect.poll(() => count.innerText(), WAIT).toMatch(text('2 of 6 active users in scope'));
    expect(await count.innerText()).toMatch(text('3 pass the filters alone'));
    expect((await world.api('GET', `/apps/${appId}`)).scopingFilters.user).toEqual([]);
    await page.getByLabel('Every user and group in the directory').check();
    await expect.poll(() => count.innerText(), WAIT).toMatch(text('3 of 6 active users in scope'));
    await page.getByLabel('Only assigned users and groups').check();
    await expect.poll(() => count.innerText(), WAIT).toMatch(text('2 of 6 active users in scope'));

    await page.getByRole('button', { name: 'Save scope' }).click();
    await expect.poll(() => page.getByRole('status').first().innerText(), WAIT).toMatch(text('Scope of users saved'));
    const saved = await world.api('GET', `/apps/${appId}`);
    expect(saved.scopingFilters.user).toEqual([
      { title: '', clauses: [{ attribute: 'department', operator: 'EQUALS', value: 'Sales' }] },
    ]);
    expect(saved.settings.scope).toBe('assigned');
    // The saved filter is shown, and counted, after the reload.
    expect(await page.getByLabel('Filter 1, clause 1: value').inputValue()).toBe('Sales');
    await expect.poll(() => count.innerText(), WAIT).toMatch(text('2 of 6 active users in scope'));

    // A new expression mapping in the blank row; the others come back as they were.
    const row = before.length + 1;
    await page.getByLabel(`Mapping ${row}: kind`).selectOption('expression');
    await page.getByLabel(`Mapping ${row}: source`).fill('Join(" ", [givenName], [surname])');
    await page.getByLabel(`Mapping ${row}: target attribute`).fill('nickName');
    await page.getByLabel(`Mapping ${row}: apply`).selectOption('create');
    await page.getByRole('button', { name: 'Save mappings' }).click();
    await expect
      .poll(() => page.getByRole('status').first().innerText(), WAIT)
      .toMatch(text('Mappings of users saved'));
    const mapped = (await world.api('GET', `/apps/${appId}`)).mappings.user as Record<string, unknown>[];
    expect(mapped.slice(0, before.length)).toEqual(before);
    expect(mapped[before.length]).toMatchObject({
      type: 'expression',
      target: 'nickName',
      expression: 'Join(" ", [givenName], [surname])',
      apply: 'create',
    });

    // A broken expression is refused by the API, naming the field; nothing is saved.
    await page.getByLabel(`Mapping ${row}: source`).fill('Join(" ", [givenName]');
    await page.getByRole('button', { name: 'Save mappings' }).click();
    await expect
      .poll(() => page.getByRole('alert').innerText(), WAIT)
      .toMatch(text(`mappings.user[${before.length}].expression`));
    await check(page, '21-mappings-error');
    expect(((await world.api('GET', `/apps/${appId}`)).mappings.user as unknown[]).length).toBe(before.length + 1);
    await context.close();

    // A viewer reads the table and the count, with no field to change and no button.
    const viewer = await world.browser.newContext({ viewport: { width: 390, height: 844 } });
    const viewerPage = await viewer.newPage();
    await signIn(viewerPage, world, world.viewerKey);
    await viewerPage.goto(`${world.ferry.url}/console/apps/${appId}/mappings/user`);
    await expect
      .poll(() => viewerPage.locator('#scope-count').innerText(), WAIT)
      .toMatch(text('2 of 6 active users in scope'));
    for (const name of ['Save scope', 'Save mappings']) {
      expect(await viewerPage.getByRole('button', { name }).count()).toBe(0);
    }
    expect(await viewerPage.getByLabel('Filter 1, clause 1: value').isDisabled()).toBe(true);
    await check(viewerPage, '22-mappings-viewer');
    await viewer.close();
  });
});
