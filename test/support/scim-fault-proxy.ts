// A fault-injecting HTTP proxy for SCIM tests: put it in front of any peer and a seeded share of
// requests fails the way real targets fail. Deterministic for a given seed and request order.
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from './seeded-random.ts';

export type FaultKind =
  /** Answer with this status without forwarding (the target never saw the request). */
  | 500
  | 502
  | 503
  | 504
  /** 429 with `Retry-After` (seconds, see `retryAfterSeconds`) without forwarding. */
  | 429
  /** Forward, let the target answer, then hold the answer `delayMs` (past the client's timeout). */
  | 'delay'
  /** Destroy the client connection without forwarding. */
  | 'reset'
  /** Forward, let the target commit, then destroy the client connection: the answer is lost. */
  | 'commitThenDrop';

export interface FaultProxyOptions {
  /** Base URL of the peer, e.g. `peer.baseUrl`; the proxy keeps the path. */
  target: string;
  /** Share of requests that get a fault, 0..1. */
  faultRate: number;
  seed: number;
  /** Fault kinds to draw from (uniformly). */
  faults: FaultKind[];
  /** Retry-After for 429/503 faults, in seconds. Default 1. */
  retryAfterSeconds?: number;
  /** Hold time for `delay`. Default 1500 ms. */
  delayMs?: number;
  /** Faults for the first requests, in this order, whatever the rate (e.g. to fault a cycle's probe). */
  faultFirst?: FaultKind[];
  /**
   * Chooses a fault for each request, whatever the rate (e.g. the 10th PATCH of a group); undefined
   * leaves the request to `faultFirst` and the rate. Called once per request, in arrival order.
   */
  faultFor?: (request: { method: string; url: string }) => FaultKind | undefined;
  /**
   * Requests this says yes to wait, before they are forwarded, until `release()` (a target slow on
   * one kind of request for exactly as long as a test needs, without a timer).
   */
  hold?: (request: { method: string; url: string }) => boolean;
}

export interface FaultProxy {
  /** Same path as the target, through the proxy. */
  baseUrl: string;
  /** Faults injected, per kind. */
  counts: Record<string, number>;
  /** Requests passed to the target (including `delay` and `commitThenDrop`). */
  forwarded: number;
  /** `performance.now()` when each 429 answer was written. */
  throttledAt: number[];
  /** Change the fault rate at run time (e.g. 0 to let verification through). */
  setFaultRate(rate: number): void;
  /** Requests waiting on `hold` now. */
  held: number;
  /** Lets the held requests (and every later one `hold` matches) through. */
  release(): void;
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

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const random = seededRandom(options.seed);
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  const delayMs = options.delayMs ?? 1500;
  let faultRate = options.faultRate;
  const firstFaults = [...(options.faultFirst ?? [])];
  const upstream = new Agent({ keepAlive: true, maxSockets: 64 });
  const timers = new Set<NodeJS.Timeout>();
  const state: Pick<FaultProxy, 'counts' | 'forwarded' | 'throttledAt' | 'held'> = {
    counts: {},
    forwarded: 0,
    throttledAt: [],
    held: 0,
  };
  let released = false;
  const waiting: (() => void)[] = [];

  function forward(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
    state.forwarded++;
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host };
      const outgoing = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent: upstream },
        (response) => {
          readBody(response).then(
            (responseBody) =>
              resolve({ status: response.statusCode ?? 502, headers: response.headers, body: responseBody }),
            reject,
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  function answer(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
    res.writeHead(status, headers);
    res.end(body);
  }

  function scimError(status: number): string {
    return JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: String(status),
      detail: 'injected fault',
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (!released && options.hold?.({ method: req.method ?? 'GET', url: req.url ?? '/' })) {
      state.held++;
      await new Promise<void>((resolve) => waiting.push(resolve));
      state.held--;
    }
    const chosen = options.faultFor?.({ method: req.method ?? 'GET', url: req.url ?? '/' });
    const first = chosen ?? firstFaults.shift();
    const fault =
      first ?? (random() < faultRate ? options.faults[Math.floor(random() * options.faults.length)] : undefined);
    if (fault !== undefined) state.counts[String(fault)] = (state.counts[String(fault)] ?? 0) + 1;

    if (typeof fault === 'number') {
      const headers: Record<string, string> = { 'content-type': 'application/scim+json' };
      if (fault === 429 || fault === 503) headers['retry-after'] = retryAfter;
      answer(res, fault, headers, scimError(fault));
      if (fault === 429) state.throttledAt.push(performance.now());
      return;
    }
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    let response;
    try {
      response = await forward(req, body);
    } catch {
      answer(res, 502, { 'content-type': 'application/scim+json' }, scimError(502));
      return;
    }
    if (fault === 'commitThenDrop') {
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined && !['connection', 'keep-alive', 'transfer-encoding', 'content-length'].includes(name)) {
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
    }
    if (fault === 'delay') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, delayMs);
        timers.add(timer);
      });
      if (res.destroyed) return;
    }
    answer(res, response.status, headers, response.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}${target.pathname}`,
    get counts() {
      return state.counts;
    },
    get forwarded() {
      return state.forwarded;
    },
    get throttledAt() {
      return state.throttledAt;
    },
    get held() {
      return state.held;
    },
    setFaultRate(rate: number) {
      faultRate = rate;
    },
    release() {
      released = true;
      for (const resolve of waiting.splice(0)) resolve();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const resolve of waiting.splice(0)) resolve();
        upstream.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
