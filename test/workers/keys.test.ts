// `npm run keys`: the first API key from the command line, on the database the environment names.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey, type Store } from '../../store/index.ts';
import { loadEnv } from '../../workers/env.ts';
import { openStoreForKeys, runKeysCommand, UsageError } from '../../workers/keys.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

describe('npm run keys', () => {
  let dataDir: string;
  let store: Store;
  let createdKey: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ferry-keys-'));
    // The real script, as a person runs it before the first start: embedded database, no keys set.
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'workers/keys.ts', 'create', '--name', 'First admin', '--role', 'admin'],
      { cwd: root, env: { ...process.env, FERRY_DATA_DIR: dataDir, DATABASE_URL: '', FERRY_ENCRYPTION_KEY: '' } },
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Created the admin key "First admin" \(id [0-9a-f-]{36}\)/);
    createdKey = lines[1];
    store = await openStoreForKeys(loadEnv({ FERRY_DATA_DIR: dataDir }));
  }, 240_000);
  afterAll(async () => {
    await store?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates a key in the data directory database, printed once and stored only as its digest', async () => {
    expect(createdKey).toMatch(/^fk_[A-Za-z0-9_-]{43}$/);
    const record = await store.apiKeys.findByHash(hashApiKey(createdKey));
    expect(record).toMatchObject({ name: 'First admin', role: 'admin', createdBy: 'cli', revokedAt: null });
    const [entry] = (await store.audit.query({ action: 'key.create' })).items;
    expect(entry).toMatchObject({ keyId: 'cli', resource: `key:${record!.id}`, outcome: 'success' });
  });

  it('lists keys without the keys themselves, and revokes one (audited)', async () => {
    const out: string[] = [];
    await runKeysCommand(store, ['create', '--name', 'Helpdesk', '--role', 'operator'], (l) => out.push(l));
    const helpdeskKey = out[1];
    const listed: string[] = [];
    await runKeysCommand(store, ['list'], (l) => listed.push(l));
    expect(listed).toHaveLength(2);
    expect(listed.join('\n')).not.toContain(createdKey);
    expect(listed.join('\n')).not.toContain(helpdeskKey);
    const helpdesk = await store.apiKeys.findByHash(hashApiKey(helpdeskKey));
    expect(listed.find((l) => l.startsWith(helpdesk!.id))).toMatch(/operator.*active.*"Helpdesk"/);
    const revoked: string[] = [];
    await runKeysCommand(store, ['revoke', helpdesk!.id], (l) => revoked.push(l));
    expect(revoked[0]).toContain(`Revoked ${helpdesk!.id}`);
    expect((await store.apiKeys.get(helpdesk!.id))?.revokedAt).toBeTruthy();
    expect((await store.audit.query({ action: 'key.revoke' })).items[0].resource).toBe(`key:${helpdesk!.id}`);
  });

  it('refuses bad input with a message naming what is wrong', async () => {
    const print = () => {};
    await expect(runKeysCommand(store, ['create', '--role', 'admin'], print)).rejects.toThrow(/--name is required/);
    await expect(runKeysCommand(store, ['create', '--name', 'x', '--role', 'root'], print)).rejects.toThrow(
      /--role must be one of admin, operator, viewer/,
    );
    await expect(runKeysCommand(store, ['revoke'], print)).rejects.toBeInstanceOf(UsageError);
    await expect(runKeysCommand(store, ['revoke', 'nope'], print)).rejects.toThrow(/No API key nope/);
    await expect(runKeysCommand(store, ['rotate'], print)).rejects.toThrow(/Unknown command rotate/);
  });
});
