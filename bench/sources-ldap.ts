// The LDAP source's import from a local slapd: `npx tsx bench/sources-ldap.ts [users] [groups]`
// (default 5000 users, 500 groups of 20 members). Seeds a throwaway slapd (test/support/slapd.ts),
// then times a full import into an in-memory store, then one changed entry's incremental import.
import { runSourceImport } from '../sources/run.ts';
import { openStore } from '../store/index.ts';
import { TEST_ENCRYPTION_KEY } from '../test/support/postgres.ts';
import {
  BASE_LDIF,
  groupLdif,
  personLdif,
  SLAPD_BASE_DN,
  SLAPD_ROOT_DN,
  SLAPD_ROOT_PASSWORD,
  startSlapd,
} from '../test/support/slapd.ts';

const users = Number(process.argv[2] ?? 5000);
const groups = Number(process.argv[3] ?? 500);

const slapd = await startSlapd();
const store = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
try {
  await store.migrate();
  await slapd.add(BASE_LDIF);
  const uid = (i: number) => `u${i}`;
  for (let from = 0; from < users; from += 5000) {
    const part = Array.from({ length: Math.min(5000, users - from) }, (_, i) => personLdif(uid(from + i)));
    await slapd.add(part.join('\n'));
  }
  const groupsLdif = Array.from({ length: groups }, (_, g) =>
    groupLdif(
      `g${g}`,
      Array.from({ length: 20 }, (_, m) => uid((g * 20 + m) % users)),
    ),
  );
  await slapd.add(groupsLdif.join('\n'));

  const source = await store.sources.create({
    name: 'bench',
    type: 'ldap',
    config: { url: slapd.url, bindDn: SLAPD_ROOT_DN, baseDn: SLAPD_BASE_DN, pageSize: 1000 },
    secret: SLAPD_ROOT_PASSWORD,
  });
  const policy = { allowLoopback: true, allowedNetworks: [] };
  let started = performance.now();
  const full = await runSourceImport({ store, policy }, source.id, 'full');
  const fullMs = performance.now() - started;
  console.log(
    `full import: ${users} users, ${groups} groups (20 members each) in ${(fullMs / 1000).toFixed(1)} s ` +
      `(${Math.round(((users + groups) * 1000) / fullMs)} entries/s); created ${full.created}, heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`,
  );

  await slapd.modify(
    `dn: uid=${uid(1)},ou=people,${SLAPD_BASE_DN}\nchangetype: modify\nreplace: title\ntitle: Changed\n`,
  );
  started = performance.now();
  const incremental = await runSourceImport({ store, policy }, source.id, 'incremental');
  console.log(
    `incremental import after one change: updated ${incremental.updated}, unchanged ${incremental.unchanged} in ${Math.round(performance.now() - started)} ms`,
  );
} finally {
  await store.close();
  await slapd.stop();
}
