// `npm run demo`: Ferry end to end on this machine in a couple of minutes. Starts everything as
// `npm start` does (in-memory database unless DATABASE_URL) plus the fast loopback SCIM target,
// then — only through the control API — creates a demo directory (1,000 users with managers,
// 50 groups, some nested), an app from the generic SCIM template pointing at the target, assigns
// the "All staff" group, starts provisioning and shows the initial cycle's progress. Then, in a
// terminal (or with `--keep-running`), Ferry keeps running until Ctrl-C with commands to try;
// otherwise (CI, a pipe, or `--exit`) it exits 0 when the cycle is done.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startScimTarget, type ScimTarget } from '../dev/scim-target/index.ts';
import { loadEnv } from './env.ts';
import { startFerry, type RunningFerry } from './start.ts';

const USERS = 1000;
const GROUPS = 50;
const DEPARTMENTS = [
  'Sales',
  'Marketing',
  'Engineering',
  'Finance',
  'Support',
  'Legal',
  'Operations',
  'Design',
  'HR',
  'Research',
];
const FIRST = [
  'Ada',
  'Alan',
  'Grace',
  'Linus',
  'Margaret',
  'Ken',
  'Barbara',
  'Dennis',
  'Frances',
  'Edsger',
  'Radia',
  'Tim',
];
const LAST = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Torvalds',
  'Hamilton',
  'Thompson',
  'Liskov',
  'Ritchie',
  'Allen',
  'Dijkstra',
  'Perlman',
  'Berners-Lee',
];
const CYCLE_TIMEOUT_MS = 5 * 60_000;

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const userId = (i: number) => `demo-user-${pad(i, 4)}`;
const groupId = (i: number) => `demo-group-${pad(i, 2)}`;

/** The demo directory: department groups under "All staff", project teams, managers. */
export function demoDirectory() {
  const users = [];
  for (let i = 1; i <= USERS; i++) {
    const given = FIRST[i % FIRST.length];
    const surname = LAST[(i * 7) % LAST.length];
    users.push({
      id: userId(i),
      userPrincipalName: `${given}.${surname}.${i}@contoso.example`.toLowerCase(),
      mail: `${given}.${surname}.${i}@contoso.example`.toLowerCase(),
      mailNickname: `${given}${surname}${i}`.toLowerCase().replace(/[^a-z0-9]/g, ''),
      displayName: `${given} ${surname} ${i}`,
      givenName: given,
      surname,
      jobTitle: i <= 20 ? 'Manager' : 'Engineer',
      department: DEPARTMENTS[i % DEPARTMENTS.length],
      companyName: 'Contoso',
      employeeId: `E${pad(i, 5)}`,
      city: i % 2 === 0 ? 'Oslo' : 'Lisbon',
      country: i % 2 === 0 ? 'NO' : 'PT',
      // Users 2..20 report to user 1; everyone else to one of the 20 managers.
      managerId: i === 1 ? null : i <= 20 ? userId(1) : userId(1 + (i % 20)),
    });
  }
  const groups = [{ id: groupId(1), displayName: 'All staff', description: 'Every department (nested groups)' }];
  for (let d = 0; d < DEPARTMENTS.length; d++) {
    groups.push({ id: groupId(2 + d), displayName: DEPARTMENTS[d], description: `The ${DEPARTMENTS[d]} department` });
  }
  for (let g = 2 + DEPARTMENTS.length; g <= GROUPS; g++) {
    groups.push({ id: groupId(g), displayName: `Project ${pad(g, 2)}`, description: 'A project team' });
  }
  const memberships: { groupId: string; memberId: string }[] = [];
  for (let d = 0; d < DEPARTMENTS.length; d++) memberships.push({ groupId: groupId(1), memberId: groupId(2 + d) });
  for (let i = 1; i <= USERS; i++)
    memberships.push({ groupId: groupId(2 + (i % DEPARTMENTS.length)), memberId: userId(i) });
  for (let g = 2 + DEPARTMENTS.length; g <= GROUPS; g++) {
    for (let k = 0; k < 20; k++)
      memberships.push({ groupId: groupId(g), memberId: userId(1 + ((g * 37 + k * 13) % USERS)) });
    // The first project teams sit inside a department too (nesting two levels deep).
    if (g < 2 + DEPARTMENTS.length + 8)
      memberships.push({ groupId: groupId(2 + (g % DEPARTMENTS.length)), memberId: groupId(g) });
  }
  return { users, groups, memberships };
}

