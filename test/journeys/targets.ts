// What journeys need around the SCIM servers written by others: seeding accounts over the peer's own
// SCIM API (as an admin of that app would), and a pass-through proxy that lets a journey act just
// before a request reaches the target (e.g. someone creating the same account a moment earlier).
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ScimResource } from '../../engine/types.ts';
import type { ScimPeer } from '../support/scim-peers.ts';

export const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** POSTs a user to the peer through its SCIM API; returns what it stored. */
export async function seedUser(peer: Pick<ScimPeer, 'baseUrl' | 'token'>, user: Record<string, unknown>) {
  const res = await fetch(`${peer.baseUrl}/Users`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${peer.token}`, 'Content-Type': 'application/scim+json' },
    body: JSON.stringify({ schemas: [SCIM_USER], ...user }),
  });
  const body = (await res.json()) as ScimResource;
  if (res.status !== 201)
    throw new Error(`seeding ${String(user.userName)} answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** Users of the peer by lower-cased userName; throws when two share one (a duplicate account). */
export async function usersByName(peer: ScimPeer): Promise<Map<string, ScimResource>> {
  const byName = new Map<string, ScimResource>();
  for (const user of await peer.users()) {
    const name = String(user.userName).toLowerCase();
    if (byName.has(name)) throw new Error(`two target accounts named ${name}`);
    byName.set(name, user);
  }
  return byName;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query as sent. */
  path: string;
  body: Buffer;
}

export interface HookProxy {
  baseUrl: string;
  /** Requests received so far. */
  readonly requests: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Forwards every request to `target` unchanged, awaiting `before(request)` first. */
export async function startHookProxy(
  target: string,
  before: (request: ProxiedRequest) => Promise<void>,
): Promise<HookProxy> {
  const upstream = new URL(target);
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    void (async () => {
      const body = await readBody(req);
      await before({ method: req.method ?? 'GET', path: req.url ?? '/', body });
      const outgoing = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (response) => {
          res.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(res);
        },
      );
      outgoing.on('error', () => res.destroy());
      outgoing.end(body);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${upstream.pathname}`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Holds requests to the target while closed: a journey closes it to keep a cycle in flight
 * ("mid-cycle") for as long as it needs, then opens it and the held requests go on.
 */
export class Gate {
  private closedUntil: Promise<void> | null = null;
  private openIt: (() => void) | null = null;
  /** Requests held right now. */
  held = 0;

  close(): void {
    if (this.closedUntil) return;
    this.closedUntil = new Promise((resolve) => (this.openIt = resolve));
  }

  open(): void {
    this.openIt?.();
    this.closedUntil = null;
    this.openIt = null;
  }

  /** For `startHookProxy`: waits while the gate is closed. */
  pass = async (): Promise<void> => {
    while (this.closedUntil) {
      this.held++;
      try {
        await this.closedUntil;
      } finally {
        this.held--;
      }
    }
  };
}

/**
 * A pass-through proxy that checks the bearer token itself (`accept`, changeable at run time) and
 * sends the peer's own token on: a target whose credentials an admin rotates.
 */
export async function startTokenProxy(peer: Pick<ScimPeer, 'baseUrl' | 'token'>, accept: string) {
  const state = { accept, requests: 0 };
  const upstream = new URL(peer.baseUrl);
  const server = createServer((req, res) => {
    state.requests++;
    if (req.headers.authorization !== `Bearer ${state.accept}`) {
      res.writeHead(401, { 'content-type': 'application/scim+json' });
      res.end(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' }));
      return;
    }
    const outgoing = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host, authorization: `Bearer ${peer.token}` },
      },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    outgoing.on('error', () => res.destroy());
    req.pipe(outgoing);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${upstream.pathname}`,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
