// A fast, in-memory SCIM 2.0 service provider on loopback, for benchmarks and the demo
// (correctness tests use third-party SCIM servers). Plain node:http, no framework: the point
// is that the target is never the bottleneck when measuring Ferry.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyPatch, type PatchOperation } from './patch.ts';
import { PathError, getAttr, isObject, parseEqFilter, type EqClause, type Json, type JsonObject } from './paths.ts';
import { ResourceTable, memberIds, type ResourceType } from './store.ts';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
const SCIM_JSON = 'application/scim+json';
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const DEFAULT_COUNT = 100;
const MAX_COUNT = 1000;

export interface ScimTargetOptions {
  /** 0 (default) = chosen by the OS. */
  port?: number;
  host?: string;
  /** Bearer token clients must send; random when omitted. */
  token?: string;
  /**
   * Milliseconds every answer waits before it is sent (default 0): the think time and network of a
   * real SaaS endpoint, so a benchmark can measure a client that waits on the target, not on itself.
   */
  latencyMs?: number;
  /** Called as each request arrives, before it is read or answered (e.g. to count arrivals per second). */
  onRequest?: (request: { method: string; url: string }) => void;
  /**
   * Serve `/Bulk` and advertise it in `/ServiceProviderConfig` (default: not served, not advertised).
   * `unavailable`: advertised, but every POST /Bulk answers 501 (a target whose configuration
   * promises more than it serves). `stopAfterErrors`: a request stops after this many errors,
   * whatever its `failOnErrors` says (a target with a limit of its own).
   */
  bulk?: { maxOperations?: number; maxPayloadSize?: number; unavailable?: boolean; stopAfterErrors?: number };
  /**
   * Fault injection for tests: called before every write (POST, PUT, PATCH, DELETE on /Users or
   * /Groups, on its own or inside /Bulk); a returned error refuses the write with it.
   */
  refuse?: (write: ScimTargetWrite) => { status: number; scimType?: string; detail: string } | null | undefined;
}

export interface ScimTargetWrite {
  method: string;
  type: ResourceType;
  /** The resource's id (null for a POST). */
  id: string | null;
  /** The request body (resource or PatchOp), null for DELETE. */
  resource: JsonObject | null;
}

export interface ScimTargetStats {
  /** Every request received, authenticated or not. */
  requests: number;
  /** Per route, e.g. `GET /Users`, `GET /Users/{id}`, `POST /Users`, `PATCH /Groups/{id}`. */
  byRoute: Record<string, number>;
  /** Per response status. */
  byStatus: Record<string, number>;
  /** Operations carried out (or failed) inside /Bulk requests. */
  bulkOperations: number;
}

export interface ScimTarget {
  /** e.g. http://127.0.0.1:41234/scim/v2 */
  baseUrl: string;
  token: string;
  close(): Promise<void>;
  stats(): ScimTargetStats;
  users(): JsonObject[];
  groups(): JsonObject[];
  /** Forgets every resource and zeroes the counters. */
  reset(): void;
}

class ScimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?: string,
  ) {
    super(message);
  }
}

const DEFAULT_BULK_MAX_OPERATIONS = 1000;
const DEFAULT_BULK_MAX_PAYLOAD = 1024 * 1024;

const SERVICE_PROVIDER_CONFIG = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: MAX_COUNT },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: false },
  authenticationSchemes: [
    {
      type: 'oauthbearertoken',
      name: 'OAuth Bearer Token',
      description: 'Authorization: Bearer <token>',
      primary: true,
    },
  ],
  meta: { resourceType: 'ServiceProviderConfig' },
};

