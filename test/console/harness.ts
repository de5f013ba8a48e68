// What the console's Chromium tests share: Ferry started as `npm start` does (in process: PGlite in
// memory, the in-repo Temporal test service), the dev SCIM target on loopback, a small directory,
// Chromium launched with the developers' flags, and the per-page check (a screenshot into
// test-artifacts/console/, axe-core with no serious or critical violation).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimTarget, type ScimTarget } from '../../dev/scim-target/index.ts';
import { loadEnv } from '../../workers/env.ts';
import { client } from '../../workers/demo.ts';
import { startFerry, type RunningFerry } from '../../workers/start.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'console');
const AXE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const CHROMIUM = process.env.FERRY_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
export const WAIT = { timeout: 60_000 };

export interface ConsoleWorld {
  target: ScimTarget;
  ferry: RunningFerry;
  api: ReturnType<typeof client>;
  browser: Browser;
  viewerKey: string;
}

export function directory() {
  const names = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov', 'Ken Thompson'];
  const users = names.map((name, i) => {
    const [given, surname] = name.split(' ');
    const upn = `${given}.${surname}@contoso.example`.toLowerCase();
    return {
      id: `u${i + 1}`,
      userPrincipalName: upn,
      mail: upn,
      mailNickname: `${given}${surname}`.toLowerCase(),
      displayName: name,
      givenName: given,
      surname,
      department: i % 2 === 0 ? 'Engineering' : 'Sales',
    };
  });
  const groups = [
    { id: 'g1', displayName: 'Sales Team', description: 'Sellers' },
    { id: 'g2', displayName: 'Engineers', description: 'Builders' },
    { id: 'g3', displayName: 'Compilers', description: 'Nested in Engineers' },
  ];
  const memberships = [
    ...users.slice(0, 4).map((u) => ({ groupId: 'g1', memberId: u.id })),
    { groupId: 'g2', memberId: 'g3' },
    { groupId: 'g3', memberId: 'u5' },
  ];
  return { users, groups, memberships };
}

let axeSource: string | undefined;

/** Screenshot into test-artifacts/console/ and assert axe-core finds nothing serious or critical. */
export async function check(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  // The console's CSP (script-src 'self') refuses an injected <script> tag (page.addScriptTag), so
  // axe is evaluated through the DevTools protocol instead, which the page's CSP does not govern.
  axeSource ??= readFileSync(AXE, 'utf8');
  await page.evaluate(axeSource);
  const violations = await page.evaluate<{ id: string; impact: string; targets: unknown[] }[]>(
    'axe.run().then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target) })))',
  );
  expect(
    violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
    `${name}: ${JSON.stringify(violations)}`,
  ).toEqual([]);
}

export async function signIn(page: Page, world: ConsoleWorld, key: string): Promise<void> {
  await page.goto(`${world.ferry.url}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor(WAIT);
}

/** A pattern matching `t` literally (strings), or `t` itself. */
export const text = (t: string | RegExp): RegExp =>
  typeof t === 'string' ? new RegExp(t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : t;

/**
 * A describe block with Ferry, the dev target and Chromium around its tests (`world` is filled
 * before the first test). Without Chromium the block is one failing test saying how to get it.
 */
export function consoleSuite(title: string, tests: (world: ConsoleWorld) => void): void {
  const missing = existsSync(CHROMIUM) ? null : CHROMIUM;
  if (missing) {
    describe(title, () => {
      it('needs Chromium', () => {
        throw new Error(`Chromium is missing at ${missing} (apt-get install -y chromium, or set FERRY_CHROMIUM)`);
      });
    });
    return;
  }
  const world = {} as ConsoleWorld;
  let dataDir: string | undefined;
  describe(title, () => {
    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-console-'));
      world.target = await startScimTarget({ host: '127.0.0.1' });
      const env = loadEnv({
        FERRY_DATA_DIR: dataDir,
        FERRY_ALLOW_INSECURE_LOOPBACK: '1',
        PORT: '0',
        LOG_LEVEL: 'warn',
      });
      world.ferry = await startFerry({
        env,
        inMemoryDatabase: true,
        skipTemporalCli: true,
        logLevel: 'warn',
        print: () => {},
      });
      world.api = client(world.ferry);
      await world.api('POST', '/directory/import', directory());
      world.viewerKey = (await world.api('POST', '/keys', { name: 'auditor', role: 'viewer' })).key;
      world.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });
    afterAll(async () => {
      await world.browser?.close();
      await world.ferry?.close();
      await world.target?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });
    tests(world);
  });
}
