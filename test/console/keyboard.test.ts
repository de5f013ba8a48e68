// The console with the keyboard only, in Chromium: an admin who does not use a mouse signs in,
// creates an app in the wizard, tests the connection, assigns a group, starts it, sees the first
// cycle succeed, then pauses and resumes, reaching every control with Tab and working it with
// Enter, Space or typing. A control Tab never reaches fails the test with its name.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { WAIT, consoleSuite, text } from './harness.ts';

const CYCLE_WAIT = { timeout: 180_000 };
/** More Tab presses than any console page has focusable controls before its last action. */
const MAX_TABS = 80;

/** The accessible name (label text, or the element's own text) of the focused element. */
const FOCUSED = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return '';
  const byLabel = el.id ? document.querySelector('label[for="' + CSS.escape(el.id) + '"]') : null;
  return ((byLabel && byLabel.textContent) || el.getAttribute('aria-label') || el.textContent || el.value || '').trim();
})()`;

/** Presses Tab until the focused control is named `name` (or passes the test); fails when none is. */
async function tabTo(page: Page, name: string | (() => Promise<boolean>)): Promise<void> {
  const wanted = typeof name === 'string' ? async () => (await page.evaluate<string>(FOCUSED)) === name : name;
  for (let n = 0; n < MAX_TABS; n++) {
    await page.keyboard.press('Tab');
    if (await wanted()) return;
  }
  throw new Error(`“${String(name)}” is not reachable with Tab on ${page.url()}`);
}

/** Tab to a text field and type into it. */
async function typeInto(page: Page, name: string, value: string): Promise<void> {
  await tabTo(page, name);
  await page.keyboard.type(value);
}

/** Tab to a button or link and press Enter, waiting for the page it opens. */
async function press(page: Page, name: string): Promise<void> {
  await tabTo(page, name);
  await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
}

consoleSuite('the console with the keyboard only', (world) => {
  it('takes an admin from sign-in to a first sync, then pause and resume, without a mouse', async () => {
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();

    await page.goto(`${world.ferry.url}/`);
    await typeInto(page, 'API key', world.ferry.apiKey);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor(WAIT);

    await press(page, 'New app');
    await page.getByRole('heading', { name: 'New app', level: 1 }).waitFor(WAIT);
    // The template radios are one Tab stop (the checked one); the arrow keys move the choice.
    await tabTo(page, async () => (await page.evaluate<string | null>('document.activeElement.name')) === 'template');
    for (let n = 0; n < 10 && !(await page.getByLabel('GroupTalk').isChecked()); n++) {
      await page.keyboard.press('ArrowDown');
    }
    expect(await page.getByLabel('GroupTalk').isChecked()).toBe(true);
    await typeInto(page, 'App name', 'Keyboard app');
    await typeInto(page, 'Target SCIM URL', world.target.baseUrl);
    await typeInto(page, 'Bearer token', world.target.token);
    await press(page, 'Create app');
    await page.getByRole('heading', { name: 'Set up Keyboard app' }).waitFor(WAIT);

    await press(page, 'Test connection');
    await expect
      .poll(() => page.getByRole('status').innerText(), WAIT)
      .toMatch(text('the target answers as a SCIM service'));
    await typeInto(page, 'Assign a group or user (name)', 'Sales Team');
    await press(page, 'Assign');
    await expect.poll(() => page.getByRole('status').innerText(), WAIT).toMatch(text('Assigned group Sales Team'));
    await press(page, 'Start provisioning');

    await page.getByRole('heading', { name: 'Keyboard app', level: 1 }).waitFor(WAIT);
    await expect
      .poll(() => page.locator('#status').innerText(), CYCLE_WAIT)
      .toMatch(text(/Last cycle #1 \(initial\) succeeded/));

    await press(page, 'Pause');
    await expect.poll(() => page.locator('#status .badge').innerText(), WAIT).toBe('paused');
    await press(page, 'Resume');
    await expect.poll(() => page.locator('#status .badge').innerText(), WAIT).toBe('steady');

    await press(page, 'Sign out');
    await page.getByLabel('API key').waitFor(WAIT);
    await context.close();
  });
});
