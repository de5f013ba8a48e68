// Changing the directory from the console, in Chromium: an admin creates a user, edits her, adds her
// to a group (found by name) and sees her among the members, removes her, soft-deletes her after a
// confirmation page and restores her; the API holds each change. A taken userPrincipalName and a
// group nesting cycle show the API's complaint next to the field and change nothing. A viewer gets
// no form. A file imported from the directory page shows its counts, each refused row by its number,
// or the line a broken CSV names; a group is renamed, deleted after confirming and restored; an app's
// assigned user and group link to their directory pages.
import { expect, it } from 'vitest';
import { WAIT, check, consoleSuite, signIn, text } from './harness.ts';

interface User {
  id: string;
  userPrincipalName: string;
  displayName: string | null;
  jobTitle: string | null;
  accountEnabled: boolean;
  deletedDateTime: string | null;
}

consoleSuite('directory changes in Chromium', (world) => {
  const url = (p: string) => `${world.ferry.url}${p}`;
  const memberIds = async (groupId: string): Promise<string[]> =>
    (await world.api('GET', `/directory/groups/${groupId}/members?limit=100`)).items.map(
      (m: { memberId: string }) => m.memberId,
    );

  it('creates a user, edits her, adds her to a group and removes her, then deletes her after confirming', async () => {
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, world, world.ferry.apiKey);
    await page.goto(url('/console/directory'));
    await page.getByRole('link', { name: 'New user' }).click();
    await page.getByRole('heading', { name: 'New user', level: 1 }).waitFor(WAIT);
    await check(page, '50-directory-new-user');

    await page.getByLabel('User principal name').fill('margaret.hamilton@contoso.example');
    await page.getByLabel('Display name').fill('Margaret Hamilton');
    await page.getByLabel('Given name').fill('Margaret');
    await page.getByLabel('Surname').fill('Hamilton');
    await page.getByLabel('E-mail').fill('margaret.hamilton@contoso.example');
    expect(await page.getByLabel('Account enabled').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: 'User Margaret Hamilton', level: 1 }).waitFor(WAIT);
    expect(await page.getByRole('status').innerText()).toMatch(text('Created user Margaret Hamilton'));
    const found = await world.api('GET', '/directory/users?search=margaret.hamilton');
    expect(found.items).toHaveLength(1);
    const created: User = found.items[0];
    expect(created).toMatchObject({
      userPrincipalName: 'margaret.hamilton@contoso.example',
      displayName: 'Margaret Hamilton',
      givenName: 'Margaret',
      surname: 'Hamilton',
      mail: 'margaret.hamilton@contoso.example',
      accountEnabled: true,
      jobTitle: null,
    });
    expect(page.url()).toMatch(text(`/console/directory/users/${created.id}`));

    // The edit form holds her stored values; a change is saved with PATCH and shown again.
    expect(await page.getByLabel('Surname').inputValue()).toBe('Hamilton');
    await page.getByLabel('Job title').fill('Flight software lead');
    await page.getByLabel('Display name').fill('Margaret H. Hamilton');
    await page.getByRole('button', { name: 'Save user' }).click();
    await page.getByRole('heading', { name: 'User Margaret H. Hamilton', level: 1 }).waitFor(WAIT);
    expect(await page.getByRole('status').innerText()).toMatch(text('User saved'));
    expect(await page.getByLabel('Job title').inputValue()).toBe('Flight software lead');
    const edited: User = await world.api('GET', `/directory/users/${created.id}`);
    expect(edited).toMatchObject({ displayName: 'Margaret H. Hamilton', jobTitle: 'Flight software lead' });
    expect(edited.userPrincipalName).toBe('margaret.hamilton@contoso.example');
    await check(page, '51-directory-user-edited');

    // Added to Engineers by (part of) her name, she is among its members; then removed again.
    await page.goto(url('/console/directory/groups/g2'));
    await page.getByLabel('Add a member (user or group name)').fill('Margaret H');
    await page.getByRole('button', { name: 'Add member' }).click();
    await expect
      .poll(() => page.getByRole('status').innerText(), WAIT)
      .toMatch(text('Added user Margaret H. Hamilton'));
    const members = page.getByRole('table', { name: 'Members of Engineers' });
    expect(await members.innerText()).toMatch(text('Margaret H. Hamilton'));
    expect(await memberIds('g2')).toContain(created.id);
    await check(page, '52-directory-group-member-added');

    await page.getByRole('button', { name: 'Remove Margaret H. Hamilton from Engineers' }).click();
    await expect.poll(() => page.getByRole('status').innerText(), WAIT).toMatch(text('Member removed'));
    expect(await members.innerText()).not.toMatch(text('Margaret H. Hamilton'));
    expect(await memberIds('g2')).not.toContain(created.id);
    expect(await memberIds('g2')).toContain('g3');

    // Deleting asks first: the confirmation page changes nothing until its button is pressed.
    await page.goto(url(`/console/directory/users/${created.id}`));
    await page.getByRole('link', { name: 'Delete this user…' }).click();
    await page.getByRole('heading', { name: 'Delete Margaret H. Hamilton?', level: 1 }).waitFor(WAIT);
    await check(page, '53-directory-user-delete-confirm');
    expect((await world.api('GET', `/directory/users/${created.id}`)).deletedDateTime).toBeNull();
    await page.getByRole('button', { name: 'Delete Margaret H. Hamilton' }).click();
    await expect
      .poll(() => page.getByRole('status').innerText(), WAIT)
      .toMatch(text('Deleted: the user is in the recycle bin'));
    const deleted: User = await world.api('GET', `/directory/users/${created.id}`);
    expect(deleted.deletedDateTime).not.toBeNull();
    expect((await world.api('GET', '/directory/users?search=margaret.hamilton')).items).toHaveLength(0);
    expect(await page.getByRole('button', { name: 'Save user' }).count()).toBe(0);
    // From the recycle bin she can be brought back.
    await page.getByRole('button', { name: 'Restore user' }).click();
    await expect.poll(() => page.getByRole('status').innerText(), WAIT).toMatch(text('Restored'));
    expect((await world.api('GET', `/directory/users/${created.id}`)).deletedDateTime).toBeNull();
    await context.close();
  });

  it('shows a taken userPrincipalName next to its field and creates nothing; a nesting cycle likewise', async () => {
    const context = await world.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await signIn(page, world, world.ferry.apiKey);
    await page.goto(url('/console/directory/new/user'));
    await page.getByLabel('User principal name').fill('ada.lovelace@contoso.example');
    await page.getByLabel('Display name').fill('Ada Again');
    await page.getByRole('button', { name: 'Create user' }).click();

    const upn = page.getByLabel('User principal name');
    await expect.poll(() => upn.getAttribute('aria-invalid'), WAIT).toBe('true');
    const describedBy = await upn.getAttribute('aria-describedby');
    expect(await page.locator(`#${describedBy}`).innerText()).toMatch(text('User principal name: taken by user u1'));
    expect(await page.getByRole('alert').innerText()).toMatch(text('Not created'));
    // What was typed is still there to correct; no other field is marked.
    expect(await page.getByLabel('Display name').inputValue()).toBe('Ada Again');
    expect(await page.getByLabel('Display name').getAttribute('aria-invalid')).toBeNull();
    await check(page, '54-directory-upn-taken');
    // The form, with its complaint, fits a phone's width.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow, 'horizontal overflow at 390×844').toBeLessThanOrEqual(0);
    expect((await world.api('GET', '/directory/users?search=Ada Again')).items).toHaveLength(0);
    const ada = (await world.api('GET', '/directory/users?search=ada.lovelace')).items;
    expect(ada.map((u: User) => u.id)).toEqual(['u1']);

    // Compilers is in Engineers: Engineers cannot go into Compilers.
    await page.goto(url('/console/directory/groups/g3'));
    const field = page.getByLabel('Add a member (user or group name)');
    await field.fill('Engineers');
    await page.getByRole('button', { name: 'Add member' }).click();
    await expect.poll(() => field.getAttribute('aria-invalid'), WAIT).toBe('true');
    expect(await page.locator(`#${await field.getAttribute('aria-describedby')}`).innerText()).toMatch(
      text('nesting cycle'),
    );
    expect(await field.inputValue()).toBe('Engineers');
    expect(await memberIds('g3')).not.toContain('g2');
    await context.close();
  });

  it('shows a viewer the directory with no form to change it', async () => {
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, world, world.viewerKey);
    await page.goto(url('/console/directory'));
    await page.getByRole('table', { name: 'Directory users' }).waitFor(WAIT);
    expect(await page.getByRole('link', { name: 'New user' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'New group' }).count()).toBe(0);
    expect(await page.getByLabel('File (CSV or JSON)').count()).toBe(0);

    await page.goto(url('/console/directory/users/u2'));
    await page.getByRole('heading', { name: 'User Alan Turing', level: 1 }).waitFor(WAIT);
    expect(await page.getByRole('textbox').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Save user' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Delete this user…' }).count()).toBe(0);

    await page.goto(url('/console/directory/groups/g1'));
    await page.getByRole('table', { name: 'Members of Sales Team' }).waitFor(WAIT);
    expect(await page.getByRole('textbox').count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Remove/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Save group' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Delete this group…' }).count()).toBe(0);

    await page.goto(url('/console/directory/new/user'));
    expect(await page.getByRole('alert').innerText()).toMatch(text('cannot change the directory'));
    expect(await page.getByRole('textbox').count()).toBe(0);
    await context.close();
  });
  it('imports a directory file, showing the counts, a refused row, or the line of a CSV syntax error', async () => {
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, world, world.ferry.apiKey);
    await page.goto(url('/console/directory'));
    const file = page.getByLabel('File (CSV or JSON)');
    await file.setInputFiles({
      name: 'night.json',
      mimeType: 'application/json',
      buffer: Buffer.from(
        JSON.stringify({
          users: [
            { id: 'n1', userPrincipalName: 'mary.jackson@contoso.example', displayName: 'Mary Jackson' },
            { id: 'n2', userPrincipalName: 'dorothy.vaughan@contoso.example', displayName: 'Dorothy Vaughan' },
          ],
          groups: [{ id: 'ng', displayName: 'Night Shift' }],
          memberships: [{ groupId: 'ng', memberId: 'n1' }],
        }),
      ),
    });
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByRole('heading', { name: 'Directory import', level: 1 }).waitFor(WAIT);
    expect(await page.getByRole('status').innerText()).toMatch(text('Imported night.json'));
    const counts = page.getByRole('table', { name: 'Imported' });
    expect(await counts.getByRole('row', { name: /^users/ }).innerText()).toMatch(/users\s+2\s+2\s+0\s+0/);
    expect(await counts.getByRole('row', { name: /^memberships/ }).innerText()).toMatch(/memberships\s+1\s+1\s+0\s+0/);
    expect((await world.api('GET', '/directory/users/n2')).displayName).toBe('Dorothy Vaughan');
    expect(await memberIds('ng')).toEqual(['n1']);
    await check(page, '55-directory-import-json');

    // A CSV of users: the good row is imported, the bad one listed with its line and field.
    await page.getByLabel('File (CSV or JSON)').setInputFiles({
      name: 'more.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('userPrincipalName,displayName\nannie.easley@contoso.example,Annie Easley\n,No Name\n'),
    });
    await page.getByLabel('A CSV file holds').selectOption('users');
    await page.getByRole('button', { name: 'Import' }).click();
    await expect
      .poll(() => page.getByRole('status').innerText(), WAIT)
      .toMatch(text('Imported more.csv: 1 rows not imported'));
    const refused = page.getByRole('table', { name: 'Rows not imported' });
    expect(await refused.innerText()).toMatch(/users\s+3\s+userPrincipalName/);
    expect((await world.api('GET', '/directory/users?search=annie.easley')).items).toHaveLength(1);
    await check(page, '56-directory-import-row-refused');

    // A broken CSV is refused whole, naming its line; nothing is imported.
    await page.getByLabel('File (CSV or JSON)').setInputFiles({
      name: 'broken.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('userPrincipalName,displayName\nbroken@contoso.example,"Unclosed\n'),
    });
    await page.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => page.getByRole('alert').innerText(), WAIT).toMatch(text('Not imported (broken.csv)'));
    expect(await page.getByRole('alert').innerText()).toMatch(/line \d/);
    expect((await world.api('GET', '/directory/users?search=broken@')).items).toHaveLength(0);
    await context.close();
  });

  it('renames a group, deletes it after confirming and restores it', async () => {
    const context = await world.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await signIn(page, world, world.ferry.apiKey);
    const group = await world.api('POST', '/directory/groups', { displayName: 'Day Shift' });
    await page.goto(url(`/console/directory/groups/${group.id}`));
    await page.getByRole('heading', { name: 'Group Day Shift', level: 1 }).waitFor(WAIT);
    // An emptied name is refused at its field.
    await page.getByLabel('Display name').fill(' ');
    await page.getByRole('button', { name: 'Save group' }).click();
    await expect.poll(() => page.getByLabel('Display name').getAttribute('aria-invalid'), WAIT).toBe('true');
    expect((await world.api('GET', `/directory/groups/${group.id}`)).displayName).toBe('Day Shift');

    await page.getByLabel('Display name').fill('Early Shift');
    await page.getByLabel('Description').fill('Starts at six');
    await page.getByRole('button', { name: 'Save group' }).click();
    await page.getByRole('heading', { name: 'Group Early Shift', level: 1 }).waitFor(WAIT);
    expect(await page.getByRole('status').innerText()).toMatch(text('Group saved'));
    expect(await world.api('GET', `/directory/groups/${group.id}`)).toMatchObject({
      displayName: 'Early Shift',
      description: 'Starts at six',
    });
    await check(page, '57-directory-group-renamed');

    await page.getByRole('link', { name: 'Delete this group…' }).click();
    await page.getByRole('heading', { name: 'Delete Early Shift?', level: 1 }).waitFor(WAIT);
    expect((await world.api('GET', `/directory/groups/${group.id}`)).deletedDateTime).toBeNull();
    await check(page, '58-directory-group-delete-confirm');
    await page.getByRole('button', { name: 'Delete Early Shift' }).click();
    await expect
      .poll(() => page.getByRole('status').innerText(), WAIT)
      .toMatch(text('Deleted: the group is in the recycle bin'));
    expect((await world.api('GET', `/directory/groups/${group.id}`)).deletedDateTime).not.toBeNull();
    expect(await page.getByRole('button', { name: 'Save group' }).count()).toBe(0);
    expect(await page.getByLabel('Add a member (user or group name)').count()).toBe(0);
    await page.getByRole('button', { name: 'Restore group' }).click();
    await expect.poll(() => page.getByRole('status').innerText(), WAIT).toMatch(text('Restored'));
    expect((await world.api('GET', `/directory/groups/${group.id}`)).deletedDateTime).toBeNull();
    await context.close();
  });

  it("links an app's assigned user and group to their directory pages", async () => {
    const app = await world.api('POST', '/apps', {
      name: 'Linked app',
      template: 'generic-scim',
      target: { url: world.target.baseUrl, token: world.target.token },
    });
    await world.api('POST', `/apps/${app.id}/assignments`, { principalId: 'g2' });
    await world.api('POST', `/apps/${app.id}/assignments`, { principalId: 'u2' });
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, world, world.viewerKey);
    await page.goto(url(`/console/apps/${app.id}`));
    const assignments = page.getByRole('region', { name: 'Assignments' });
    await assignments.getByRole('link', { name: 'Engineers' }).click();
    await page.getByRole('heading', { name: 'Group Engineers', level: 1 }).waitFor(WAIT);
    await page.goBack();
    await assignments.getByRole('link', { name: 'Alan Turing' }).click();
    await page.getByRole('heading', { name: 'User Alan Turing', level: 1 }).waitFor(WAIT);
    expect(await page.getByRole('link', { name: 'Linked app' }).count()).toBe(1);
    await context.close();
  });
});
