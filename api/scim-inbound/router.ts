// SCIM inbound: Ferry serves /scim/v2 to identity providers (Entra ID, Okta, JumpCloud, authentik)
// that push people into its directory. Each `scim` source has its own bearer token (stored as a
// SHA-256 digest, like API keys); the token decides which source a request writes as. Answers and
// errors are SCIM's own (application/scim+json, RFC 7644 §3.12), not the control API's.
import { Hono, type Context } from 'hono';
import { scimPatch, type ScimPatchOperation, type ScimResource as PatchableResource } from 'scim-patch';
import type { DirectoryGroup, DirectoryUser, ObjectType } from '../../engine/types.ts';
import { patchOperations } from '../../sources/scim-patch-ops.ts';
import { ScimInputError, type ScimResource } from '../../sources/scim-resources.ts';
import { hashApiKey, type SourceRecord, type Store } from '../../store/index.ts';
import type { FailedAuthLimiter } from '../failed-auth-limiter.ts';
import type { Logger } from '../logger.ts';
import { listResponse, MAX_PAGE_SIZE, resourceTypes, schemas, serviceProviderConfig } from './discovery.ts';
import { errorBody, ScimHttpError, toScimError } from './errors.ts';
import { equalityOf, scimFilter } from './filter.ts';
import { ScimObjects } from './objects.ts';

export const SCIM_INBOUND_PATH = '/scim/v2';
const CONTENT_TYPE = 'application/scim+json';

export interface ScimInboundDeps {
  store: Store;
  limiter: FailedAuthLimiter;
  clientAddress: (c: Context) => string;
  logger: Logger;
}

type Env = { Variables: { objects: ScimObjects; source: SourceRecord } };

const scimJson = (c: Context, body: unknown, status: 200 | 201 = 200) =>
  c.body(JSON.stringify(body), status, { 'Content-Type': CONTENT_TYPE });

async function readJson(c: Context): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ScimInputError('the body is not JSON', 'invalidSyntax');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ScimInputError('the body must be a JSON object', 'invalidSyntax');
  }
  return body as Record<string, unknown>;
}

/** The source a bearer token belongs to: enabled and of type scim, else 401 (and a failure counted). */
async function authenticate(c: Context, deps: ScimInboundDeps): Promise<SourceRecord> {
  const address = deps.clientAddress(c);
  const wait = deps.limiter.blockedFor(address);
  if (wait > 0) {
    throw new ScimHttpError(429, 'Too many failed authentications; retry later', undefined, {
      'Retry-After': String(Math.ceil(wait / 1000)),
    });
  }
  const token = /^Bearer (.+)$/i.exec(c.req.header('Authorization') ?? '')?.[1];
  const source = token ? await deps.store.sources.findByTokenHash(hashApiKey(token)) : null;
  if (!source || source.type !== 'scim' || !source.enabled) {
    deps.limiter.recordFailure(address);
    throw new ScimHttpError(401, 'A valid bearer token of an enabled scim source is required', undefined, {
      'WWW-Authenticate': 'Bearer',
    });
  }
  return source;
}

/** Applies PATCH operations with scim-patch (whose types want a `meta` with dates SCIM inbound does not keep). */
const applyPatch = (resource: ScimResource, operations: ScimPatchOperation[]): Record<string, unknown> =>
  scimPatch(resource as unknown as PatchableResource, operations) as unknown as Record<string, unknown>;

/** `attributes` / `excludedAttributes` (RFC 7644 §3.9) on top-level names; id, schemas and meta always stay. */
function project(resource: ScimResource, c: Context): ScimResource {
  const names = (q: string | undefined) =>
    new Set(
      (q ?? '')
        .split(',')
        .map((a) => a.trim().split('.')[0].toLowerCase())
        .filter(Boolean),
    );
  const only = names(c.req.query('attributes'));
  const without = names(c.req.query('excludedAttributes'));
  if (only.size === 0 && without.size === 0) return resource;
  const keep = (key: string) =>
    ['id', 'schemas', 'meta'].includes(key) ||
    ((only.size === 0 || only.has(key.toLowerCase())) && !without.has(key.toLowerCase()));
  return Object.fromEntries(Object.entries(resource).filter(([k]) => keep(k))) as ScimResource;
}

