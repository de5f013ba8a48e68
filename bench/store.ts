// Store benchmark: bulk-load a directory (100k users by default), stage an initial cycle, a 1 %
// incremental cycle, and write provisioning logs — on PGlite (in memory) and on Postgres.
// Usage: npx tsx bench/store.ts [users]   (Postgres from TEST_DATABASE_URL; skipped if unreachable)
import { randomUUID } from 'node:crypto';
import type { ProvisioningLogEntry } from '../engine/types.ts';
import { openStore, type Store } from '../store/index.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY } from '../test/support/postgres.ts';

const USERS = Number(process.argv[2] ?? 100_000);
const GROUPS = Math.max(1, Math.floor(USERS / 100));

async function timed<T>(label: string, count: number, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await fn();
  const ms = performance.now() - start;
  console.log(
    `  ${label.padEnd(42)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${Math.round((count / ms) * 1000)
      .toLocaleString('en')
      .padStart(10)} /s`,
  );
  return result;
}

async function run(name: string, store: Store): Promise<void> {
  console.log(`${name}: ${USERS.toLocaleString('en')} users, ${GROUPS.toLocaleString('en')} groups`);
  await store.migrate();
  const users = Array.from({ length: USERS }, (_, i) => ({
    id: randomUUID(),
    userPrincipalName: `user${i}@contoso.com`,
    displayName: `User ${i}`,
    givenName: 'User',
    surname: String(i),
    department: `Dept ${i % 40}`,
    businessPhones: [`+47 ${i}`],
    extensions: { extension_costCenter: `CC${i % 13}` },
  }));
  const groups = Array.from({ length: GROUPS }, (_, i) => ({ id: randomUUID(), displayName: `Group ${i}` }));
  await timed('bulk upsert users', USERS, () => store.directory.bulkUpsertUsers(users));
  await timed('bulk upsert groups', GROUPS, () => store.directory.bulkUpsertGroups(groups));
  const memberships = users.map((u, i) => ({
    groupId: groups[i % GROUPS].id,
    memberId: u.id,
    memberType: 'user' as const,
  }));
  await timed('bulk add memberships', USERS, () => store.directory.bulkAddMembers(memberships));

  const app = await store.apps.create({
    name: 'Bench',
    template: 'generic-scim',
    configuration: {},
    secrets: { token: 'x' },
  });
  for (const g of groups.slice(0, Math.ceil(GROUPS / 2))) await store.assignments.assign(app.id, g.id);
  const { cycle } = await store.cycles.create({ appId: app.id, number: 1, kind: 'initial' });
  const staged = await timed('stage initial cycle (assigned, via groups)', USERS / 2, () =>
    store.cycleWork.stageInitial(cycle.id, 'assigned'),
  );
  await timed('read staged work in batches of 500', staged, async () => {
    for (let cursor = 0; ;) {
      const batch = await store.cycleWork.readBatch(cycle.id, { afterSeq: cursor, limit: 500 });
      if (batch.length === 0) break;
      cursor = batch[batch.length - 1].seq;
    }
  });
  await timed('bulk upsert links', USERS / 2, () =>
    store.links.bulkUpsert(
      users.slice(0, USERS / 2).map((u) => ({
        appId: app.id,
        objectType: 'user' as const,
        sourceId: u.id,
        targetId: u.id,
        exportedHash: 'h',
      })),
    ),
  );

  const watermark = await store.changes.latestSeq();
  const changed = users.filter((_, i) => i % 100 === 0);
  await timed('patch 1 % of users (one transaction each)', changed.length, async () => {
    for (const u of changed) await store.directory.patchUser(u.id, { jobTitle: 'Changed' });
  });
  const upTo = await store.changes.latestSeq();
  const { cycle: incremental } = await store.cycles.create({ appId: app.id, number: 2, kind: 'incremental' });
  const n = await timed('stage incremental cycle (1 % changed)', changed.length, () =>
    store.cycleWork.stageChanges(incremental.id, watermark, upTo),
  );
  console.log(`  (staged ${n.toLocaleString('en')} objects: the changed users and their groups)`);

  const logs: ProvisioningLogEntry[] = users.slice(0, 20_000).map((u) => ({
    id: randomUUID(),
    time: new Date().toISOString(),
    appId: app.id,
    cycleId: cycle.id,
    changeId: null,
    objectType: 'user',
    sourceId: u.id,
    sourceDisplayName: u.displayName,
    targetId: u.id,
    action: 'Create',
    status: 'Success',
    errorCode: null,
    errorMessage: null,
    steps: [{ name: 'export', status: 'Success', details: { request: 'POST /Users' } }],
    modifiedAttributes: [{ name: 'userName', oldValue: null, newValue: u.userPrincipalName }],
    durationMs: 3,
    onDemand: false,
  }));
  await timed('insert provisioning logs', logs.length, () => store.logs.insert(logs));
  await timed('query logs (cycle filter, first page)', 1, () =>
    store.logs.query({ appId: app.id, cycleId: cycle.id, limit: 100 }),
  );
}

const pglite = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
await run('PGlite (in memory)', pglite);
await pglite.close();

let db: Awaited<ReturnType<typeof createTestDatabase>> | null = null;
try {
  db = await createTestDatabase('bench');
} catch (error) {
  console.log(`Postgres: skipped (${(error as Error).message})`);
}
if (db) {
  const store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY });
  try {
    await run('Postgres 15', store);
  } finally {
    await store.close();
    await db.drop();
  }
}
