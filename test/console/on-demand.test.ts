// On-demand in Chromium, by keyboard: the person finds a user by name, provisions her, and watches the
// steps appear one by one while the target holds the create (a proxy in front of the dev target lets
// POST /Users through only when the test says so); then the report. A group too large fails, and the
// page shows the failure's code and message. Each state is screenshotted and checked with axe-core.
import { expect, it } from 'vitest';
import { until } from '../support/net.ts';
import { startFaultProxy } from '../support/scim-fault-proxy.ts';
import { WAIT, check, consoleSuite, signIn } from './harness.ts';

consoleSuite('on-demand in Chromium', (world) => {
  it('shows the steps as they complete, then the report; a failure shows its code and message', async () => {
    const proxy = await startFaultProxy({
      target: world.target.baseUrl,
      faultRate: 0,
      seed: 1,
      faults: [],
      hold: ({ method, url }) => method === 'POST' && url.endsWith('/Users'),
    });
    try {
      const app = await world.api('POST', '/apps', {
        name: 'Held target',
        template: 'generic-scim',
        target: { url: proxy.baseUrl, token: world.target.token },
        settings: { scope: 'assigned', pushChanges: false },
      });
      const appId: string = app.id;
      // A running job that runs no cycle meanwhile (its empty initial cycle, then paused): the only
      // create the target sees is on-demand's.
      const status = async () => (await world.api('GET', `/apps/${appId}/provisioning`)).status;
      await world.api('POST', `/apps/${appId}/provisioning/start`);
      await until(async () => (await status())?.lastCycle != null, 'the initial cycle', { timeoutMs: 60_000 });
      await world.api('POST', `/apps/${appId}/provisioning/pause`);
      await until(async () => (await status())?.state === 'paused', 'paused', { timeoutMs: 60_000 });
      await world.api('POST', `/apps/${appId}/assignments`, { principalId: 'u1' });
      await world.api('POST', '/directory/groups', { id: 'g-all', displayName: 'Everyone' });
      for (const memberId of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']) {
        await world.api('POST', '/directory/groups/g-all/members', { memberId });
      }

      const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await signIn(page, world, world.ferry.apiKey);
      await page.goto(`${world.ferry.url}/console/apps/${appId}/on-demand`);

      // By keyboard: type the name, Enter, then Enter on the found person's button.
      await page.getByLabel('Find a user or group by name').focus();
      await page.keyboard.type('Ada');
      await page.keyboard.press('Enter');
      const provision = page.getByRole('button', { name: 'Provision Ada Lovelace' });
      await provision.waitFor(WAIT);
      await provision.focus();
      await page.keyboard.press('Enter');

      // The steps before the create appear while it is held; no report yet.
      await page.getByRole('heading', { name: 'user u1: running' }).waitFor(WAIT);
      const steps = page.locator('#od-progress ol.steps > li > strong');
      await expect.poll(() => steps.allInnerTexts(), WAIT).toContain('processing');
      expect(await steps.allInnerTexts()).toEqual(['testConnection', 'import', 'scoping', 'matching', 'processing']);
      expect(proxy.held).toBe(1);
      await check(page, '40-on-demand-running');

      // Released: the export appears and the report replaces the running block.
      proxy.release();
      await page.getByRole('heading', { name: /user u1: Create/ }).waitFor(WAIT);
      expect(await steps.allInnerTexts()).toEqual(
        expect.arrayContaining(['testConnection', 'import', 'scoping', 'matching', 'action']),
      );
      expect(await page.locator('#od-progress').getAttribute('hx-get')).toBeNull();
      expect(world.target.users().some((u) => u.userName === 'ada.lovelace@contoso.example')).toBe(true);
      await check(page, '41-on-demand-report');

      // A group above the on-demand limit: the failure, with its code and message.
      await page.goto(`${world.ferry.url}/console/apps/${appId}/on-demand?search=Everyone`);
      await page.getByRole('button', { name: 'Provision Everyone' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor(WAIT);
      expect(await alert.innerText()).toMatch(/too_many_members: .*6 users/);
      await check(page, '42-on-demand-failed');
      await context.close();
    } finally {
      proxy.release();
      await proxy.close();
    }
  });
});