function paging(c: Context): { startIndex: number; count: number } {
  const number = (name: string, fallback: number) => {
    const raw = c.req.query(name);
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new ScimInputError(`${name} must be an integer`, 'invalidValue');
    return n;
  };
  return {
    startIndex: Math.max(1, number('startIndex', 1)),
    count: Math.min(MAX_PAGE_SIZE, Math.max(0, number('count', 100))),
  };
}

/**
 * The ids a filter can only match: an indexed look-up for `id`, `userName` or `externalId eq`,
 * else every live object of the source (matched in memory; see docs/sources.md for the limit).
 */
async function candidates(store: Store, objects: ScimObjects, type: ObjectType, filter: string | undefined) {
  if (!filter) return { ids: await store.sources.liveIds(objects.sourceId, type), matches: () => true };
  const { ast, matches } = scimFilter(filter);
  const id = equalityOf(ast, 'id');
  if (id !== null) return { ids: [id], matches };
  const externalId = equalityOf(ast, 'externalId');
  if (externalId !== null) return { ids: await store.sources.idsByRef(objects.sourceId, type, externalId), matches };
  const userName = type === 'user' ? equalityOf(ast, 'userName') : null;
  if (userName !== null) {
    const user = await store.directory.getUserByPrincipalName(userName);
    return { ids: user ? [user.id] : [], matches };
  }
  return { ids: await store.sources.liveIds(objects.sourceId, type), matches };
}

async function list(c: Context<Env>, store: Store, type: ObjectType) {
  const objects = c.get('objects');
  const { startIndex, count } = paging(c);
  const { ids, matches } = await candidates(store, objects, type, c.req.query('filter'));
  const withMembers = !/(^|,)\s*members\s*(,|$)/i.test(c.req.query('excludedAttributes') ?? '');
  const found: ScimResource[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const part = ids.slice(i, i + 1000);
    const loaded =
      type === 'user'
        ? (await objects.load<DirectoryUser>('user', part)).map((o) => objects.userResource(o))
        : await Promise.all(
            (await objects.load<DirectoryGroup>('group', part)).map((o) => objects.groupResource(o, withMembers)),
          );
    found.push(...loaded.filter(matches));
  }
  found.sort((a, b) => (a.id! < b.id! ? -1 : a.id! > b.id! ? 1 : 0));
  const page = found.slice(startIndex - 1, startIndex - 1 + count).map((r) => project(r, c));
  return scimJson(c, listResponse(page, found.length, startIndex));
}

function userRoutes(app: Hono<Env>, store: Store): void {
  app.get('/Users', (c) => list(c, store, 'user'));
  app.post('/Users', async (c) => {
    const objects = c.get('objects');
    return scimJson(c, objects.userResource(await objects.writeUser(await readJson(c))), 201);
  });
  app.get('/Users/:id', async (c) => {
    const objects = c.get('objects');
    return scimJson(c, project(objects.userResource(await objects.require('user', c.req.param('id'))), c));
  });
  app.put('/Users/:id', async (c) => {
    const objects = c.get('objects');
    const id = c.req.param('id');
    await objects.require('user', id);
    return scimJson(c, objects.userResource(await objects.writeUser(await readJson(c), id)));
  });
  app.patch('/Users/:id', async (c) => {
    const objects = c.get('objects');
    const id = c.req.param('id');
    const operations = patchOperations(await readJson(c));
    const current = objects.userResource(await objects.require('user', id));
    const patched = applyPatch(current, operations);
    return scimJson(c, objects.userResource(await objects.writeUser(patched, id)));
  });
  app.delete('/Users/:id', async (c) => {
    await c.get('objects').softDelete('user', c.req.param('id'));
    return c.body(null, 204);
  });
}

