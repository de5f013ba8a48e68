// The LDAP source's import from a local slapd: `npx tsx bench/sources-ldap.ts`.
// Sizes: BENCH_LDAP_USERS (default 100000), BENCH_LDAP_GROUPS (default 10000), BENCH_LDAP_MEMBERS
// (members per group, default 20), BENCH_LDAP_PAGE_SIZE (default 1000). The directory is written to
// an LDIF file and loaded offline with slapadd into a throwaway slapd (test/support/slapd.ts), then
// the source's initial (full) import runs into a fresh Postgres database (BENCH_DATABASE_URL or
// TEST_DATABASE_URL; created, then dropped) and its elapsed seconds are printed (goal < 60 s at
// 100k users / 10k groups), then the time for one changed entry to arrive by an incremental import.
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { directoryId } from '../sources/import.ts';
import { runSourceImport } from '../sources/run.ts';
import { openStore } from '../store/index.ts';
import {
  BASE_LDIF,
  groupLdif,
  personLdif,
  SLAPD_BASE_DN,
  SLAPD_ROOT_DN,
  SLAPD_ROOT_PASSWORD,
  startSlapd,
} from '../test/support/slapd.ts';

const count = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name}: "${process.env[name]}" is not a positive integer`);
  return value;
};
const users = count('BENCH_LDAP_USERS', 100_000);
const groups = count('BENCH_LDAP_GROUPS', 10_000);
const membersPerGroup = Math.min(count('BENCH_LDAP_MEMBERS', 20), users);
const pageSize = count('BENCH_LDAP_PAGE_SIZE', 1000);
const baseUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const uid = (i: number) => `u${i}`;
const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** Writes the directory as one LDIF file (streamed: 100k entries are tens of MB). */
async function writeLdif(file: string): Promise<void> {
  const out = createWriteStream(file);
  const write = (text: string) =>
    out.write(text + '\n') ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve));
  await write(BASE_LDIF);
  for (let i = 0; i < users; i++) {
    // A top-down org chart: every user but the first ten reports to one with a lower number.
    const manager: Record<string, string> =
      i >= 10 ? { manager: `uid=${uid(Math.floor(i / 10))},ou=people,${SLAPD_BASE_DN}` } : {};
    await write(
      personLdif(uid(i), { givenName: `Given${i}`, title: 'Engineer', employeeNumber: String(i), ...manager }),
    );
  }
  for (let g = 0; g < groups; g++) {
    await write(
      groupLdif(
        `g${g}`,
        Array.from({ length: membersPerGroup }, (_, m) => uid((g * membersPerGroup + m) % users)),
      ),
    );
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

async function onAdminDatabase(statement: string): Promise<void> {
  const url = new URL(baseUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-ldap-'));
const ldif = join(dir, 'directory.ldif');
let started = performance.now();
await writeLdif(ldif);
const slapd = await startSlapd({ preloadLdif: ldif, maxSizeBytes: 4 * 1024 ** 3 });
console.log(
  `slapd loaded with slapadd: ${users} users, ${groups} groups of ${membersPerGroup} members in ${seconds(performance.now() - started)} s`,
);
const database = `ferry_bench_ldap_${randomBytes(6).toString('hex')}`;
await onAdminDatabase(`create database "${database}"`);
const databaseUrl = new URL(baseUrl);
databaseUrl.pathname = `/${database}`;
const store = await openStore({ encryptionKey: randomBytes(32).toString('hex'), databaseUrl: databaseUrl.toString() });
try {
  await store.migrate();
  const source = await store.sources.create({
    name: 'bench',
    type: 'ldap',
    config: { url: slapd.url, bindDn: SLAPD_ROOT_DN, baseDn: SLAPD_BASE_DN, pageSize },
    secret: SLAPD_ROOT_PASSWORD,
  });
  const policy = { allowLoopback: true, allowedNetworks: [] };
  started = performance.now();
  // Where the time goes: the moment each phase (users, groups, members, deletions) was last heard from.
  const phases = new Map<string, number>();
  const full = await runSourceImport({ store, policy }, source.id, 'full', ({ phase }) =>
    phases.set(phase, performance.now() - started),
  );
  const fullMs = performance.now() - started;
  console.log(`  phases done at: ${[...phases].map(([phase, ms]) => `${phase} ${seconds(ms)} s`).join(', ')}`);
  console.log(
    `initial import into Postgres: ${users} users, ${groups} groups in ${seconds(fullMs)} s (goal < 60 s at 100k/10k; ` +
      `${Math.round(((users + groups) * 1000) / fullMs)} entries/s); status ${full.status}, created ${full.created}, ` +
      `heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`,
  );

  // One change: written to slapd, then the incremental import that brings it (modifyTimestamp has
  // one-second resolution, and the filter is >=: the entries of the last second are read again).
  started = performance.now();
  await slapd.modify(
    `dn: uid=${uid(1)},ou=people,${SLAPD_BASE_DN}\nchangetype: modify\nreplace: title\ntitle: Changed\n`,
  );
  const incremental = await runSourceImport({ store, policy }, source.id, 'incremental');
  const arrived = (await store.directory.getUser(directoryId(source.id, await entryUuid(slapd.url))))?.jobTitle;
  console.log(
    `one changed entry by an incremental import: ${Math.round(performance.now() - started)} ms from the write ` +
      `(updated ${incremental.updated}, unchanged ${incremental.unchanged}; arrived: ${arrived === 'Changed'})`,
  );
} finally {
  await store.close();
  await slapd.stop();
  await onAdminDatabase(`drop database if exists "${database}" with (force)`);
  rmSync(dir, { recursive: true, force: true });
}

async function entryUuid(url: string): Promise<string> {
  const { Client } = await import('ldapts');
  const client = new Client({ url });
  await client.bind(SLAPD_ROOT_DN, SLAPD_ROOT_PASSWORD);
  try {
    const { searchEntries } = await client.search(`uid=${uid(1)},ou=people,${SLAPD_BASE_DN}`, {
      scope: 'base',
      attributes: ['entryUUID'],
    });
    return searchEntries[0].entryUUID as string;
  } finally {
    await client.unbind();
  }
}
