// SCIM servers written by others, run on 127.0.0.1 for tests: scimmy (+ scimmy-routers on
// express 4) and @better-auth/scim. Both return the same ScimPeer shape so tests (ours and the
// workflow/end-to-end tests of other layers) can run against either.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import { SCIM_GROUP_SCHEMA, SCIM_USER_SCHEMA, type ScimResource } from '../../engine/types.ts';
import { compileScimFilter } from './scim-filter.ts';

// The better-auth peer lives in its own file; it imports only types from here.
export { startBetterAuthPeer } from './scim-better-auth-peer.ts';
export { startFaultProxy, type FaultKind, type FaultProxy, type FaultProxyOptions } from './scim-fault-proxy.ts';

/** One request as the peer saw it. `time` is `performance.now()` at arrival (ms, monotonic). */
export interface RequestLogEntry {
  method: string;
  /** Path and query, e.g. `/scim/v2/Users?filter=...`. */
  path: string;
  time: number;
  /** Response status, filled in when the response is finished. */
  status?: number;
  /** The W3C `traceparent` header the request carried, if any. */
  traceparent?: string;
}

export interface ScimPeer {
  /** SCIM base URL, e.g. `http://127.0.0.1:41234/scim/v2`. */
  baseUrl: string;
  /** Bearer token the peer accepts. */
  token: string;
  /** Users as stored by the peer, in the SCIM shape it serves. */
  users(): Promise<ScimResource[]>;
  groups(): Promise<ScimResource[]>;
  /** Every request that reached the peer, in arrival order. */
  requestLog: RequestLogEntry[];
  close(): Promise<void>;
}

export interface ScimmyExtension {
  /** Schema URN, e.g. `urn:example:params:scim:schemas:extension:acme:2.0:User`. */
  id: string;
  name: string;
  resource: 'User' | 'Group';
  /** String attributes of the extension. */
  attributes: string[];
}

export const GROUPTALK_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:grouptalk:2.0:User';
export const GROUPTALK_GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:extension:grouptalk:2.0:Group';

/** Always declared on the scimmy peer: the GroupTalk extensions used by the gallery template. */
export const GROUPTALK_EXTENSIONS: ScimmyExtension[] = [
  {
    id: GROUPTALK_USER_SCHEMA,
    name: 'GroupTalkUser',
    resource: 'User',
    attributes: ['label1', 'label2', 'label3', 'label4', 'label5', 'costCenter', 'organization'],
  },
  { id: GROUPTALK_GROUP_SCHEMA, name: 'GroupTalkGroup', resource: 'Group', attributes: ['description'] },
];

export interface ScimmyPeerOptions {
  /**
   * More custom extension schemas. scimmy keeps declarations in module-global state, so an
   * extension declared by one peer is visible to every scimmy peer of the same process.
   */
  extensions?: ScimmyExtension[];
  /** Bearer token; random by default. */
  token?: string;
  /**
   * Accept Entra's pre-2018 PATCH values (`"True"`/`"False"` for booleans), as apps built against
   * Entra then do. scimmy itself rejects them (400 invalidValue).
   */
  entra2017Booleans?: boolean;
  /**
   * Behave like a target that takes only PUT: a PATCH request, or a PATCH operation inside a /Bulk
   * request, is answered 405 and changes nothing.
   */
  putOnly?: boolean;
}

function legacyBooleansToBooleans(value: unknown): unknown {
  if (value === 'True') return true;
  if (value === 'False') return false;
  if (Array.isArray(value)) return value.map(legacyBooleansToBooleans);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, legacyBooleansToBooleans(inner)]));
  }
  return value;
}

/** Request log middleware shared by the peers. */
export function requestLogger(log: RequestLogEntry[]) {
  return (req: express.Request, res: express.Response, next: express.NextFunction) => {
    const entry: RequestLogEntry = { method: req.method, path: req.originalUrl, time: performance.now() };
    const traceparent = req.get('traceparent');
    if (traceparent) entry.traceparent = traceparent;
    log.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    next();
  };
}

interface StoredResource {
  id: string;
  created: string;
  lastModified: string;
  data: Record<string, unknown>;
}

interface ScimmyStore {
  Users: Map<string, StoredResource>;
  Groups: Map<string, StoredResource>;
  /** Lower-cased userName / displayName → id, for the uniqueness check. */
  unique: { Users: Map<string, string>; Groups: Map<string, string> };
}