export function startScimTarget(options: ScimTargetOptions = {}): Promise<ScimTarget> {
  const token = options.token ?? randomBytes(18).toString('base64url');
  const expectedAuth = `Bearer ${token}`;
  const tables: Record<ResourceType, ResourceTable> = {
    User: new ResourceTable('User'),
    Group: new ResourceTable('Group'),
  };
  /** userId → ids of the groups it is a direct member of. */
  const memberOf = new Map<string, Set<string>>();
  let stats: ScimTargetStats = { requests: 0, byRoute: {}, byStatus: {}, bulkOperations: 0 };
  const bulk = options.bulk
    ? {
        maxOperations: options.bulk.maxOperations ?? DEFAULT_BULK_MAX_OPERATIONS,
        maxPayloadSize: options.bulk.maxPayloadSize ?? DEFAULT_BULK_MAX_PAYLOAD,
        unavailable: options.bulk.unavailable === true,
        stopAfterErrors: options.bulk.stopAfterErrors ?? Infinity,
      }
    : null;
  const serviceProviderConfig = bulk
    ? {
        ...SERVICE_PROVIDER_CONFIG,
        bulk: { supported: true, maxOperations: bulk.maxOperations, maxPayloadSize: bulk.maxPayloadSize },
      }
    : SERVICE_PROVIDER_CONFIG;
  let versionCounter = 0;
  let baseUrl = '';

  const location = (type: ResourceType, id: string) => `${baseUrl}/${type}s/${id}`;

  const stamp = (resource: JsonObject, type: ResourceType, created?: Json) => {
    const now = new Date().toISOString();
    resource.meta = {
      resourceType: type,
      created: created ?? now,
      lastModified: now,
      location: location(type, resource.id as string),
      version: `W/"${++versionCounter}"`,
    };
  };

  const trackMembers = (groupId: string, before: string[], after: string[]) => {
    for (const id of before) memberOf.get(id)?.delete(groupId);
    for (const id of after) {
      let set = memberOf.get(id);
      if (!set) memberOf.set(id, (set = new Set()));
      set.add(groupId);
    }
  };

  const checkUnique = (type: ResourceType, resource: JsonObject, selfId: string | null) => {
    if (type !== 'User') return;
    const userName = getAttr(resource, 'userName');
    if (typeof userName !== 'string' || userName.trim() === '') {
      throw new ScimError(400, 'userName is required', 'invalidValue');
    }
    const holders = tables.User.lookup('userName', userName) ?? [];
    if (holders.some((id) => id !== selfId))
      throw new ScimError(409, `userName ${userName} is already taken`, 'uniqueness');
  };

  const validate = (type: ResourceType, resource: JsonObject, selfId: string | null) => {
    if (type === 'Group') {
      const name = getAttr(resource, 'displayName');
      if (typeof name !== 'string' || name.trim() === '')
        throw new ScimError(400, 'displayName is required', 'invalidValue');
    }
    checkUnique(type, resource, selfId);
  };

  const create = (type: ResourceType, body: JsonObject): JsonObject => {
    const resource: JsonObject = { ...body };
    delete resource.id;
    delete resource.meta;
    validate(type, resource, null);
    resource.id = randomUUID();
    if (!Array.isArray(resource.schemas)) resource.schemas = [type === 'User' ? USER_SCHEMA : GROUP_SCHEMA];
    stamp(resource, type);
    tables[type].put(resource);
    if (type === 'Group') trackMembers(resource.id as string, [], memberIds(resource));
    return resource;
  };

  const existing = (type: ResourceType, id: string): JsonObject => {
    const resource = tables[type].byId.get(id);
    if (!resource) throw new ScimError(404, `${type} ${id} not found`);
    return resource;
  };

  const replace = (type: ResourceType, id: string, next: JsonObject, previous: JsonObject) => {
    next.id = id;
    validate(type, next, id);
    stamp(next, type, isObject(previous.meta) ? previous.meta.created : undefined);
    tables[type].put(next);
    if (type === 'Group') trackMembers(id, memberIds(previous), memberIds(next));
    return next;
  };

  const remove = (type: ResourceType, id: string) => {
    const gone = tables[type].remove(id);
    if (!gone) throw new ScimError(404, `${type} ${id} not found`);
    if (type === 'Group') {
      trackMembers(id, memberIds(gone), []);
      return;
    }
    for (const groupId of memberOf.get(id) ?? []) {
      const group = tables.Group.byId.get(groupId);
      if (!group) continue;
      const key = Object.keys(group).find((k) => k.toLowerCase() === 'members') ?? 'members';
      group[key] = (group[key] as Json[]).filter((m) => !(isObject(m) && m.value === id));
    }
    memberOf.delete(id);
  };

  const shape = (resource: JsonObject, query: URLSearchParams): JsonObject => {
    const excluded = (query.get('excludedAttributes') ?? '').toLowerCase().split(',').filter(Boolean);
    const only = (query.get('attributes') ?? '').toLowerCase().split(',').filter(Boolean);
    if (excluded.length === 0 && only.length === 0) return resource;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(resource)) {
      const lower = key.toLowerCase();
      const always = lower === 'id' || lower === 'schemas' || lower === 'meta';
      if (!always && excluded.includes(lower)) continue;
      if (!always && only.length > 0 && !only.some((a) => a === lower || a.startsWith(`${lower}.`))) continue;
      out[key] = value;
    }
    return out;
  };

  const list = (type: ResourceType, query: URLSearchParams) => {
    const filter = query.get('filter');
    let clauses: EqClause[] = [];
    if (filter) {
      try {
        clauses = parseEqFilter(filter);
      } catch (error) {
        throw new ScimError(400, (error as Error).message, 'invalidFilter');
      }
    }
    const table = tables[type];
    const all = clauses.length > 0 ? table.find(clauses) : null;
    const total = all ? all.length : table.byId.size;
    const startIndex = Math.max(1, Number.parseInt(query.get('startIndex') ?? '1', 10) || 1);
    const countParam = query.get('count');
    const count = Math.min(
      MAX_COUNT,
      Math.max(0, countParam === null ? DEFAULT_COUNT : Number.parseInt(countParam, 10) || 0),
    );
    let page: JsonObject[];
    if (all) page = all.slice(startIndex - 1, startIndex - 1 + count);
    else {
      page = [];
      let i = 0;
      for (const resource of table.byId.values()) {
        if (i++ < startIndex - 1) continue;
        if (page.length >= count) break;
        page.push(resource);
      }
    }
    return {
      schemas: [LIST_SCHEMA],
      totalResults: total,
      startIndex,
      itemsPerPage: page.length,
      Resources: page.map((r) => shape(r, query)),
    };
  };

  /** Fault injection (`refuse`): the error a write is refused with, if any. */
  const refused = (method: string, type: ResourceType, id: string | null, body: JsonObject | null) => {
    const refusal = options.refuse?.({ method, type, id, resource: body });
    if (refusal) throw new ScimError(refusal.status, refusal.detail, refusal.scimType);
  };

  /** One request on /Users or /Groups, its body already read (also each operation of a /Bulk). */
  const resourceRequest = (
    method: string,
    path: string,
    query: URLSearchParams,
    body: JsonObject | null,
  ): [number, JsonObject | null] => {
    const segments = path.split('/').filter(Boolean);
    const [first, id, extra] = segments;
    const type: ResourceType | null = first === 'Users' ? 'User' : first === 'Groups' ? 'Group' : null;
    if (!type || extra !== undefined) throw new ScimError(404, `No endpoint ${path}`);
    const payload = () => {
      if (!body) throw new ScimError(400, 'Body must be a JSON object', 'invalidSyntax');
      return body;
    };
    if (method !== 'GET') refused(method, type, id ?? null, body);

    if (id === undefined) {
      if (method === 'GET') return [200, list(type, query)];
      if (method === 'POST') return [201, create(type, payload())];
      throw new ScimError(405, `${method} not allowed on /${first}`);
    }
    if (method === 'GET') return [200, shape(existing(type, id), query)];
    if (method === 'DELETE') {
      remove(type, id);
      return [204, null];
    }
    if (method === 'PUT') {
      const previous = existing(type, id);
      const next = { ...payload() };
      delete next.meta;
      return [200, replace(type, id, next, previous)];
    }
    if (method === 'PATCH') {
      const previous = existing(type, id);
      const operations = getAttr(payload(), 'Operations');
      const schemas = payload().schemas;
      if (!Array.isArray(operations) || (Array.isArray(schemas) && !schemas.includes(PATCH_SCHEMA))) {
        throw new ScimError(400, 'Expected a PatchOp with Operations', 'invalidSyntax');
      }
      const next = structuredClone(previous);
      try {
        applyPatch(next, operations as unknown as PatchOperation[]);
      } catch (error) {
        if (error instanceof PathError) throw new ScimError(400, error.message, error.scimType);
        throw error;
      }
      return [200, replace(type, id, next, previous)];
    }
    throw new ScimError(405, `${method} not allowed`);
  };

  /**
   * POST /Bulk (RFC 7644 §3.7): the operations in order, each like its own request; `bulkId:<id>`
   * in a later operation's path or data names the resource an earlier POST of the request created.
   * After `failOnErrors` errors the rest is not run (and not in the answer).
   */
  const bulkRequest = (body: JsonObject, size: number): [number, JsonObject] => {
    if (!bulk || bulk.unavailable) throw new ScimError(501, 'Bulk is not supported');
    const operations = getAttr(body, 'Operations');
    if (!Array.isArray(operations)) throw new ScimError(400, 'Expected a BulkRequest with Operations', 'invalidSyntax');
    if (operations.length > bulk.maxOperations || size > bulk.maxPayloadSize) {
      throw new ScimError(
        413,
        `A bulk request may carry ${bulk.maxOperations} operations and ${bulk.maxPayloadSize} bytes; this one has ${operations.length} and ${size}`,
      );
    }
    const failOnErrors = getAttr(body, 'failOnErrors');
    const stopAfter = Math.min(
      bulk.stopAfterErrors,
      typeof failOnErrors === 'number' && failOnErrors > 0 ? failOnErrors : Infinity,
    );
    const created = new Map<string, string>();
    const resolve = (text: string) =>
      text.replace(/bulkId:([A-Za-z0-9._~-]+)/g, (whole, bulkId: string) => created.get(bulkId) ?? whole);
    const results: JsonObject[] = [];
    let errors = 0;
    for (const entry of operations) {
      if (errors >= stopAfter) break;
      const operation = isObject(entry) ? entry : {};
      const method = String(operation.method ?? '').toUpperCase();
      const bulkId = typeof operation.bulkId === 'string' ? operation.bulkId : undefined;
      const result: JsonObject = { method, ...(bulkId ? { bulkId } : {}) };
      try {
        const path = resolve(String(operation.path ?? ''));
        const data = isObject(operation.data)
          ? (JSON.parse(resolve(JSON.stringify(operation.data))) as JsonObject)
          : null;
        if (method === 'POST' && !bulkId) throw new ScimError(400, 'A bulk POST needs a bulkId', 'invalidValue');
        const [status, resource] = resourceRequest(method, path, new URLSearchParams(), data);
        if (resource && isObject(resource.meta)) {
          result.location = resource.meta.location as string;
          if (method === 'POST' && bulkId) created.set(bulkId, resource.id as string);
        } else if (method !== 'POST') result.location = `${baseUrl}${path}`;
        result.status = String(status);
      } catch (error) {
        errors++;
        const status = error instanceof ScimError ? error.status : 500;
        result.status = String(status);
        result.response = {
          schemas: [ERROR_SCHEMA],
          status: String(status),
          ...(error instanceof ScimError && error.scimType ? { scimType: error.scimType } : {}),
          detail: error instanceof Error ? error.message : String(error),
        };
      }
      results.push(result);
    }
    stats.bulkOperations += results.length;
    return [200, { schemas: [BULK_RESPONSE_SCHEMA], Operations: results }];
  };

  const handle = async (req: IncomingMessage, path: string, query: URLSearchParams): Promise<[number, unknown]> => {
    const segments = path.split('/').filter(Boolean);
    const [first] = segments;
    const method = req.method ?? 'GET';
    if (segments.length === 1 && first === 'ServiceProviderConfig' && method === 'GET')
      return [200, serviceProviderConfig];
    if (segments.length === 1 && first === 'ResourceTypes' && method === 'GET') {
      const types = [
        { id: 'User', name: 'User', endpoint: '/Users', schema: USER_SCHEMA },
        { id: 'Group', name: 'Group', endpoint: '/Groups', schema: GROUP_SCHEMA },
      ].map((t) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'], ...t }));
      return [200, { schemas: [LIST_SCHEMA], totalResults: 2, startIndex: 1, itemsPerPage: 2, Resources: types }];
    }
    if (segments.length === 1 && first === 'Bulk') {
      if (method !== 'POST') throw new ScimError(405, `${method} not allowed on /Bulk`);
      if (!bulk) throw new ScimError(404, 'No endpoint /Bulk');
      const { value, size } = await readJsonSized(req);
      return bulkRequest(value, size);
    }
    const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? await readJson(req) : null;
    return resourceRequest(method, path, query, body);
  };

  const routeName = (method: string, path: string) => {
    const segments = path.split('/').filter(Boolean);
    return `${method} /${segments[0] ?? ''}${segments.length > 1 ? '/{id}' : ''}`;
  };

  const latencyMs = options.latencyMs ?? 0;
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`latencyMs must be a number ≥ 0, got ${latencyMs}`);
  const send = (res: ServerResponse, status: number, body: unknown) => {
    if (latencyMs > 0) setTimeout(() => sendNow(res, status, body), latencyMs);
    else sendNow(res, status, body);
  };

  const sendNow = (res: ServerResponse, status: number, body: unknown) => {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    if (body === null) {
      res.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    const headers: Record<string, string | number> = {
      'Content-Type': SCIM_JSON,
      'Content-Length': Buffer.byteLength(text),
    };
    if (status === 201 && isObject(body) && isObject(body.meta)) headers.Location = String(body.meta.location);
    res.writeHead(status, headers).end(text);
  };

  const sendError = (res: ServerResponse, status: number, detail: string, scimType?: string) =>
    send(res, status, { schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail });

  const server = createServer((req, res) => {
    stats.requests++;
    options.onRequest?.({ method: req.method ?? 'GET', url: req.url ?? '/' });
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q === -1 ? url : url.slice(0, q);
    if (path.startsWith('/scim/v2')) path = path.slice('/scim/v2'.length) || '/';
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    const route = routeName(req.method ?? 'GET', path);
    stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1;

    if (req.headers.authorization !== expectedAuth) {
      req.resume();
      sendError(res, 401, 'Missing or invalid bearer token');
      return;
    }
    handle(req, path, query).then(
      ([status, body]) => send(res, status, body),
      (error: unknown) => {
        if (error instanceof ScimError) sendError(res, error.status, error.message, error.scimType);
        else sendError(res, 500, error instanceof Error ? error.message : String(error));
      },
    );
  });
  server.keepAliveTimeout = 10_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const host = options.host ?? '127.0.0.1';
    server.listen(options.port ?? 0, host, () => {
      const { port } = server.address() as AddressInfo;
      baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}/scim/v2`;
      resolve({
        baseUrl,
        token,
        close: () =>
          new Promise<void>((done, fail) => {
            server.closeAllConnections();
            server.close((error) => (error ? fail(error) : done()));
          }),
        stats: () => structuredClone(stats),
        users: () => structuredClone([...tables.User.byId.values()]),
        groups: () => structuredClone([...tables.Group.byId.values()]),
        reset: () => {
          tables.User.clear();
          tables.Group.clear();
          memberOf.clear();
          stats = { requests: 0, byRoute: {}, byStatus: {}, bulkOperations: 0 };
        },
      });
    });
  });
}

async function readJson(req: IncomingMessage): Promise<JsonObject> {
  return (await readJsonSized(req)).value;
}

/** The JSON object of a request body and its size in bytes. */
function readJsonSized(req: IncomingMessage): Promise<{ value: JsonObject; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ScimError(413, 'Request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
        if (!isObject(value)) throw new Error('not an object');
        resolve({ value, size });
      } catch {
        reject(new ScimError(400, 'Body must be a JSON object', 'invalidSyntax'));
      }
    });
    req.on('error', reject);
  });
}
