// @better-auth/scim 1.7.5 on better-auth's in-memory adapter, served by node:http on 127.0.0.1.
// Tokens: the plugin's managed connection catalog issues them — `createSCIMManagedConnection`
// (a server-only endpoint) creates a provisioning connection and returns its bearer credential.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scim } from '@better-auth/scim';
import { getAuthTables } from '@better-auth/core/db';
import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { toNodeHandler } from 'better-auth/node';
import type { ScimResource } from '../../engine/types.ts';
import type { RequestLogEntry, ScimPeer } from './scim-peers.ts';

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * @better-auth/scim peer: strict but narrow (only `eq` filters on a few attributes, no custom
 * extensions). `users()` / `groups()` read back through the peer's own SCIM API.
 */
export async function startBetterAuthPeer(): Promise<ScimPeer> {
  const database: Record<string, Record<string, unknown>[]> = {};
  const requestLog: RequestLogEntry[] = [];
  let baseURL = 'http://127.0.0.1';
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseURL = `http://127.0.0.1:${port}`;

  const plugins = [
    scim({
      connections: [],
      managedConnections: { credentialHashSecret: randomBytes(32).toString('hex') },
    }),
  ];
  // The memory adapter needs every table to exist up front.
  for (const table of Object.values(getAuthTables({ plugins }))) database[table.modelName] = [];
  const auth = betterAuth({
    baseURL,
    secret: randomBytes(32).toString('hex'),
    database: memoryAdapter(database),
    logger: { disabled: true },
    rateLimit: { enabled: false },
    plugins,
  });

  const created = (await auth.api.createSCIMManagedConnection({
    body: {
      creationRequestId: randomUUID(),
      provisioningDomainId: 'ferry-tests',
      actorId: 'ferry-tests',
      scopes: ['scim.users.read', 'scim.users.write', 'scim.groups.read', 'scim.groups.write'],
      expiresAt: new Date(Date.now() + 24 * 3600 * 1000),
    },
  })) as { token: string };
  const token = created.token;

  const handler = toNodeHandler(auth);
  server.on('request', (req, res) => {
    const entry: RequestLogEntry = { method: req.method ?? 'GET', path: req.url ?? '/', time: performance.now() };
    requestLog.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    void handler(req, res);
  });

  const scimBase = `${baseURL}/api/auth/scim/v2`;

  async function readAll(type: 'Users' | 'Groups'): Promise<ScimResource[]> {
    const all: ScimResource[] = [];
    for (let startIndex = 1; ;) {
      const response = await fetch(`${scimBase}/${type}?startIndex=${startIndex}&count=100`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/scim+json' },
      });
      const body = (await response.json()) as { Resources?: ScimResource[]; totalResults?: number };
      const page = body.Resources ?? [];
      all.push(...page);
      startIndex += page.length;
      if (page.length === 0 || startIndex > (body.totalResults ?? 0)) return all;
    }
  }

  return {
    baseUrl: scimBase,
    token,
    users: () => readAll('Users'),
    groups: () => readAll('Groups'),
    requestLog,
    close: () => closeServer(server),
  };
}
