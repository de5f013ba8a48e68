import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditToCsv, hashApiKey } from '../../store/index.ts';
import { storeBackends, useStore } from '../support/postgres.ts';

/** The database's message of a refused statement (drizzle wraps it: the driver's error is the cause). */
async function refusal(statement: Promise<unknown>): Promise<string> {
  try {
    await statement;
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? cause.message : String(error);
  }
  return 'not refused';
}

describe.each(storeBackends)('API keys and the audit log on $name', (backend) => {
  const ctx = useStore(backend);

  it('keeps only the digest and the first characters of a key; the key itself is returned once', async () => {
    const { record, key } = await ctx.store.apiKeys.create({ name: 'CI deploys', role: 'operator', createdBy: 'cli' });
    expect(key).toMatch(/^fk_[A-Za-z0-9_-]{43}$/);
    expect(record).toMatchObject({ name: 'CI deploys', role: 'operator', createdBy: 'cli', revokedAt: null });
    expect(record.keyPrefix).toBe(key.slice(0, 8));
    const rows = await ctx.store.db.execute(sql`select * from api_keys where id = ${record.id}`);
    const raw = JSON.stringify((rows as unknown as { rows: unknown[] }).rows);
    expect(raw).not.toContain(key);
    expect(raw).toContain(hashApiKey(key));
    expect((await ctx.store.apiKeys.findByHash(hashApiKey(key)))?.id).toBe(record.id);
    expect(await ctx.store.apiKeys.findByHash(hashApiKey(`${key}x`))).toBeNull();
  });

  it('revokes a key once (the first time is kept), records its last use, lists and counts active keys', async () => {
    const { record } = await ctx.store.apiKeys.create({ name: 'to revoke', role: 'viewer' });
    const before = await ctx.store.apiKeys.countActive('viewer');
    const usedAt = new Date('2026-01-02T03:04:05.000Z');
    await ctx.store.apiKeys.touch(record.id, usedAt);
    const first = await ctx.store.apiKeys.revoke(record.id, new Date('2026-02-01T00:00:00.000Z'));
    const again = await ctx.store.apiKeys.revoke(record.id, new Date('2026-03-01T00:00:00.000Z'));
    expect(first?.revokedAt).toBe('2026-02-01T00:00:00.000Z');
    expect(again?.revokedAt).toBe('2026-02-01T00:00:00.000Z');
    expect(again?.lastUsedAt).toBe(usedAt.toISOString());
    expect(await ctx.store.apiKeys.countActive('viewer')).toBe(before - 1);
    expect(await ctx.store.apiKeys.revoke('no-such-key')).toBeNull();
    const all = await ctx.store.apiKeys.list();
    expect(all.items.map((k) => k.id)).toContain(record.id);
    expect((await ctx.store.apiKeys.list({ activeOnly: true })).items.map((k) => k.id)).not.toContain(record.id);
    const page = await ctx.store.apiKeys.list({ limit: 1 });
    expect(page.items).toHaveLength(1);
    const next = await ctx.store.apiKeys.list({ limit: 1, cursor: page.nextCursor });
    expect(next.items[0].id).not.toBe(page.items[0].id);
  });

  it('appends audit entries and finds them by key, action, resource (and what lies under it), outcome and time', async () => {
    const base = { keyName: 'ops', role: 'operator', method: 'POST', requestId: 'r', fields: [] };
    const a = await ctx.store.audit.append({
      ...base,
      keyId: 'k-filter',
      action: 'app.update',
      path: '/api/v1/apps/{id}',
      resource: 'app:a_1',
      status: 200,
      fields: ['name', 'target.token'],
      time: '2026-05-01T00:00:00.000Z',
    });
    const b = await ctx.store.audit.append({
      ...base,
      keyId: 'k-filter',
      action: 'assignment.delete',
      path: '/api/v1/apps/{id}/assignments/{principalId}',
      resource: 'app:a_1/assignment:u1',
      status: 204,
      time: '2026-05-02T00:00:00.000Z',
    });
    const c = await ctx.store.audit.append({
      ...base,
      keyId: 'k-filter',
      action: 'app.update',
      path: '/api/v1/apps/{id}',
      resource: 'app:a_10',
      status: 403,
      time: '2026-05-03T00:00:00.000Z',
    });
    expect(a.outcome).toBe('success');
    expect(c.outcome).toBe('denied');
    const ids = async (q: Parameters<typeof ctx.store.audit.query>[0]) =>
      (await ctx.store.audit.query({ keyId: 'k-filter', ...q })).items.map((e) => e.id);
    expect(await ids({})).toEqual([c.id, b.id, a.id]);
    expect(await ids({ action: 'app.update' })).toEqual([c.id, a.id]);
    expect(await ids({ action: ['assignment.delete', 'nothing'] })).toEqual([b.id]);
    // `app:a_1` is not a prefix match for `app:a_10` (the `_` is no wildcard; `/` separates levels).
    expect(await ids({ resource: 'app:a_1' })).toEqual([b.id, a.id]);
    expect(await ids({ outcome: 'denied' })).toEqual([c.id]);
    expect(await ids({ from: '2026-05-02T00:00:00.000Z', to: '2026-05-03T00:00:00.000Z' })).toEqual([b.id]);
    const first = await ctx.store.audit.query({ keyId: 'k-filter', limit: 2 });
    expect(first.items.map((e) => e.id)).toEqual([c.id, b.id]);
    const rest = await ctx.store.audit.query({ keyId: 'k-filter', limit: 2, cursor: first.nextCursor });
    expect(rest.items.map((e) => e.id)).toEqual([a.id]);
    expect(rest.nextCursor).toBeNull();
    const csv = auditToCsv([a]);
    expect(csv.split('\r\n')[0]).toBe(
      'id,time,keyId,keyName,role,action,method,path,resource,requestId,status,outcome,fields',
    );
    expect(csv).toContain('"[""name"",""target.token""]"');
  });

  it('is append-only: the database refuses to change or delete an entry, or to empty the table', async () => {
    const entry = await ctx.store.audit.append({
      keyId: 'k-append',
      keyName: 'x',
      role: 'admin',
      action: 'app.delete',
      method: 'DELETE',
      path: '/api/v1/apps/{id}',
      resource: 'app:x',
      requestId: null,
      status: 204,
    });
    expect(await refusal(ctx.store.db.execute(sql`update audit_log set status = 500 where id = ${entry.id}`))).toMatch(
      /append-only/,
    );
    expect(await refusal(ctx.store.db.execute(sql`delete from audit_log where id = ${entry.id}`))).toMatch(
      /append-only/,
    );
    expect(await refusal(ctx.store.db.execute(sql`truncate audit_log`))).toMatch(/append-only/);
    const [kept] = (await ctx.store.audit.query({ keyId: 'k-append' })).items;
    expect(kept).toEqual(entry);
  });

  it('retention deletes only entries older than the date, in batches, and nothing else', async () => {
    const old = (day: number) =>
      ctx.store.audit.append({
        keyId: 'k-retention',
        keyName: 'x',
        role: 'admin',
        action: 'user.create',
        method: 'POST',
        path: '/api/v1/directory/users',
        resource: null,
        requestId: null,
        status: 201,
        time: new Date(Date.UTC(2020, 0, day)),
      });
    for (let day = 1; day <= 7; day++) await old(day);
    const recent = await old(20);
    const deleted = await ctx.store.audit.deleteOlderThan(new Date(Date.UTC(2020, 0, 10)), { batchSize: 3 });
    expect(deleted).toBe(7);
    expect((await ctx.store.audit.query({ keyId: 'k-retention' })).items.map((e) => e.id)).toEqual([recent.id]);
    // The permission to delete ended with retention's transactions.
    expect(await refusal(ctx.store.db.execute(sql`delete from audit_log where id = ${recent.id}`))).toMatch(
      /append-only/,
    );
  });
});
