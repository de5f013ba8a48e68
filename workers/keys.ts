// `npm run keys -- <command>`: API keys from the command line, on the database the environment
// names (DATABASE_URL, else the embedded PGlite under FERRY_DATA_DIR) — the way to make the first
// key when FERRY_API_KEYS is not set, and a way back in when every admin key is lost.
//   create --name <name> --role <admin|operator|viewer>   prints the key once
//   list                                                  id, name, role, prefix, created, last used, revoked
//   revoke <id>
// Each create and revoke is written to the audit log as done by `cli`.
// With the embedded PGlite database, run it while Ferry is stopped: one process at a time may open
// that database (with Ferry running, use POST /api/v1/keys with an admin key instead).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { API_KEY_ROLES, generateEncryptionKey, openStore, type ApiKeyRole, type Store } from '../store/index.ts';
import { loadEnv, type FerryEnv } from './env.ts';

const USAGE = `Usage:
  npm run keys -- create --name <name> --role <${API_KEY_ROLES.join('|')}>
  npm run keys -- list
  npm run keys -- revoke <id>`;

/** The audit log's name for what this command does. */
const CLI_KEY = { keyId: 'cli', keyName: 'npm run keys', role: null, method: 'CLI', requestId: null } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
    this.name = 'UsageError';
  }
}

/**
 * Opens the store like the worker does. Keys need no encryption key, but the store wants one: the
 * environment's, else the one `npm start` keeps in the data directory, else a throwaway one (this
 * command never reads or writes app secrets).
 */
export async function openStoreForKeys(env: FerryEnv): Promise<Store> {
  const kept = path.join(env.dataDir, 'encryption-key');
  const encryptionKey =
    env.encryptionKey ?? (existsSync(kept) ? readFileSync(kept, 'utf8').trim() : generateEncryptionKey());
  const store = await openStore({
    databaseUrl: env.databaseUrl ?? undefined,
    dataDir: env.databaseUrl ? undefined : path.join(env.dataDir, 'db'),
    encryptionKey,
  });
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** Runs one command on an open store; `print` gets each line of output. */
export async function runKeysCommand(store: Store, argv: readonly string[], print: (line: string) => void) {
  const [command, ...rest] = argv;
  if (command === 'create') {
    const { values } = parseArgs({
      args: [...rest],
      options: { name: { type: 'string' }, role: { type: 'string' } },
      strict: true,
    });
    const name = values.name?.trim();
    if (!name) throw new UsageError('create: --name is required');
    if (name.length > 200) throw new UsageError('create: --name is longer than 200 characters');
    const role = values.role as ApiKeyRole | undefined;
    if (!role || !API_KEY_ROLES.includes(role)) {
      throw new UsageError(`create: --role must be one of ${API_KEY_ROLES.join(', ')}`);
    }
    const { record, key } = await store.apiKeys.create({ name, role, createdBy: 'cli' });
    await store.audit.append({
      ...CLI_KEY,
      action: 'key.create',
      path: 'npm run keys create',
      resource: `key:${record.id}`,
      status: 201,
      fields: ['name', 'role'],
    });
    print(`Created the ${role} key "${name}" (id ${record.id}). The key, shown only this once:`);
    print(key);
    return;
  }
  if (command === 'list') {
    if (rest.length > 0) throw new UsageError('list takes no arguments');
    let cursor: string | null = null;
    let any = false;
    do {
      const page = await store.apiKeys.list({ limit: 500, cursor });
      for (const k of page.items) {
        any = true;
        print(
          [
            k.id,
            k.role.padEnd(8),
            k.keyPrefix,
            `created ${k.createdAt}`,
            `last used ${k.lastUsedAt ?? 'never'}`,
            k.revokedAt ? `REVOKED ${k.revokedAt}` : 'active',
            JSON.stringify(k.name),
          ].join('  '),
        );
      }
      cursor = page.nextCursor;
    } while (cursor);
    if (!any) print('No stored API keys (keys from FERRY_API_KEYS are not stored).');
    return;
  }
  if (command === 'revoke') {
    const [id, ...extra] = rest;
    if (!id || extra.length > 0) throw new UsageError('revoke: give exactly one key id (see list)');
    const before = await store.apiKeys.get(id);
    if (!before) throw new Error(`No API key ${id} (see npm run keys -- list)`);
    const revoked = await store.apiKeys.revoke(id);
    if (before.revokedAt === null) {
      await store.audit.append({
        ...CLI_KEY,
        action: 'key.revoke',
        path: 'npm run keys revoke',
        resource: `key:${id}`,
        status: 200,
      });
      print(`Revoked ${id} ("${before.name}"); it stops working within 5 seconds.`);
      if (before.role === 'admin' && (await store.apiKeys.countActive('admin')) === 0) {
        print('No active stored admin key is left: only FERRY_API_KEYS (if set) can manage keys through the API now.');
      }
    } else {
      print(`${id} was already revoked at ${revoked?.revokedAt}.`);
    }
    return;
  }
  throw new UsageError(command ? `Unknown command ${command}` : 'No command given');
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return argv.length === 0 ? 1 : 0;
  }
  const env = loadEnv();
  const store = await openStoreForKeys(env);
  try {
    await runKeysCommand(store, argv, (line) => process.stdout.write(`${line}\n`));
    return 0;
  } finally {
    await store.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`ferry keys: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