/** Context handed by scimmy-routers to our handlers: which peer, and the filter we took over. */
interface ScimmyContext {
  store: ScimmyStore;
  filter?: (resource: unknown) => boolean;
}

const declaredExtensions = new Set<string>();
let handlersDeclared = false;

function declareExtension(extension: ScimmyExtension): void {
  if (declaredExtensions.has(extension.id)) return;
  declaredExtensions.add(extension.id);
  const definition = new SCIMMY.Types.SchemaDefinition(
    extension.name,
    extension.id,
    `${extension.name} extension (test peer)`,
    extension.attributes.map((name) => new SCIMMY.Types.Attribute('string', name)),
  );
  const resource = extension.resource === 'User' ? SCIMMY.Resources.User : SCIMMY.Resources.Group;
  // scimmy's typings want a Schema class; a SchemaDefinition is accepted at runtime (types.js `extend`).
  resource.extend(definition as unknown as typeof SCIMMY.Types.Schema, false);
}

function plain(value: unknown): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  delete copy.schemas;
  delete copy.meta;
  delete copy.id;
  return copy;
}

function outbound(stored: StoredResource): Record<string, unknown> {
  return {
    ...structuredClone(stored.data),
    id: stored.id,
    meta: { created: stored.created, lastModified: stored.lastModified },
  };
}

function uniqueKey(type: 'Users' | 'Groups', data: Record<string, unknown>): string | undefined {
  const value = type === 'Users' ? data.userName : data.displayName;
  return typeof value === 'string' ? value.toLowerCase() : undefined;
}

function declareHandlers(): void {
  if (handlersDeclared) return;
  handlersDeclared = true;
  SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false);
  for (const extension of GROUPTALK_EXTENSIONS) declareExtension(extension);

  for (const [resourceClass, type] of [
    [SCIMMY.Resources.User, 'Users'],
    [SCIMMY.Resources.Group, 'Groups'],
  ] as const) {
    // scimmy's handler typings are generic over its schema classes; our handlers work on plain JSON.
    const typed = resourceClass as unknown as {
      ingress(handler: (resource: { id?: string }, instance: unknown, ctx: ScimmyContext) => unknown): unknown;
      egress(handler: (resource: { id?: string }, ctx: ScimmyContext) => unknown): unknown;
      degress(handler: (resource: { id?: string }, ctx: ScimmyContext) => unknown): unknown;
    };
    typed.ingress((resource, instance, ctx) => {
      const table = ctx.store[type];
      const index = ctx.store.unique[type];
      const data = plain(instance);
      if (Array.isArray(data.members)) {
        // Membership is a set: adding a member twice (a retried PATCH whose answer was lost) keeps one.
        const seen = new Set<unknown>();
        data.members = data.members.filter(
          (member: { value?: unknown }) => !seen.has(member.value) && seen.add(member.value),
        );
      }
      const key = uniqueKey(type, data);
      const owner = key === undefined ? undefined : index.get(key);
      if (owner !== undefined && owner !== resource.id) {
        throw new SCIMMY.Types.Error(
          409,
          'uniqueness',
          `${type === 'Users' ? 'userName' : 'displayName'} is already taken`,
        );
      }
      const now = new Date().toISOString();
      let stored: StoredResource;
      if (resource.id) {
        const existing = table.get(resource.id);
        if (!existing)
          throw new SCIMMY.Types.Error(404, null as unknown as string, `Resource ${resource.id} not found`);
        const previousKey = uniqueKey(type, existing.data);
        if (previousKey !== undefined) index.delete(previousKey);
        existing.data = data;
        existing.lastModified = now;
        stored = existing;
      } else {
        stored = { id: randomUUID(), created: now, lastModified: now, data };
        table.set(stored.id, stored);
      }
      if (key !== undefined) index.set(key, stored.id);
      return outbound(stored);
    });
    typed.egress((resource, ctx) => {
      const table = ctx.store[type];
      if (resource.id) {
        const stored = table.get(resource.id);
        if (!stored) throw new SCIMMY.Types.Error(404, null as unknown as string, `Resource ${resource.id} not found`);
        return outbound(stored);
      }
      // Filter on a shallow view and copy only the hits: cloning every stored resource for each
      // filtered GET made the peer slow at thousands of users.
      const filter = ctx.filter;
      const hits = [...table.values()].filter((stored) => !filter || filter({ ...stored.data, id: stored.id }));
      return hits.map(outbound);
    });
    typed.degress((resource, ctx) => {
      const stored = resource.id ? ctx.store[type].get(resource.id) : undefined;
      if (!stored) throw new SCIMMY.Types.Error(404, null as unknown as string, `Resource ${resource.id} not found`);
      ctx.store[type].delete(stored.id);
      const key = uniqueKey(type, stored.data);
      if (key !== undefined) ctx.store.unique[type].delete(key);
    });
    SCIMMY.Resources.declare(resourceClass);
  }
}

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
    server.once('error', reject);
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * scimmy + scimmy-routers on express 4 with in-memory storage, bearer auth, the enterprise
 * extension and the GroupTalk extensions. userName / displayName are unique (case-insensitive),
 * as in most real targets. Filtering uses our RFC matcher (see scim-filter.ts), not scimmy's.
 */
