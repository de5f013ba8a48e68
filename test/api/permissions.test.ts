import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditResource,
  hasPermission,
  openApiPath,
  PERMISSIONS,
  ROLE_PERMISSIONS,
  ROUTE_RULES,
} from '../../api/permissions.ts';
import { SCIM_SECURITY_SCHEME } from '../../api/scim-inbound/openapi.ts';
import { auth, read } from './helpers.ts';
import { storeApp } from './routes/helpers.ts';
import { EncryptionCodec } from '../../workers/payload-codec.ts';
import { randomBytes } from 'node:crypto';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

describe('the permission table', () => {
  let ctx: Awaited<ReturnType<typeof storeApp>>;
  let doc: { paths: Record<string, Record<string, any>> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  beforeAll(async () => {
    // With the codec endpoint, so its routes are in the table too.
    ctx = await storeApp({
      codec: { codec: new EncryptionCodec([{ id: 'k1', key: randomBytes(32) }]), namespace: 'default', uiOrigin: null },
    });
    doc = await read(await ctx.app.request('/openapi.json', { headers: auth() }));
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('gives every route of the OpenAPI document and of the app a permission, and names no route that does not exist', async () => {
    // /scim/v2 is documented too, but a scim source's token authorizes it, not an API key's role.
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([m, op]) => METHODS.includes(m) && !op.security?.some((s: object) => SCIM_SECURITY_SCHEME in s))
        .map(([m]) => `${m.toUpperCase()} ${path}`),
    );
    const served = [
      ...new Set(ctx.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${openApiPath(r.path)}`)),
    ];
    expect(documented.length).toBeGreaterThan(40);
    for (const route of [...documented, ...served]) expect(ROUTE_RULES[route], route).toBeDefined();
    for (const route of Object.keys(ROUTE_RULES)) expect(served, route).toContain(route);
  });

  it('names the audit action of every mutating route, and each route operation documents its permission and 403', async () => {
    for (const [route, rule] of Object.entries(ROUTE_RULES)) {
      if (!route.startsWith('GET ')) expect(rule.action, route).toMatch(/^[a-z]+\.[A-Za-z]+$/);
    }
    expect(doc.paths['/api/v1/apps'].post['x-ferry-permission']).toBe('apps:write');
    expect(doc.paths['/api/v1/apps'].post.responses['403']).toBeDefined();
    expect(doc.paths['/api/v1/directory/users'].get['x-ferry-permission']).toBe('read');
    expect(doc.paths['/api/v1/keys'].post['x-ferry-permission']).toBe('keys:manage');
    expect(doc.paths['/api/v1/audit'].get['x-ferry-permission']).toBe('audit:read');
    expect(doc.paths['/healthz'].get['x-ferry-permission']).toBeUndefined();
  });

  it('gives viewers read only, operators provisioning and directory writes, admins everything', () => {
    expect(ROLE_PERMISSIONS.viewer).toEqual(['read']);
    expect([...ROLE_PERMISSIONS.operator].sort()).toEqual(
      ['directory:write', 'provisioning:control', 'provisioning:onDemand', 'read', 'sources:sync'].sort(),
    );
    for (const permission of PERMISSIONS) expect(hasPermission('admin', permission)).toBe(true);
    for (const permission of ['apps:write', 'keys:manage', 'audit:read', 'sources:write'] as const) {
      expect(hasPermission('operator', permission)).toBe(false);
    }
  });

  it('fills audit resources from path parameters, the body and the answer', () => {
    expect(auditResource('app:{id}/assignment:{principalId}', { params: { id: 'a1', principalId: 'u1' } })).toBe(
      'app:a1/assignment:u1',
    );
    expect(auditResource('group:{id}/member:{body.memberId}', { params: { id: 'g1' }, body: { memberId: 'u2' } })).toBe(
      'group:g1/member:u2',
    );
    expect(auditResource('user:{@id}', { params: {}, responseId: 'u3' })).toBe('user:u3');
    expect(auditResource('user:{@id}', { params: {} })).toBe('user:?');
    expect(auditResource(undefined, { params: {} })).toBeNull();
  });
});