/**
 * Whether the demo keeps Ferry running after the initial cycle: `--keep-running` says yes, `--exit`
 * no; otherwise yes in a terminal (someone is there to try it) and no in CI or a pipe.
 */
export function keepsRunning(argv: readonly string[], isTTY: boolean): boolean {
  if (argv.includes('--keep-running')) return true;
  if (argv.includes('--exit')) return false;
  return isTTY;
}

/**
 * The closing hints. Commands to try only while Ferry is still up to answer them; when it exits,
 * how to run the demo so that it stays up.
 */
export function closingHints(o: { keepRunning: boolean; url: string; appId: string; keySource: string }): string[] {
  if (!o.keepRunning) {
    return [
      'Ferry stops now (not a terminal, or --exit). To try the API on the demo data, run',
      '   npm run demo -- --keep-running',
      'which keeps Ferry running after the cycle, with commands to try, until Ctrl-C.',
    ];
  }
  // The key itself is never printed: it may be a production key from FERRY_API_KEYS.
  const auth = '-H "Authorization: Bearer $FERRY_API_KEY"';
  const user = userId(42);
  return [
    `Ferry keeps running at ${o.url} until Ctrl-C. Try (FERRY_API_KEY = ${o.keySource}):`,
    `   curl ${auth} -X PATCH -H "Content-Type: application/json" -d '{"department":"Research"}' ${o.url}/api/v1/directory/users/${user}`,
    `   curl ${auth} -X POST -H "Content-Type: application/json" -d '{"objectId":"${user}"}' ${o.url}/api/v1/apps/${o.appId}/provision-on-demand`,
    `   curl ${auth} -H "Accept: text/csv" "${o.url}/api/v1/apps/${o.appId}/logs?action=Create&limit=10"`,
    `   curl ${auth} ${o.url}/api/v1/apps/${o.appId}/provisioning`,
    `   API docs: ${o.url}/docs`,
  ];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- demo script reading loosely typed JSON answers
type Json = any;

/** Calls Ferry's API with its key; throws on an error answer (the demo, and tests that drive Ferry like it). */
export function client(ferry: RunningFerry) {
  return async (method: string, route: string, body?: unknown): Promise<Json> => {
    const res = await fetch(`${ferry.url}/api/v1${route}`, {
      method,
      headers: {
        Authorization: `Bearer ${ferry.apiKey}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

function progressPrinter(out: NodeJS.WriteStream) {
  let lastDecile = -1;
  let lastTotal = 0;
  return (processedOrDone: number | 'done', totalNow = lastTotal, eta: number | null = null) => {
    const total = totalNow;
    const processed = processedOrDone === 'done' ? total : processedOrDone;
    lastTotal = total;
    const percent = total > 0 ? Math.min(100, Math.floor((processed / total) * 100)) : 0;
    if (out.isTTY) {
      const width = 30;
      const filled = Math.round((percent / 100) * width);
      out.write(
        `\r  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pad(percent, 3)}%  ${processed}/${total}${eta !== null ? `  ETA ${Math.ceil(eta)}s` : ''}   `,
      );
    } else if (Math.floor(percent / 10) > lastDecile) {
      lastDecile = Math.floor(percent / 10);
      out.write(`  progress ${percent}% (${processed}/${total})\n`);
    }
  };
}

async function main(): Promise<void> {
  const keepRunning = keepsRunning(process.argv.slice(2), process.stdout.isTTY === true);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();
  let target: ScimTarget | null = null;
  let ferry: RunningFerry | null = null;
  const shutdown = async () => {
    await ferry?.close();
    await target?.close();
  };
  try {
    say('Ferry demo — starting Ferry and a loopback SCIM target…');
    target = await startScimTarget({ host: '127.0.0.1' });
    const env = loadEnv();
    ferry = await startFerry({
      // The demo's own SCIM target runs on loopback: this process allows loopback targets.
      env: { ...env, allowInsecureLoopback: true, port: process.env.PORT ? env.port : 0 },
      logLevel: 'warn',
      inMemoryDatabase: true,
      print: (line) => say(`  ${line}`),
    });
    const api = client(ferry);

    say(`\n1. Demo directory: ${USERS} users with managers, ${GROUPS} groups (nested), through POST /directory/import`);
    const report = await api('POST', '/directory/import', demoDirectory());
    say(
      `   users ${report.users.created} created, groups ${report.groups.created} created, memberships ${report.memberships.created} added, ${report.errors.length} errors`,
    );

    say(`2. App "Demo target" from the generic SCIM template → ${target.baseUrl}`);
    const app = await api('POST', '/apps', {
      name: 'Demo target',
      template: 'generic-scim',
      target: { url: target.baseUrl, token: target.token },
      settings: {
        notificationEmail: null,
        rateLimit: { requestsPerSecond: 1000, concurrency: 16 },
      },
    });
    const connection = await api('POST', `/apps/${app.id}/test-connection`);
    say(
      `   app id ${app.id}; test connection: ${connection.ok ? 'ok' : `${connection.reason} — ${connection.message}`}`,
    );

    say('3. Assign the group "All staff" (every department through nesting)');
    await api('POST', `/apps/${app.id}/assignments`, { principalId: groupId(1) });

    say('4. Start provisioning — initial cycle:');
    const cycleStarted = Date.now();
    await api('POST', `/apps/${app.id}/provisioning/start`);
    const show = progressPrinter(process.stdout);
    let status: Json = null;
    for (;;) {
      const provisioning = await api('GET', `/apps/${app.id}/provisioning`);
      status = provisioning.status;
      if (status?.cycle && status.cycle.total > 0)
        show(status.cycle.processed, status.cycle.total, status.cycle.etaSeconds);
      if (status?.lastCycle) break;
      if (Date.now() - cycleStarted > CYCLE_TIMEOUT_MS)
        throw new Error('the initial cycle did not finish within 5 minutes');
      await new Promise((r) => setTimeout(r, 250));
    }
    const last = status.lastCycle;
    show('done');
    if (process.stdout.isTTY) say('');
    const seconds = (Date.now() - cycleStarted) / 1000;
    const counts = last.counts;
    say(`\nInitial cycle ${last.status} in ${seconds.toFixed(1)} s`);
    say(
      `   created ${counts.created}, updated ${counts.updated}, skipped ${counts.skipped}, failed ${counts.failed}, escrowed ${counts.escrowed}`,
    );
    const stats = target.stats();
    say(
      `   target now holds ${target.users().length} users and ${target.groups().length} groups (${stats.requests} SCIM requests)`,
    );
    say(`   job state: ${status.state}; next cycle at ${status.nextCycleAt ?? '—'}`);
    if (last.status !== 'succeeded') throw new Error(`the initial cycle failed: ${last.failure?.message ?? 'unknown'}`);

    const keySource =
      env.apiKeys.length > 0 ? 'one of FERRY_API_KEYS' : `the key in ${path.join(env.dataDir, 'api-key')}`;
    say(`\nDemo done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    for (const line of closingHints({ keepRunning, url: ferry.url, appId: app.id, keySource })) say(line);

    if (keepRunning) {
      const stop = () => void shutdown().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return;
    }
    await shutdown();
    process.exit(0);
  } catch (error) {
    process.stderr.write(`\nferry demo: ${error instanceof Error ? error.message : String(error)}\n`);
    await shutdown().catch(() => {});
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) void main();
