// A throwaway OpenLDAP server for tests: Debian's slapd with its own slapd.conf (mdb backend,
// core/cosine/inetorgperson schemas) in a temp dir, on a random 127.0.0.1 port; seeded and changed
// with ldapadd/ldapmodify/ldapdelete (or, for benches, preloaded offline with slapadd). No vitest
// here: bench/sources-ldap.ts imports it too. It never touches the system slapd (port 389, /etc/ldap/slapd.d).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { closedPort, until } from './net.ts';
import { Client } from 'ldapts';

const run = promisify(execFile);

export const SLAPD_BASE_DN = 'dc=example,dc=org';
export const SLAPD_ROOT_DN = 'cn=admin,dc=example,dc=org';
export const SLAPD_ROOT_PASSWORD = 'slapd-test-secret';

export interface Slapd {
  url: string;
  /** Applies LDIF with ldapadd (`-c`: continue past entries that exist). */
  add(ldif: string): Promise<void>;
  modify(ldif: string): Promise<void>;
  delete(...dns: string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface SlapdOptions {
  /**
   * An LDIF file loaded with `slapadd` before the server starts: offline, far faster than ldapadd
   * for a large directory (slapadd adds entryUUID and the timestamps itself).
   */
  preloadLdif?: string;
  /** Largest database size in bytes (default 100 MiB). */
  maxSizeBytes?: number;
}

export async function startSlapd(options: SlapdOptions = {}): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-slapd-'));
  mkdirSync(join(dir, 'db'));
  const port = await closedPort();
  const url = `ldap://127.0.0.1:${port}`;
  const conf = join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      `pidfile ${join(dir, 'slapd.pid')}`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      'database mdb',
      `maxsize ${options.maxSizeBytes ?? 104857600}`,
      `suffix "${SLAPD_BASE_DN}"`,
      `rootdn "${SLAPD_ROOT_DN}"`,
      `rootpw ${SLAPD_ROOT_PASSWORD}`,
      `directory ${join(dir, 'db')}`,
      'index objectClass eq',
      'sizelimit unlimited',
      '',
    ].join('\n'),
  );
  if (options.preloadLdif) {
    // -q: no consistency checks (a fresh, well-formed file); far quicker at 100k entries.
    await run('/usr/sbin/slapadd', ['-q', '-f', conf, '-l', options.preloadLdif], { maxBuffer: 64 * 1024 * 1024 });
  }
  const child: ChildProcess = spawn('/usr/sbin/slapd', ['-h', `${url}/`, '-f', conf, '-d', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  await until(
    async () => {
      if (exited) throw new Error(`slapd exited: ${stderr}`);
      const client = new Client({ url, connectTimeout: 500 });
      try {
        await client.bind(SLAPD_ROOT_DN, SLAPD_ROOT_PASSWORD);
        return true;
      } catch {
        return false;
      } finally {
        await client.unbind().catch(() => {});
      }
    },
    'slapd to accept binds',
    { timeoutMs: 20_000, pollMs: 100 },
  );
  const tool = async (name: string, args: string[], input: string) => {
    const file = join(dir, `input-${Date.now()}-${Math.random()}.ldif`);
    writeFileSync(file, input);
    await run(name, ['-x', '-H', url, '-D', SLAPD_ROOT_DN, '-w', SLAPD_ROOT_PASSWORD, ...args, '-f', file]);
  };
  return {
    url,
    add: (ldif) =>
      tool('ldapadd', ['-c'], ldif).catch((error: { code?: number }) => {
        // 68: an entry already exists (ldapadd -c carries on and reports it at the end).
        if (error.code !== 68) throw error;
      }),
    modify: (ldif) => tool('ldapmodify', [], ldif),
    delete: (...dns) => tool('ldapdelete', [], dns.join('\n') + '\n'),
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await until(() => exited, 'slapd to stop', { timeoutMs: 10_000 });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** LDIF of the base entry and the people/groups containers. */
export const BASE_LDIF = `dn: ${SLAPD_BASE_DN}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,${SLAPD_BASE_DN}
objectClass: organizationalUnit
ou: people

dn: ou=groups,${SLAPD_BASE_DN}
objectClass: organizationalUnit
ou: groups
`;

/** LDIF of one inetOrgPerson under ou=people. */
export const personLdif = (uid: string, extra: Record<string, string> = {}): string =>
  [
    `dn: uid=${uid},ou=people,${SLAPD_BASE_DN}`,
    'objectClass: inetOrgPerson',
    `uid: ${uid}`,
    `cn: ${extra.cn ?? uid}`,
    `sn: ${extra.sn ?? uid}`,
    `mail: ${uid}@example.org`,
    ...Object.entries(extra)
      .filter(([k]) => k !== 'cn' && k !== 'sn')
      .map(([k, v]) => `${k}: ${v}`),
    '',
  ].join('\n');

/** LDIF of one groupOfNames under ou=groups with the given uids as members. */
export const groupLdif = (cn: string, memberUids: string[]): string =>
  [
    `dn: cn=${cn},ou=groups,${SLAPD_BASE_DN}`,
    'objectClass: groupOfNames',
    `cn: ${cn}`,
    ...memberUids.map((uid) => `member: uid=${uid},ou=people,${SLAPD_BASE_DN}`),
    '',
  ].join('\n');