function groupRoutes(app: Hono<Env>, store: Store): void {
  app.get('/Groups', (c) => list(c, store, 'group'));
  app.post('/Groups', async (c) => {
    const objects = c.get('objects');
    return scimJson(c, await objects.groupResource(await objects.writeGroup(await readJson(c))), 201);
  });
  app.get('/Groups/:id', async (c) => {
    const objects = c.get('objects');
    const group = await objects.require<DirectoryGroup>('group', c.req.param('id'));
    const withMembers = !/(^|,)\s*members\s*(,|$)/i.test(c.req.query('excludedAttributes') ?? '');
    return scimJson(c, project(await objects.groupResource(group, withMembers), c));
  });
  app.put('/Groups/:id', async (c) => {
    const objects = c.get('objects');
    const id = c.req.param('id');
    await objects.require('group', id);
    return scimJson(c, await objects.groupResource(await objects.writeGroup(await readJson(c), id)));
  });
  app.patch('/Groups/:id', async (c) => {
    const objects = c.get('objects');
    const id = c.req.param('id');
    const operations = patchOperations(await readJson(c));
    const current = await objects.groupResource(await objects.require<DirectoryGroup>('group', id));
    // Members as `{ value }` only, so a removal naming members by value matches them exactly.
    current.members = (current.members as { value: string }[]).map(({ value }) => ({ value }));
    const patched = applyPatch(current, operations);
    // Members are set by difference (untouched ones are not rewritten); no members left is [].
    const body = { ...patched, members: patched.members ?? [] };
    return scimJson(c, await objects.groupResource(await objects.writeGroup(body, id)));
  });
  app.delete('/Groups/:id', async (c) => {
    await c.get('objects').softDelete('group', c.req.param('id'));
    return c.body(null, 204);
  });
}

function discoveryRoutes(app: Hono<Env>): void {
  const base = (c: Context<Env>) => c.get('objects').base;
  app.get('/ServiceProviderConfig', (c) => scimJson(c, serviceProviderConfig(base(c))));
  app.get('/ResourceTypes', (c) => {
    const all = resourceTypes(base(c));
    return scimJson(c, listResponse(all, all.length, 1));
  });
  app.get('/ResourceTypes/:id', (c) => {
    const found = resourceTypes(base(c)).find((r) => r.id === c.req.param('id'));
    if (!found) throw new ScimHttpError(404, `Resource type ${c.req.param('id')} not found`);
    return scimJson(c, found);
  });
  app.get('/Schemas', (c) => {
    const all = schemas(base(c));
    return scimJson(c, listResponse(all, all.length, 1));
  });
  app.get('/Schemas/:id', (c) => {
    const found = schemas(base(c)).find((s) => s.id === c.req.param('id'));
    if (!found) throw new ScimHttpError(404, `Schema ${c.req.param('id')} not found`);
    return scimJson(c, found);
  });
}

/** The /scim/v2 application; the control API hands it every request under that path. */
export function scimInboundApp(deps: ScimInboundDeps) {
  const app = new Hono<Env>().basePath(SCIM_INBOUND_PATH);
  const logger = deps.logger.child('scim-inbound');
  app.onError((err, c) => {
    const { error, internal } = toScimError(err);
    if (internal) logger.error('SCIM inbound request failed', { method: c.req.method, path: c.req.path, error: err });
    return c.body(JSON.stringify(errorBody(error)), error.status as 400, {
      ...error.headers,
      'Content-Type': CONTENT_TYPE,
    });
  });
  app.notFound(() => {
    throw new ScimHttpError(404, 'No such SCIM endpoint');
  });
  app.use('*', async (c, next) => {
    const source = await authenticate(c, deps);
    c.set('source', source);
    c.set('objects', new ScimObjects(deps.store, source.id, `${new URL(c.req.url).origin}${SCIM_INBOUND_PATH}`));
    await next();
  });
  userRoutes(app, deps.store);
  groupRoutes(app, deps.store);
  discoveryRoutes(app);
  return app;
}
