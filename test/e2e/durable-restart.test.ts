// `npm start` with the Temporal CLI (built by `npm run setup:temporal`) is durable: the job
// workflow of an app survives a stop — SIGTERM, and SIGKILL of Ferry's process — and the next
// start finds it running and leaves it be (the same run continues, nothing is re-created); a
// directory change then reaches the SCIM target as before. The dev server Ferry started never
// outlives it, and two servers never run on one database file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimTarget, type ScimTarget } from '../../dev/scim-target/index.ts';
import { findTemporalCli } from '../../workers/temporal-cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const API_KEY = 'fk_durable_7c1e9a4b2d5f8e3a6b0c';
const ENCRYPTION_KEY = '5d'.repeat(32);

const cli = findTemporalCli();
let target: ScimTarget;
let dataDir: string;
let ferry: { child: ChildProcess; output: string[]; url: string; temporalAddress: string; uiUrl: string } | null = null;

/** Answers are read field by field; `any` keeps those checks readable. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** `npm start` in its own process group (as a terminal or a service manager runs it). */
async function npmStart(): Promise<NonNullable<typeof ferry>> {
  const output: string[] = [];
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FERRY_TEMPORAL_CLI: cli!,
      FERRY_DATA_DIR: dataDir,
      FERRY_API_KEYS: API_KEY,
      FERRY_ENCRYPTION_KEY: ENCRYPTION_KEY,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      // The SCIM target listens on loopback.
      FERRY_ALLOW_INSECURE_LOOPBACK: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  const text = await new Promise<string>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`npm start did not start:\n${output.join('')}`)), 180_000);
    const look = () => {
      const all = output.join('');
      if (/Temporal UI .*\n/.test(all)) {
        clearTimeout(deadline);
        resolve(all);
      }
    };
    child.stdout?.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`npm start exited with ${code}:\n${output.join('')}`));
    });
  });
  return {
    child,
    output,
    url: /Ferry API\s+(http:\/\/\S+)\/api\/v1/.exec(text)![1],
    temporalAddress: /Temporal\s+(\S+) \(cli\)/.exec(text)![1],
    uiUrl: /Temporal UI (http:\/\/\S+)\/namespaces\//.exec(text)![1],
  };
}

/** The live (not zombie) processes of a process group, with their command lines. */
function processGroup(group: number): { pid: number; argv: string[] }[] {
  const members: { pid: number; argv: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgid) !== group || state === 'Z') continue;
      members.push({ pid: Number(entry), argv: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0') });
    } catch {
      // The process ended while we looked.
    }
  }
  return members;
}

/** The Node process running Ferry inside the `npm start` process group (npm and sh are its parents). */
function ferryProcess(group: number): number {
  const ferryNode = processGroup(group).find(
    ({ argv }) => path.basename(argv[0]) === 'node' && argv.includes('workers/start.ts'),
  );
  if (!ferryNode) throw new Error(`no Ferry process in process group ${group}`);
  return ferryNode.pid;
}

/**
 * SIGTERM: to the whole `npm start` process group, as a terminal's Ctrl-C or a service manager
 * does. SIGKILL: to Ferry's own Node process only, as the kernel's OOM killer does — nothing of
 * Ferry can react. Either way, waits until every process of the group has exited (npm may exit
 * before Ferry has finished stopping).
 */
async function stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const group = ferry!.child.pid!;
  if (signal === 'SIGTERM') process.kill(-group, signal);
  else process.kill(ferryProcess(group), signal);
  ferry = null;
  await until(
    `npm start to exit after ${signal}`,
    async () => (processGroup(group).length === 0 ? true : undefined),
    60_000,
  );
}