export async function startScimmyPeer(options: ScimmyPeerOptions = {}): Promise<ScimPeer> {
  declareHandlers();
  for (const extension of options.extensions ?? []) declareExtension(extension);
  const token = options.token ?? `scimmy-${randomUUID()}`;
  const store: ScimmyStore = { Users: new Map(), Groups: new Map(), unique: { Users: new Map(), Groups: new Map() } };
  const requestLog: RequestLogEntry[] = [];
  const app = express();
  app.use(requestLogger(requestLog));

  if (options.entra2017Booleans) {
    app.use('/scim/v2', express.json({ type: ['application/scim+json', 'application/json'] }), (req, _res, next) => {
      const operations = (req.body as { Operations?: Array<{ value?: unknown }> } | undefined)?.Operations;
      if (req.method === 'PATCH' && Array.isArray(operations)) {
        for (const operation of operations) operation.value = legacyBooleansToBooleans(operation.value);
      }
      next();
    });
  }

  if (options.putOnly) {
    const refusePatch = (res: express.Response) =>
      res
        .status(405)
        .type('application/scim+json')
        .send({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
          status: '405',
          detail: 'This target does not support PATCH; replace resources with PUT',
        });
    app.use('/scim/v2', express.json({ type: ['application/scim+json', 'application/json'] }), (req, res, next) => {
      const operations = (req.body as { Operations?: Array<{ method?: unknown }> } | undefined)?.Operations;
      const bulkPatch =
        req.path === '/Bulk' &&
        Array.isArray(operations) &&
        operations.some((operation) => String(operation.method).toUpperCase() === 'PATCH');
      if (req.method === 'PATCH' || bulkPatch) {
        refusePatch(res);
        return;
      }
      next();
    });
  }

  app.use('/scim/v2', (req, res, next) => {
    // Take the filter away from scimmy before its parser sees it (see scim-filter.ts).
    const filter = req.query.filter;
    if (req.method === 'GET' && typeof filter === 'string') {
      try {
        res.locals.filter = compileScimFilter(filter);
      } catch (error) {
        res
          .status(400)
          .type('application/scim+json')
          .send({
            schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
            status: '400',
            scimType: 'invalidFilter',
            detail: (error as Error).message,
          });
        return;
      }
      delete req.query.filter;
    }
    next();
  });

  app.use(
    '/scim/v2',
    new SCIMMYRouters({
      type: 'bearer',
      docUri: 'https://example.invalid/ferry-test-peer',
      handler: (req) => {
        if (req.header('authorization') !== `Bearer ${token}`) throw new Error('Invalid bearer token');
        return 'ferry';
      },
      context: (req): ScimmyContext => ({
        store,
        filter: (req.res?.locals.filter as ScimmyContext['filter']) ?? undefined,
      }),
    }),
  );

  SCIMMY.Config.set({
    patch: true,
    filter: { supported: true, maxResults: 1000 },
    bulk: { supported: true, maxOperations: 100, maxPayloadSize: 1048576 },
    sort: true,
  });

  const server = await listen(app);
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/scim/v2`,
    token,
    users: async () =>
      [...store.Users.values()].map((stored) => ({ schemas: [SCIM_USER_SCHEMA], ...outbound(stored) })),
    groups: async () =>
      [...store.Groups.values()].map((stored) => ({ schemas: [SCIM_GROUP_SCHEMA], ...outbound(stored) })),
    requestLog,
    close: () => closeServer(server),
  };
}
