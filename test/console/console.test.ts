// The operator console in Chromium, the way a new admin meets it: Ferry started as `npm start`
// does (in process: PGlite in memory, the in-repo Temporal test service), the dev SCIM target on
// loopback, a small directory. The journey signs in, creates a GroupTalk app in the wizard, tests
// the connection, assigns a group, starts, watches the first cycle finish, reads a log entry's
// steps, provisions a user on demand, tries an expression, pauses and resumes, and signs out; a viewer sees no action
// buttons, a change without the CSRF token is refused. Every page is screenshotted into
// test-artifacts/console/ and checked with axe-core (no serious or critical violation).
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, expect, it } from 'vitest';
import { ARTIFACTS, WAIT, check, consoleSuite, signIn, text } from './harness.ts';

/** What the report quotes: load times and sizes measured along the way (never asserted). */
const figures: Record<string, string | number> = {};
/** A first cycle on a loaded 2-core machine can take minutes: waited for, never timed. */
const CYCLE_WAIT = { timeout: 180_000 };
const NAVIGATION_MS = "Math.round(performance.getEntriesByType('navigation')[0].duration)";

consoleSuite('the operator console in Chromium', (world) => {
  afterAll(() => {
    if (Object.keys(figures).length > 0) console.log('console figures', JSON.stringify(figures));
  });

  it('takes an admin from sign-in to a first sync, logs, on-demand, pause and resume, and sign-out', async () => {
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();

    // Signed out, / is the sign-in page.
    await page.goto(`${world.ferry.url}/`);
    await page.getByLabel('API key').waitFor(WAIT);
    figures.signInPageLoadMs = await page.evaluate<number>(NAVIGATION_MS);
    await check(page, '01-sign-in');
    await page.getByLabel('API key').fill(world.ferry.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor(WAIT);
    figures.overviewLoadMs = await page.evaluate<number>(NAVIGATION_MS);
    await check(page, '02-overview-empty');

    // The wizard: template, target and token → test connection → assign → start.
    await page.getByRole('link', { name: 'New app', exact: true }).click();
    await page.getByLabel('GroupTalk').check();
    await page.getByLabel('App name').fill('GroupTalk (dev)');
    await page.getByLabel('Target SCIM URL').fill(world.target.baseUrl);
    await page.getByLabel('Bearer token').fill(world.target.token);
    await check(page, '03-wizard-template');
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.getByRole('heading', { name: 'Set up GroupTalk (dev)' }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect
      .poll(() => page.getByRole('status').innerText(), WAIT)
      .toMatch(text('the target answers as a SCIM service'));
    await page.getByLabel('Assign a group or user (name)').fill('Sales Team');
    await page.getByRole('button', { name: 'Assign' }).click();
    await expect.poll(() => page.getByRole('status').innerText(), WAIT).toMatch(text('Assigned group Sales Team'));
    await check(page, '04-wizard-setup');
    await page.getByRole('button', { name: 'Start provisioning' }).click();

    // The app page follows the first cycle until it is done (htmx refreshes the status).
    await page.getByRole('heading', { name: 'GroupTalk (dev)', level: 1 }).waitFor(WAIT);
    const appUrl = page.url().split('?')[0];
    await expect
      .poll(() => page.locator('#status').innerText(), CYCLE_WAIT)
      .toMatch(text(/Last cycle #1 \(initial\) succeeded/));
    await expect.poll(() => page.locator('#status .badge').innerText(), WAIT).toBe('steady');
    // The history chart picks up the finished cycle: one bar of 5 created (4 users and the group).
    await page.locator('#history svg rect.c-created').first().waitFor(WAIT);
    expect(await page.locator('#history svg rect.c-created title').first().textContent()).toBe('#1: 5 created');
    await check(page, '05-app');
    expect(world.target.users().length).toBe(4);

    // The overview shows the app's state and last cycle; it fits at 1280×800 and at 390×844.
    await page.goto(`${world.ferry.url}/`);
    const row = page.getByRole('row', { name: /GroupTalk \(dev\)/ });
    await expect.poll(() => row.innerText(), WAIT).toMatch(text('steady'));
    await expect.poll(() => row.innerText(), WAIT).toMatch(text('#1 succeeded'));
    await check(page, '06-overview');
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 390, height: 844 },
    ]) {
      await page.setViewportSize(viewport);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      await page.screenshot({ path: path.join(ARTIFACTS, `06-overview-${viewport.width}x${viewport.height}.png`) });
      expect(overflow, `horizontal overflow at ${viewport.width}×${viewport.height}`).toBeLessThanOrEqual(0);
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    // A provisioning log entry and its steps.
    await page.goto(appUrl);
    await page.getByRole('link', { name: 'Provisioning logs' }).click();
    await page.getByLabel('Action').selectOption('Create');
    await page.getByRole('button', { name: 'Filter' }).click();
    const entry = page.locator('details.entry').filter({ hasText: 'Ada Lovelace' });
    await entry.locator('summary').click();
    await entry.locator('ol.steps > li').first().waitFor(WAIT);
    const steps = await entry.locator('ol.steps > li > strong').allInnerTexts();
    expect(steps).toEqual(expect.arrayContaining(['import', 'scoping', 'matching', 'export']));
    await expect.poll(() => entry.innerText(), WAIT).toMatch(text('Modified attributes'));
    await check(page, '07-logs');
    const csv = await page.request.get(
      await page
        .getByRole('link', { name: 'Download CSV' })
        .getAttribute('href')
        .then((h) => `${world.ferry.url}${h}`),
    );
    expect(csv.status()).toBe(200);
    expect(await csv.text()).toContain('Ada Lovelace');

    // On demand: a user outside the assigned group is found by name and provisioned (scoped out).
    await page.goto(`${appUrl}/on-demand`);
    await page.getByLabel('Find a user or group by name').fill('Grace');
    await page.getByRole('button', { name: 'Find' }).click();
    await check(page, '08-on-demand-find');
    await page.getByRole('button', { name: 'Provision Grace Hopper' }).click();
    await page.getByRole('heading', { name: /user u3:/ }).waitFor(WAIT);
    expect(await page.locator('ol.steps > li > strong').allInnerTexts()).toEqual(
      expect.arrayContaining(['import', 'scoping']),
    );
    await check(page, '09-on-demand-report');

    // The expression tester: a value for a user found by name, then a syntax error with its position.
    await page.goto(appUrl);
    await page.getByRole('link', { name: 'Expression tester' }).click();
    await page.getByLabel('Expression').fill('Join(".", [givenName], [surname])');
    await page.getByLabel('User or group (name)').fill('Ada Lovelace');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await page.getByRole('heading', { name: 'Result for user Ada Lovelace' }).waitFor(WAIT);
    expect(await page.locator('main pre').first().innerText()).toBe('"Ada.Lovelace"');
    await check(page, '10-expression-value');
    await page.getByLabel('Expression').fill('Join(".", [givenName]');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await page.getByRole('heading', { name: /Syntax error at position \d+/ }).waitFor(WAIT);
    await check(page, '10-expression-error');

    // Pause, then resume.
    await page.goto(appUrl);
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.getByRole('status').innerText(), WAIT).toMatch(text('Asked the job to pause'));
    await expect.poll(() => page.locator('#status .badge').innerText(), WAIT).toBe('paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.locator('#status .badge').innerText(), WAIT).toBe('steady');

    // The directory, searched by name.
    await page.goto(`${world.ferry.url}/console/directory`);
    await page.getByLabel('Name contains').fill('turing');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByRole('table').innerText(), WAIT).toMatch(text('Alan Turing'));
    expect(await page.getByRole('table').innerText()).not.toMatch(text('Ada Lovelace'));
    await check(page, '11-directory');

    // Sign out: back to the sign-in page, and / asks again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor(WAIT);
    await page.goto(`${world.ferry.url}/`);
    await page.getByLabel('API key').waitFor(WAIT);
    await context.close();
  });

  it('shows a viewer no action buttons, and refuses a change without the CSRF token', async () => {
    const app = await world.api('POST', '/apps', {
      name: 'Viewer sees',
      template: 'generic-scim',
      target: { url: world.target.baseUrl, token: world.target.token },
    });
    const appId: string = app.id;
    await world.api('POST', `/apps/${appId}/provisioning/start`);
    const context = await world.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await signIn(page, world, world.viewerKey);
    await page.goto(`${world.ferry.url}/console/apps/${appId}`);
    await page.locator('#status').waitFor(WAIT);
    await check(page, '12-app-viewer');
    for (const name of ['Start', 'Pause', 'Resume', 'Run a cycle now', 'Restart', 'Test connection', 'Save settings']) {
      expect(await page.getByRole('button', { name, exact: true }).count()).toBe(0);
    }
    expect(await page.getByRole('link', { name: 'New app' }).count()).toBe(0);

    // The browser's cookie, but no token: refused, and the job is not paused.
    const res = await page.request.post(`${world.ferry.url}/console/apps/${appId}/actions/pause`, { form: { x: '1' } });
    expect(res.status()).toBe(403);
    const status = await world.api('GET', `/apps/${appId}/provisioning`);
    expect(status.status.state).not.toBe('paused');

    const js = await fetch(`${world.ferry.url}/console/static/htmx.min.js`);
    figures.clientJsGzipBytes = gzipSync(Buffer.from(await js.arrayBuffer()), { level: 9 }).byteLength;
    await context.close();
  });
});
