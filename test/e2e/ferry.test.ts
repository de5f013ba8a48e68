// End to end, the way a user runs Ferry: `npm start` as a child process (Postgres from a fresh
// database via DATABASE_URL, the in-repo Temporal test service), driven ONLY over HTTP — directory,
// an app from the GroupTalk template against the scimmy peer with GroupTalk's extension schema,
// assignment, start, first cycle, a change, run, on-demand, logs as CSV — then the peer's state.
// Every response body and every line Ferry prints is scanned for the secrets.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { GROUPTALK_USER_SCHEMA, startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const API_KEY = 'fk_e2e_4b8e1f0c2d7a9e3b5c6d';
const ENCRYPTION_KEY = '3c'.repeat(32);
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

let peer: ScimPeer;
let db: TestDatabase;
let child: ChildProcess;
let dataDir: string;
let baseUrl: string;
const output: string[] = [];
const bodies: string[] = [];

/** PATH without any directory holding a `temporal` CLI, so Ferry falls back to the test service. */
function pathWithoutTemporalCli(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => {
      try {
        accessSync(path.join(dir, 'temporal'), constants.X_OK);
        return false;
      } catch {
        return true;
      }
    })
    .join(path.delimiter);
}

function waitForUrl(proc: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Ferry did not start:\n${output.join('')}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      const match = /Ferry API\s+(http:\/\/\S+)\/api\/v1/.exec(output.join(''));
      if (match) {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        resolve(match[1]);
      }
      void chunk;
    };
    proc.stdout?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Ferry exited with ${code}:\n${output.join('')}`));
    });
  });
}

/** Answers are read field by field; `any` keeps those checks readable. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function api(
  method: string,
  route: string,
  body?: unknown,
  accept?: string,
): Promise<{ status: number; json: Json; text: string }> {
  const res = await fetch(`${baseUrl}/api/v1${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${API_KEY}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(accept ? { Accept: accept } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  bodies.push(text);
  const json = res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : null;
  return { status: res.status, json, text };
}

async function waitForCycle(appId: string, number: number, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { json } = await api('GET', `/apps/${appId}/provisioning`);
    const last = json?.status?.lastCycle;
    if (last && last.number >= number) return last;
    if (Date.now() > deadline) throw new Error(`cycle ${number} did not finish: ${JSON.stringify(json)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  peer = await startScimmyPeer();
  db = await createTestDatabase('e2e');
  dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-e2e-'));
  child = spawn(process.execPath, ['--import', 'tsx', 'workers/start.ts'], {
    cwd: ROOT,
    env: {
      PATH: pathWithoutTemporalCli(),
      // Nor the CLI `npm run setup:temporal` built into .tools/bin: this test is about the test service.
      FERRY_TEMPORAL_CLI: 'none',
      HOME: process.env.HOME,
      DATABASE_URL: db.url,
      FERRY_DATA_DIR: dataDir,
      FERRY_API_KEYS: API_KEY,
      FERRY_ENCRYPTION_KEY: ENCRYPTION_KEY,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      // The SCIM peer listens on loopback.
      FERRY_ALLOW_INSECURE_LOOPBACK: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  baseUrl = await waitForUrl(child, 120_000);
}, 180_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
  await peer?.close();
  await db?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('Ferry end to end (npm start, HTTP only, GroupTalk template → scimmy peer)', () => {
  let appId: string;

  it('provisions an assigned group with its nested members, then changes, on-demand and logs', async () => {
    // Directory.
    const users = [
      {
        id: 'e2e-boss',
        userPrincipalName: 'boss@contoso.example',
        givenName: 'Bea',
        surname: 'Boss',
        mail: 'boss@contoso.example',
        mobilePhone: '+4790000001',
        companyName: 'Contoso',
        extensions: { extension_costCenter: 'CC-1', extensionAttribute1: 'Leads' },
      },
      {
        id: 'e2e-ann',
        userPrincipalName: 'ann@contoso.example',
        givenName: 'Ann',
        surname: 'Driver',
        mail: 'ann@contoso.example',
        mobilePhone: '+4790000002',
        managerId: 'e2e-boss',
        extensions: { extensionAttribute1: 'Day shift' },
      },
      {
        id: 'e2e-bob',
        userPrincipalName: 'bob@contoso.example',
        givenName: 'Bob',
        surname: 'Driver',
        mail: 'bob@contoso.example',
        mobilePhone: '+4790000003',
        managerId: 'e2e-boss',
      },
      {
        id: 'e2e-dan',
        userPrincipalName: 'dan@contoso.example',
        givenName: 'Dan',
        surname: 'Dispatch',
        mail: 'dan@contoso.example',
      },
      { id: 'e2e-out', userPrincipalName: 'out@contoso.example', givenName: 'Out', surname: 'Side' },
    ];
    const imported = await api('POST', '/directory/import', {
      users,
      groups: [
        { id: 'e2e-drivers', displayName: 'Drivers', description: 'All drivers' },
        { id: 'e2e-dispatch', displayName: 'Dispatch' },
      ],
      memberships: [
        { groupId: 'e2e-drivers', memberId: 'e2e-boss' },
        { groupId: 'e2e-drivers', memberId: 'e2e-ann' },
        { groupId: 'e2e-drivers', memberId: 'e2e-bob' },
        { groupId: 'e2e-drivers', memberId: 'e2e-dispatch' },
        { groupId: 'e2e-dispatch', memberId: 'e2e-dan' },
      ],
    });
    expect(imported.status).toBe(200);
    expect(imported.json.errors).toEqual([]);

    // App from the GroupTalk template.
    const created = await api('POST', '/apps', {
      name: 'GroupTalk e2e',
      template: 'grouptalk',
      target: { url: peer.baseUrl, token: peer.token },
      // Without change-driven push, each step below waits for the cycle or on-demand call it starts: a
      // push cycle a second after a directory change could otherwise run first (and create the
      // on-demand user itself). Push has journeys of its own.
      settings: { allowInsecureLoopback: true, notificationEmail: 'it@contoso.example', pushChanges: false },
    });
    expect(created.status).toBe(201);
    expect(created.json.hasToken).toBe(true);
    appId = created.json.id;
    expect((await api('POST', `/apps/${appId}/test-connection`)).json).toEqual({ ok: true });

    // Assign, start, first cycle.
    expect((await api('POST', `/apps/${appId}/assignments`, { principalId: 'e2e-drivers' })).status).toBe(201);
    expect((await api('POST', `/apps/${appId}/provisioning/start`)).status).toBe(202);
    const first = await waitForCycle(appId, 1);
    expect(first.status).toBe('succeeded');
    const afterFirst = await peer.users();
    expect(afterFirst.map((u) => u.userName).sort()).toEqual([
      'ann@contoso.example',
      'bob@contoso.example',
      'boss@contoso.example',
      'dan@contoso.example',
    ]);
    const ann = afterFirst.find((u) => u.userName === 'ann@contoso.example')!;
    expect((ann[GROUPTALK_USER_SCHEMA] as Record<string, unknown>)?.label1).toBe('Day shift');

    // A change, then run: the attribute changes, a soft-deleted user is disabled.
    expect(
      (await api('PATCH', '/directory/users/e2e-ann', { extensions: { extensionAttribute1: 'Night shift' } })).status,
    ).toBe(200);
    expect((await api('DELETE', '/directory/users/e2e-bob')).status).toBe(200);
    expect((await api('POST', `/apps/${appId}/provisioning/run`)).status).toBe(202);
    const second = await waitForCycle(appId, 2);
    expect(second.status).toBe('succeeded');

    // On-demand: a new member of the nested group.
    await api('POST', '/directory/users', {
      id: 'e2e-eve',
      userPrincipalName: 'eve@contoso.example',
      givenName: 'Eve',
      surname: 'New',
      mail: 'eve@contoso.example',
    });
    await api('POST', '/directory/groups/e2e-dispatch/members', { memberId: 'e2e-eve' });
    const onDemand = await api('POST', `/apps/${appId}/provision-on-demand`, { objectId: 'e2e-eve' });
    expect(onDemand.status).toBe(200);
    expect(onDemand.json).toMatchObject({ objectId: 'e2e-eve', action: 'Create', status: 'Success' });
    expect(onDemand.json.steps.length).toBeGreaterThanOrEqual(4);

    // Logs as CSV.
    const csv = await api('GET', `/apps/${appId}/logs`, undefined, 'text/csv');
    expect(csv.status).toBe(200);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toMatch(/^id,time,appId,/);
    expect(lines.filter((l) => l.includes(',Create,Success,')).length).toBeGreaterThanOrEqual(5);
    const cycles = await api('GET', `/apps/${appId}/cycles`);
    // Newest first.
    expect(cycles.json.items.map((c: { number: number }) => c.number)).toEqual([2, 1]);

    // The peer's final state.
    const final = await peer.users();
    const byName = new Map(final.map((u) => [u.userName as string, u]));
    expect([...byName.keys()].sort()).toEqual([
      'ann@contoso.example',
      'bob@contoso.example',
      'boss@contoso.example',
      'dan@contoso.example',
      'eve@contoso.example',
    ]);
    expect((byName.get('ann@contoso.example')![GROUPTALK_USER_SCHEMA] as Record<string, unknown>).label1).toBe(
      'Night shift',
    );
    expect(byName.get('bob@contoso.example')!.active).toBe(false);
    expect(byName.get('ann@contoso.example')!.active).toBe(true);
    expect((byName.get('boss@contoso.example')![ENTERPRISE] as Record<string, unknown>)?.costCenter).toBe('CC-1');
    expect(byName.has('out@contoso.example')).toBe(false);
    const groups = await peer.groups();
    const drivers = groups.find((g) => g.displayName === 'Drivers');
    expect(drivers).toBeDefined();
    const memberIds = ((drivers!.members as { value: string }[] | undefined) ?? []).map((m) => m.value);
    const idOf = (name: string) => byName.get(name)!.id;
    expect(memberIds).toEqual(
      expect.arrayContaining([idOf('ann@contoso.example'), idOf('boss@contoso.example'), idOf('dan@contoso.example')]),
    );
  }, 300_000);

  it('never shows a secret in a response or a log line, and stops cleanly on SIGTERM', async () => {
    expect(bodies.length).toBeGreaterThan(10);
    for (const text of [...bodies, ...output]) {
      expect(text).not.toContain(peer.token);
      expect(text).not.toContain(ENCRYPTION_KEY);
    }
    expect(output.join('')).not.toContain(API_KEY);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
