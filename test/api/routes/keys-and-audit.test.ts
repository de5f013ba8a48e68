import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../api/app.ts';
import { environmentKeyId } from '../../../api/auth.ts';
import { createLogger } from '../../../api/logger.ts';
import { openStore, type Store } from '../../../store/index.ts';
import { TEST_ENCRYPTION_KEY } from '../../support/postgres.ts';
import { API_KEY, jobStatus, read, recordingProvisioning } from '../helpers.ts';

const TOKEN = 'tok_keys_audit_secret_7d2e91c4';
const NEW_TOKEN = 'tok_keys_audit_rotated_51aa0f3b';

let store: Store;
let now = Date.parse('2026-06-01T10:00:00.000Z');
const lines: string[] = [];
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  store = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
  await store.migrate();
  app = createApp({
    apiKeys: [API_KEY],
    provisioning: recordingProvisioning(jobStatus('steady')).control,
    resources: { store },
    logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }),
    now: () => now,
  });
});
afterAll(async () => {
  await store.close();
});

const call = (key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  app.request(`/api/v1${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function makeKey(role: 'admin' | 'operator' | 'viewer', name = `${role} key`) {
  const res = await call(API_KEY, 'POST', '/keys', { name, role });
  expect(res.status).toBe(201);
  return read(res) as Promise<{ id: string; name: string; role: string; key: string; keyPrefix: string }>;
}

const newApp = () => ({
  name: 'GroupTalk for Contoso',
  template: 'grouptalk',
  target: { url: 'https://api.grouptalk.example/scim', token: TOKEN },
});

describe('API keys with roles', () => {
  it('creates a key shown once: the answer has it, the list and the logs never do, and it works at once', async () => {
    const created = await makeKey('viewer', 'Dashboard');
    expect(created).toMatchObject({ name: 'Dashboard', role: 'viewer', createdBy: environmentKeyId(API_KEY) });
    expect(created.key).toMatch(/^fk_/);
    expect(created.keyPrefix).toBe(created.key.slice(0, 8));
    const list = await call(API_KEY, 'GET', '/keys');
    const text = await list.text();
    expect(text).not.toContain(created.key);
    const body = JSON.parse(text);
    expect(body.items.find((k: { id: string }) => k.id === created.id)).toMatchObject({
      name: 'Dashboard',
      role: 'viewer',
    });
    expect(body.environmentKeys).toEqual([{ id: environmentKeyId(API_KEY), name: 'FERRY_API_KEYS #1', role: 'admin' }]);
    const me = await read(await call(created.key, 'GET', '/me'));
    expect(me).toEqual({
      keyId: created.id,
      name: 'Dashboard',
      role: 'viewer',
      source: 'stored',
      permissions: ['read'],
    });
    expect(lines.join('\n')).not.toContain(created.key);
  });

  it('answers /me for the environment key: admin with every permission', async () => {
    const me = await read(await call(API_KEY, 'GET', '/me'));
    expect(me).toMatchObject({ keyId: environmentKeyId(API_KEY), role: 'admin', source: 'environment' });
    expect(me.permissions).toEqual(
      expect.arrayContaining([
        'read',
        'directory:write',
        'provisioning:control',
        'apps:write',
        'keys:manage',
        'audit:read',
      ]),
    );
  });

  it('a viewer reads but writes nothing: 403 forbidden naming the missing permission', async () => {
    const { key } = await makeKey('viewer');
    expect((await call(key, 'GET', '/directory/users')).status).toBe(200);
    expect((await call(key, 'GET', '/apps')).status).toBe(200);
    expect((await call(key, 'GET', '/gallery')).status).toBe(200);
    expect((await app.request('/openapi.json', { headers: { Authorization: `Bearer ${key}` } })).status).toBe(200);
    const cases: [string, string, unknown, string][] = [
      ['POST', '/directory/users', { userPrincipalName: 'v@contoso.com' }, 'directory:write'],
      ['POST', '/apps/a1/provisioning/pause', undefined, 'provisioning:control'],
      ['POST', '/apps/a1/provision-on-demand', { objectId: 'u1' }, 'provisioning:onDemand'],
      ['POST', '/apps', newApp(), 'apps:write'],
      ['GET', '/keys', undefined, 'keys:manage'],
      ['GET', '/audit', undefined, 'audit:read'],
    ];
    for (const [method, path, body, permission] of cases) {
      const res = await call(key, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      const error = (await read(res)).error;
      expect(error.code).toBe('forbidden');
      expect(error.message).toContain(permission);
      expect(error.message).toContain('viewer');
      expect(error.requestId).toBe(res.headers.get('x-request-id'));
    }
  });

  it('an operator writes the directory and runs provisioning, but manages no apps, keys or audit', async () => {
    const { key } = await makeKey('operator');
    const user = await call(key, 'POST', '/directory/users', { userPrincipalName: 'op@contoso.com' });
    expect(user.status).toBe(201);
    expect((await call(key, 'POST', '/apps/a1/provisioning/pause')).status).not.toBe(403);
    expect((await call(key, 'POST', '/apps', newApp())).status).toBe(403);
    expect((await call(key, 'GET', '/keys')).status).toBe(403);
    expect((await call(key, 'POST', '/keys', { name: 'sneaky', role: 'admin' })).status).toBe(403);
    expect((await call(key, 'GET', '/audit')).status).toBe(403);
  });

  it('a stored admin key may do everything, keys included', async () => {
    const { key } = await makeKey('admin');
    expect((await call(key, 'POST', '/apps', newApp())).status).toBe(201);
    const other = await read(await call(key, 'POST', '/keys', { name: 'made by an admin key', role: 'viewer' }));
    expect((await call(key, 'DELETE', `/keys/${other.id}`)).status).toBe(200);
    expect((await call(key, 'GET', '/audit')).status).toBe(200);
  });

  it('revokes a key: it stops working at once, stays listed with revokedAt, and a second revoke changes nothing', async () => {
    const created = await makeKey('operator', 'to revoke');
    expect((await call(created.key, 'GET', '/me')).status).toBe(200);
    const res = await call(API_KEY, 'DELETE', `/keys/${created.id}`);
    expect(res.status).toBe(200);
    const revoked = await read(res);
    expect(revoked.revokedAt).toBeTruthy();
    const refused = await call(created.key, 'GET', '/me');
    expect(refused.status).toBe(401);
    expect((await read(refused)).error.code).toBe('unauthorized');
    const again = await read(await call(API_KEY, 'DELETE', `/keys/${created.id}`));
    expect(again.revokedAt).toBe(revoked.revokedAt);
    expect((await call(API_KEY, 'DELETE', '/keys/no-such-key')).status).toBe(404);
    const env = await call(API_KEY, 'DELETE', `/keys/${environmentKeyId(API_KEY)}`);
    expect(env.status).toBe(409);
    expect((await read(env)).error.message).toContain('FERRY_API_KEYS');
  });

  it('validates a new key: a name and one of the three roles, naming the bad field', async () => {
    const noName = await call(API_KEY, 'POST', '/keys', { role: 'viewer' });
    expect(noName.status).toBe(400);
    expect((await read(noName)).error.details[0].path).toBe('name');
    const badRole = await call(API_KEY, 'POST', '/keys', { name: 'x', role: 'root' });
    expect(badRole.status).toBe(400);
    expect((await read(badRole)).error.details[0].path).toBe('role');
  });

  it('records the last use at most once a minute per key', async () => {
    const { id, key } = await makeKey('viewer', 'last use');
    expect((await store.apiKeys.get(id))?.lastUsedAt).toBeNull();
    await call(key, 'GET', '/me');
    const first = (await store.apiKeys.get(id))?.lastUsedAt;
    expect(first).toBe(new Date(now).toISOString());
    now += 30_000;
    await call(key, 'GET', '/me');
    expect((await store.apiKeys.get(id))?.lastUsedAt).toBe(first);
    now += 31_000;
    await call(key, 'GET', '/me');
    expect((await store.apiKeys.get(id))?.lastUsedAt).toBe(new Date(now).toISOString());
  });
});

describe('without FERRY_API_KEYS: keys from the store only', () => {
  it('authenticates stored keys, and refuses to revoke the last active admin key', async () => {
    const own = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
    try {
      await own.migrate();
      const bare = createApp({
        apiKeys: [],
        provisioning: recordingProvisioning().control,
        resources: { store: own },
      });
      const { record, key } = await own.apiKeys.create({ name: 'first admin', role: 'admin', createdBy: 'cli' });
      const auth = { Authorization: `Bearer ${key}` };
      expect((await bare.request('/api/v1/me', { headers: auth })).status).toBe(200);
      const last = await bare.request(`/api/v1/keys/${record.id}`, { method: 'DELETE', headers: auth });
      expect(last.status).toBe(409);
      expect((await read(last)).error.message).toContain('last active admin key');
      const second = await own.apiKeys.create({ name: 'second admin', role: 'admin' });
      expect((await bare.request(`/api/v1/keys/${record.id}`, { method: 'DELETE', headers: auth })).status).toBe(200);
      expect((await bare.request('/api/v1/me', { headers: auth })).status).toBe(401);
      expect((await bare.request('/api/v1/me', { headers: { Authorization: `Bearer ${second.key}` } })).status).toBe(
        200,
      );
    } finally {
      await own.close();
    }
  });
});

describe('audit log', () => {
  it('records a mutating call with key, action, resource, request id, outcome and field names — never secret values', async () => {
    const created = await read(await call(API_KEY, 'POST', '/apps', newApp(), { 'X-Request-Id': 'req-audit-create' }));
    const patched = await call(API_KEY, 'PATCH', `/apps/${created.id}`, {
      name: 'Renamed',
      target: { token: NEW_TOKEN },
    });
    expect(patched.status).toBe(200);
    const page = await read(await call(API_KEY, 'GET', `/audit?resource=app:${created.id}`));
    expect(page.items.map((e: { action: string }) => e.action)).toEqual(['app.update', 'app.create']);
    const [update, create] = page.items;
    expect(create).toMatchObject({
      keyId: environmentKeyId(API_KEY),
      keyName: 'FERRY_API_KEYS #1',
      role: 'admin',
      method: 'POST',
      path: '/api/v1/apps',
      resource: `app:${created.id}`,
      requestId: 'req-audit-create',
      status: 201,
      outcome: 'success',
    });
    expect(create.fields).toEqual(expect.arrayContaining(['name', 'template', 'target.url', 'target.token']));
    expect(update).toMatchObject({ method: 'PATCH', path: '/api/v1/apps/{id}', status: 200 });
    expect(update.fields.sort()).toEqual(['name', 'target.token']);
    const everything = await (await call(API_KEY, 'GET', '/audit?limit=500')).text();
    const csv = await (await call(API_KEY, 'GET', '/audit?format=csv')).text();
    for (const text of [everything, csv]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(NEW_TOKEN);
    }
  });

  it('records denied and failed calls with their outcome, and no reads', async () => {
    const { id, key } = await makeKey('viewer', 'denied viewer');
    await call(key, 'DELETE', '/apps/whatever');
    await call(key, 'GET', '/apps');
    await call(API_KEY, 'PATCH', '/directory/users/nobody', { displayName: 'x' });
    const mine = await read(await call(API_KEY, 'GET', `/audit?keyId=${id}`));
    expect(mine.items).toHaveLength(1);
    expect(mine.items[0]).toMatchObject({
      action: 'app.delete',
      resource: 'app:whatever',
      status: 403,
      outcome: 'denied',
      keyName: 'denied viewer',
      role: 'viewer',
    });
    const failed = await read(await call(API_KEY, 'GET', '/audit?resource=user:nobody'));
    expect(failed.items[0]).toMatchObject({
      action: 'user.update',
      status: 404,
      outcome: 'failure',
      fields: ['displayName'],
    });
    const denied = await read(await call(API_KEY, 'GET', `/audit?outcome=denied&keyId=${id}`));
    expect(denied.items).toHaveLength(1);
  });

  it('records key creation and revocation, and the resource of a create is the new id', async () => {
    const created = await makeKey('viewer', 'audited key');
    await call(API_KEY, 'DELETE', `/keys/${created.id}`);
    const page = await read(await call(API_KEY, 'GET', `/audit?resource=key:${created.id}`));
    expect(page.items.map((e: { action: string }) => e.action)).toEqual(['key.revoke', 'key.create']);
    expect(page.items[1].fields.sort()).toEqual(['name', 'role']);
    const user = await read(
      await call(API_KEY, 'POST', '/directory/users', { userPrincipalName: 'audit@contoso.com' }),
    );
    const byAction = await read(await call(API_KEY, 'GET', '/audit?action=user.create,user.delete'));
    expect(byAction.items[0]).toMatchObject({ action: 'user.create', resource: `user:${user.id}` });
    expect(byAction.items.every((e: { action: string }) => ['user.create', 'user.delete'].includes(e.action))).toBe(
      true,
    );
  });

  it('pages with a cursor, filters by time, and exports CSV with Accept: text/csv', async () => {
    for (let i = 0; i < 3; i++) await call(API_KEY, 'POST', '/directory/groups', { displayName: `Paged ${i}` });
    const first = await read(await call(API_KEY, 'GET', '/audit?action=group.create&limit=2'));
    expect(first.items).toHaveLength(2);
    const rest = await read(
      await call(API_KEY, 'GET', `/audit?action=group.create&limit=2&cursor=${first.nextCursor}`),
    );
    expect(rest.items).toHaveLength(1);
    expect(rest.nextCursor).toBeNull();
    const future = await read(await call(API_KEY, 'GET', '/audit?from=2999-01-01T00:00:00Z'));
    expect(future.items).toEqual([]);
    const res = await call(API_KEY, 'GET', '/audit?action=group.create', undefined, { Accept: 'text/csv' });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = (await res.text()).trim().split('\r\n');
    expect(rows[0]).toBe('id,time,keyId,keyName,role,action,method,path,resource,requestId,status,outcome,fields');
    expect(rows).toHaveLength(4);
    const bad = await call(API_KEY, 'GET', '/audit?from=yesterday');
    expect(bad.status).toBe(400);
    expect((await read(bad)).error.details[0].path).toBe('from');
    const badCursor = await call(API_KEY, 'GET', '/audit?cursor=nonsense');
    expect(badCursor.status).toBe(400);
  });
});
