// The Temporal Web UI served by the real server (`temporal server start-dev --ui-port`), in Chromium:
// an operator finds an app's job by the FerryAppId search attribute, opens it, and sees its state
// (search attribute and memo) and its current cycle child. The job runs on a real Worker with the
// recording fake activities, its first cycle held mid-way so the child is running.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { cycleWorkflowId, jobWorkflowId } from '../../workflows/messages.ts';
import { reportMissingRealServer, temporalBackends } from '../support/temporal-backends.ts';
import { startHarness, type Harness } from './harness.ts';

const CHROMIUM = process.env.FERRY_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
const real = temporalBackends.find((b) => b.name === 'real');
const missing = [real ? null : 'a Temporal CLI', existsSync(CHROMIUM) ? null : `Chromium at ${CHROMIUM}`].filter(
  (m): m is string => m !== null,
);

if (missing.length > 0) {
  describe('the Temporal Web UI', () => {
    it('is checked when the real server and Chromium are here', () => {
      reportMissingRealServer(
        `THE TEMPORAL WEB UI IS NOT CHECKED: missing ${missing.join(' and ')} (npm run setup:temporal; apt-get install -y chromium).`,
      );
    });
  });
} else {
  describe('the Temporal Web UI of the real server', () => {
    let h: Harness;
    let browser: Browser;
    beforeAll(async () => {
      h = await startHarness({ backend: real, ui: true });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });
    afterAll(async () => {
      await browser?.close();
      await h?.close();
    });

    /** The visible text of the page once `text` shows (the UI renders after its API calls). */
    async function textOnceShown(page: Page, text: string): Promise<string> {
      await page.getByText(text, { exact: false }).first().waitFor({ state: 'visible', timeout: 30_000 });
      return page.innerText('body');
    }

    it('finds a job by FerryAppId, shows its state and memo, and its running cycle child', async () => {
      const other = await h.startJob();
      const { appId, app } = await h.startJob({ users: 50, groups: 0 }, { batchSize: 10 });
      const gate = h.fakes.gate(appId, 1);
      const page = await browser.newPage();
      try {
        await h.waitForStatus(appId, (s) => s.cycle !== null && s.cycle.total > 0, 'first cycle running', {
          settle: false,
        });
        const jobId = jobWorkflowId(appId);

        // The workflows list, filtered by the visibility query an operator types.
        const query = `FerryAppId="${appId}"`;
        await page.goto(`${h.env.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
        const list = await textOnceShown(page, jobId);
        expect(list).toContain('provisioningJobWorkflow');
        expect(list).not.toContain(jobWorkflowId(other.appId));

        // Opening the job: its state is the FerryJobState search attribute, its app name the memo.
        await page
          .locator(`a[href*="/workflows/${encodeURIComponent(jobId)}/"]`)
          .first()
          .click();
        await textOnceShown(page, 'Relationships');
        await page.getByRole('tab', { name: /Search Attributes/ }).click();
        const attributes = await textOnceShown(page, '"FerryJobState"');
        expect(attributes).toContain('"FerryJobState": "initial"');
        expect(attributes).toContain(`"FerryAppId": "${appId}"`);
        await page.getByRole('tab', { name: /Memo/ }).click();
        const memo = await textOnceShown(page, '"appName"');
        expect(memo).toContain(`"appName": "${app.appName}"`);

        // Its current cycle: a running child workflow, one click away.
        const cycleId = cycleWorkflowId(appId, 1);
        await page.getByRole('tab', { name: /Relationships/ }).click();
        const relationships = await textOnceShown(page, cycleId);
        expect(relationships).toContain('provisioningCycleWorkflow');
        await page
          .locator(`a[href*="/workflows/${encodeURIComponent(cycleId)}/"]`)
          .first()
          .click();
        // The child's own page (not the job's relationships, which name the child too), once rendered.
        await page.waitForURL((url) => url.pathname.includes(`/workflows/${encodeURIComponent(cycleId)}/`), {
          timeout: 30_000,
        });
        await textOnceShown(page, 'provisioningCycleWorkflow');
        const child = await textOnceShown(page, 'Running');
        expect(child).toContain(cycleId);
        expect(child).toContain('provisioningCycleWorkflow');
        expect(child).toContain('Running');
      } finally {
        gate.release();
        await page.close();
        await h.stopJobs();
      }
    });
  });
}
