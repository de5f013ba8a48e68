import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, NotFoundError } from '../../engine/errors.ts';
import { openStore } from '../../store/index.ts';
import { SecretBox, parseEncryptionKey } from '../../store/crypto.ts';
import { until } from '../support/net.ts';
import { storeBackends, useStore } from '../support/postgres.ts';

const TOKEN = 'super-secret-bearer-token-7f3a';
const CLIENT_SECRET = 'oauth-client-secret-91bc';

describe.each(storeBackends)('apps and assignments on $name', (backend) => {
  const ctx = useStore(backend);

  const newApp = () =>
    ctx.store.apps.create({
      name: 'GroupTalk for Contoso',
      template: 'grouptalk',
      configuration: { target: { url: 'https://scim.example/v2' }, scope: 'assigned' },
      secrets: { token: TOKEN },
    });

  it('stores secrets encrypted: the raw column holds no plaintext', async () => {
    const app = await ctx.store.apps.update((await newApp()).id, { secrets: { clientSecret: CLIENT_SECRET } });
    const result = (await ctx.store.db.execute(sql`select * from apps where id = ${app.id}`)) as unknown as {
      rows: Record<string, unknown>[];
    };
    const raw = JSON.stringify(result.rows[0]);
    expect(raw).not.toContain(TOKEN);
    expect(raw).not.toContain(CLIENT_SECRET);
    expect(String(result.rows[0].secrets)).toMatch(/^v1\./);
  });

  it('never puts a secret in the safe view, only has-flags', async () => {
    const created = await newApp();
    const views = [
      created,
      await ctx.store.apps.get(created.id),
      (await ctx.store.apps.list({ limit: 1000 })).items.find((a) => a.id === created.id),
    ];
    for (const view of views) {
      expect(JSON.stringify(view)).not.toContain(TOKEN);
      expect(view).toMatchObject({ hasToken: true, hasClientSecret: false, secretNames: ['token'] });
    }
  });

  it('gives the worker the decrypted secrets; merging and removing secrets works', async () => {
    const app = await newApp();
    expect(await ctx.store.apps.getSecrets(app.id)).toEqual({ token: TOKEN });
    await ctx.store.apps.update(app.id, { secrets: { clientSecret: CLIENT_SECRET } });
    expect(await ctx.store.apps.getSecrets(app.id)).toEqual({ token: TOKEN, clientSecret: CLIENT_SECRET });
    const after = await ctx.store.apps.update(app.id, { secrets: { token: null } });
    expect(after.hasToken).toBe(false);
    expect(await ctx.store.apps.getSecrets(app.id)).toEqual({ clientSecret: CLIENT_SECRET });
  });

  it('loses no secret when several updates merge secrets at the same time', async () => {
    const app = await newApp();
    const names = Array.from({ length: 8 }, (_, i) => `secret${i}`);
    await Promise.all(names.map((name) => ctx.store.apps.update(app.id, { secrets: { [name]: `value-of-${name}` } })));
    expect(await ctx.store.apps.getSecrets(app.id)).toEqual({
      token: TOKEN,
      ...Object.fromEntries(names.map((name) => [name, `value-of-${name}`])),
    });
  });

  it('fails clearly, without leaking the secret, when the encryption key is wrong', async () => {
    const app = await newApp();
    const sealed = new SecretBox(parseEncryptionKey('6a'.repeat(32)));
    const other = new SecretBox(Buffer.alloc(32, 1));
    const envelope = sealed.seal(TOKEN, 'app:x');
    expect(() => other.open(envelope, 'app:x')).toThrow(ConfigurationError);
    expect(() => sealed.open(envelope, 'app:y')).toThrow(/encryption key/);

    const reopened = await ctx.opened.reopen({ encryptionKey: Buffer.alloc(32, 2).toString('base64'), migrate: false });
    if (reopened) {
      const error = await reopened.apps.getSecrets(app.id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(String((error as Error).message)).toMatch(/encryption key/);
      expect(String((error as Error).message)).not.toContain(TOKEN);
      expect((await reopened.apps.get(app.id))?.hasToken).toBe(true);
    }
  });

  it('rejects a key that is not 32 bytes', async () => {
    await expect(openStore({ encryptionKey: 'too-short' })).rejects.toBeInstanceOf(ConfigurationError);
  });

  it('bumps configVersion only when the configuration changes, and keeps the watermark and provisioning flag', async () => {
    const app = await newApp();
    expect((await ctx.store.apps.update(app.id, { name: 'Renamed' })).configVersion).toBe(app.configVersion);
    expect((await ctx.store.apps.update(app.id, { configuration: { scope: 'all' } })).configVersion).toBe(
      app.configVersion + 1,
    );
    const quiet = await ctx.store.apps.update(app.id, {
      configuration: { scope: 'all', name: 'Renamed' },
      bumpConfigVersion: false,
    });
    expect(quiet).toMatchObject({ configVersion: app.configVersion + 1, configuration: { name: 'Renamed' } });
    await ctx.store.apps.setWatermark(app.id, 42);
    await ctx.store.apps.setProvisioningEnabled(app.id, true);
    expect(await ctx.store.apps.get(app.id)).toMatchObject({ watermark: 42, provisioningEnabled: true });
    expect((await ctx.store.apps.listProvisioningEnabled()).map((a) => a.id)).toContain(app.id);
    await expect(ctx.store.apps.update(randomUUID(), { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('assigning and unassigning are directory writes (logged), and reach members of nested groups', async () => {
    const { directory, assignments, changes } = ctx.store;
    const app = await newApp();
    const outer = await directory.createGroup({ displayName: 'Outer' });
    const inner = await directory.createGroup({ displayName: 'Inner' });
    const alice = await directory.createUser({ userPrincipalName: `${randomUUID()}@contoso.com` });
    const bob = await directory.createUser({ userPrincipalName: `${randomUUID()}@contoso.com` });
    await directory.addMember(outer.id, inner.id);
    await directory.addMember(inner.id, alice.id);

    const before = await changes.latestSeq();
    expect(await assignments.assign(app.id, outer.id, 'Agent')).toBe(true);
    expect(await assignments.assign(app.id, outer.id, 'Agent')).toBe(false);
    expect(await assignments.assign(app.id, bob.id)).toBe(true);
    const log = await changes.changesSince(before);
    expect(log.map((c) => [c.op, c.objectId, c.appId])).toEqual([
      ['assignmentAdd', outer.id, app.id],
      ['assignmentAdd', bob.id, app.id],
    ]);

    expect(await assignments.effectiveFor(app.id, alice.id)).toEqual([
      { role: 'Agent', principalId: outer.id, viaGroupId: outer.id },
    ]);
    expect(await assignments.effectiveFor(app.id, bob.id)).toEqual([
      { role: 'User', principalId: bob.id, viaGroupId: null },
    ]);
    const principals = await assignments.assignedPrincipals(app.id, 'user');
    expect(principals.map((p) => p.objectId).sort()).toEqual([alice.id, bob.id].sort());
    expect((await assignments.listByApp(app.id)).map((a) => a.principalType).sort()).toEqual(['group', 'user']);

    expect(await assignments.unassign(app.id, outer.id)).toBe(1);
    expect(await assignments.effectiveFor(app.id, alice.id)).toEqual([]);
    expect((await changes.changesSince(before)).at(-1)).toMatchObject({
      op: 'assignmentRemove',
      objectId: outer.id,
      detail: { role: 'Agent' },
    });
  });

  it('deleting an app removes its assignments and links', async () => {
    const app = await newApp();
    const u = await ctx.store.directory.createUser({ userPrincipalName: `${randomUUID()}@contoso.com` });
    await ctx.store.assignments.assign(app.id, u.id);
    await ctx.store.links.upsert({ appId: app.id, objectType: 'user', sourceId: u.id, targetId: 't1' });
    expect(await ctx.store.apps.delete(app.id)).toBe(true);
    expect(await ctx.store.assignments.listByPrincipal(u.id)).toEqual([]);
    expect(await ctx.store.links.get(app.id, 'user', u.id)).toBeNull();
  });
});

describe('deleting an app while a cycle writes its rows (Postgres)', () => {
  const postgres = storeBackends.find((b) => b.name === 'postgres')!;
  const ctx = useStore(postgres);

  it('succeeds when the delete and a cycle write deadlock: the delete, chosen as the victim, is tried again', async () => {
    const app = await ctx.store.apps.create({
      name: 'Deleted mid-cycle',
      template: 'generic-scim',
      configuration: { target: { url: 'https://scim.example/v2' }, scope: 'all' },
    });
    await ctx.store.links.upsert({
      appId: app.id,
      objectType: 'user',
      sourceId: 'u1',
      targetId: 't1',
      exportedHash: 'h',
    });
    // A cycle's write transaction: it holds a link row, then (below) inserts a row that needs the app row.
    const cycle = new pg.Client({ connectionString: ctx.opened.url! });
    await cycle.connect();
    try {
      await cycle.query('begin');
      await cycle.query(`update links set exported_hash = 'h2' where app_id = $1`, [app.id]);
      // The delete locks the app row, then waits for the link row the cycle holds.
      const deleting = ctx.store.apps.delete(app.id);
      await until(async () => (await lockWaiters(cycle)) > 0, 'the delete to wait on a lock', { pollMs: 10 });
      // The cycle now waits for the app row: a deadlock. The delete waited first, so its check runs
      // first and it is the one Postgres aborts (40P01).
      await cycle.query(
        `insert into app_role_assignments (app_id, principal_id, principal_type, role) values ($1, 'u2', 'user', 'User')`,
        [app.id],
      );
      await cycle.query('commit');
      expect(await deleting).toBe(true);
    } finally {
      await cycle.end();
    }
    expect(await ctx.store.apps.get(app.id)).toBeNull();
    expect(await ctx.store.links.get(app.id, 'user', 'u1')).toBeNull();
  });
});

async function lockWaiters(client: pg.Client): Promise<number> {
  const result = await client.query(
    `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`,
  );
  return result.rows[0].n as number;
}