async function api(method: string, route: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${ferry!.url}/api/v1${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${API_KEY}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

async function until<T>(what: string, look: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await look();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen in time`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const cycleDone = (appId: string, number: number) =>
  until(`cycle ${number}`, async () => {
    const { json } = await api('GET', `/apps/${appId}/provisioning`);
    const last = json?.status?.lastCycle;
    return last && last.number >= number && json.status.cycle === null ? last : undefined;
  });

/** The job's current run, read from Temporal itself (raw: its memo is encrypted by Ferry's payload codec). */
async function jobRun(appId: string): Promise<{ runId: string; firstRunId: string }> {
  const connection = await Connection.connect({ address: ferry!.temporalAddress });
  try {
    const { workflowExecutionInfo: info } = await connection.workflowService.describeWorkflowExecution({
      namespace: 'default',
      execution: { workflowId: `provisioning:${appId}` },
    });
    expect(info?.status).toBe(temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
    return { runId: info!.execution!.runId!, firstRunId: info!.firstRunId! };
  } finally {
    await connection.close();
  }
}

const portOpen = (address: string) =>
  new Promise<boolean>((resolve) => {
    const [host, port] = address.split(':');
    const socket = connect({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Pids of the `temporal server start-dev` processes (not their watcher shells) on `dbFile`. */
function devServersOn(dbFile: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (path.basename(argv[0]) === 'temporal' && argv.includes('start-dev') && argv.includes(dbFile)) {
        pids.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

const titleOnTarget = (userName: string) => target.users().find((u) => u.userName === userName)?.title;

beforeAll(async () => {
  if (!cli) throw new Error('No Temporal CLI: run `npm run setup:temporal` (needs Go) or set FERRY_TEMPORAL_CLI');
  target = await startScimTarget({ host: '127.0.0.1' });
  dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-durable-'));
});

afterAll(async () => {
  if (ferry) await stop('SIGTERM');
  await target?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start on the durable Temporal dev server', () => {
  it('keeps the job running across SIGTERM and SIGKILL restarts: the same run continues and changes still reach the target', async () => {
    ferry = await npmStart();
    expect(ferry.output.join('')).not.toContain('NOT durable');
    const dbFile = path.join(dataDir, 'temporal.db');

    const user = {
      id: 'durable-ann',
      userPrincipalName: 'ann@contoso.example',
      givenName: 'Ann',
      surname: 'Durable',
      jobTitle: 'Driver',
    };
    expect((await api('POST', '/directory/users', user)).status).toBe(201);
    const created = await api('POST', '/apps', {
      name: 'Durable target',
      template: 'generic-scim',
      target: { url: target.baseUrl, token: target.token },
      // Without change-driven push, each change below reaches the target by the cycle the test runs
      // (and whose run it checks): a push cycle a second after the change could run first and move
      // the job to its next run. Push has journeys of its own.
      settings: { allowInsecureLoopback: true, pushChanges: false },
    });
    expect(created.status).toBe(201);
    const appId = created.json.id as string;
    expect((await api('POST', `/apps/${appId}/assignments`, { principalId: user.id })).status).toBe(201);
    expect((await api('POST', `/apps/${appId}/provisioning/start`)).status).toBe(202);
    expect((await cycleDone(appId, 1)).status).toBe('succeeded');
    expect(titleOnTarget(user.userPrincipalName)).toBe('Driver');
    const provisioning = await api('GET', `/apps/${appId}/provisioning`);
    expect(provisioning.json.temporalUiUrl).toBe(
      `${ferry.uiUrl}/namespaces/default/workflows/${encodeURIComponent(`provisioning:${appId}`)}`,
    );
    const beforeStop = await jobRun(appId);

    // SIGTERM: Ferry stops cleanly, its dev server with it.
    const { temporalAddress, uiUrl } = ferry;
    await stop('SIGTERM');
    await until('the dev server to stop', async () => ((await portOpen(temporalAddress)) ? undefined : true), 30_000);

    ferry = await npmStart();
    // The Web UI is where it was (the dev server's ports are kept with its database).
    expect(ferry.uiUrl).toBe(uiUrl);
    // The job was found running and left as it was: same run, not started again.
    expect(await jobRun(appId)).toEqual(beforeStop);
    expect((await api('GET', `/apps/${appId}/provisioning`)).json.status.lastCycle.number).toBe(1);

    expect((await api('PATCH', `/directory/users/${user.id}`, { jobTitle: 'Dispatcher' })).status).toBe(200);
    expect((await api('POST', `/apps/${appId}/provisioning/run`)).status).toBe(202);
    expect((await cycleDone(appId, 2)).status).toBe('succeeded');
    expect(titleOnTarget(user.userPrincipalName)).toBe('Dispatcher');
    const beforeKill = await jobRun(appId);
    expect(beforeKill.firstRunId).toBe(beforeStop.firstRunId);

    // SIGKILL of Ferry's process: it cannot react, yet the dev server it started stops too (no
    // orphan holding the port and the database file). Started again at once, as a service manager
    // does, Ferry waits for that server instead of opening the same database beside it.
    const killedServers = devServersOn(dbFile);
    expect(killedServers).toHaveLength(1);
    await stop('SIGKILL');
    ferry = await npmStart();
    const servers = devServersOn(dbFile);
    expect(servers).toHaveLength(1);
    expect(servers).not.toContain(killedServers[0]);

    expect(await jobRun(appId)).toEqual(beforeKill);
    expect((await api('PATCH', `/directory/users/${user.id}`, { jobTitle: 'Night dispatcher' })).status).toBe(200);
    expect((await api('POST', `/apps/${appId}/provisioning/run`)).status).toBe(202);
    expect((await cycleDone(appId, 3)).status).toBe('succeeded');
    expect(titleOnTarget(user.userPrincipalName)).toBe('Night dispatcher');
  }, 600_000);
});
