// HTTP for one SCIM target: an undici Agent (one connection pool per origin), timeouts, a cap on
// response size, the https-only rule, and the outbound address policy on every connection it
// opens (address-policy.ts). Knows nothing about SCIM semantics or retries. Redirects are never
// followed: a 3xx comes back as an answer like any other.
import { Agent } from 'undici';
import { ConfigurationError } from '../engine/errors.ts';
import { policyConnector, type NetworkRange, type Resolver } from './address-policy.ts';

export interface TransportTimeouts {
  /** TCP + TLS connect. Default 10 s. */
  connectMs?: number;
  /** From request sent to response headers. Default 30 s. */
  headersMs?: number;
  /** Maximum idle time between body chunks. Default 30 s. */
  bodyMs?: number;
}

export interface TransportOptions {
  timeouts?: TransportTimeouts;
  /** Default 10 MiB. */
  maxResponseBytes?: number;
  /** Connections per origin. */
  connections: number;
  /** Loopback addresses may be connected to, and plain http to a loopback host name is allowed. */
  allowInsecureLoopback?: boolean;
  /** Where Ferry may connect besides public addresses (see OutboundOptions). */
  outbound?: OutboundOptions;
}

/** The operator's widening of the outbound address policy, and the resolver (tests stand one in). */
export interface OutboundOptions {
  /** FERRY_ALLOWED_TARGET_NETWORKS: networks allowed although private, link-local, … */
  allowedNetworks?: readonly NetworkRange[];
  /** Name resolution at connect time; default the system's. */
  resolve?: Resolver;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Thrown when the response body exceeds the cap; the connection is dropped. */
export class ResponseTooLargeError extends Error {
  readonly code = 'FERRY_RESPONSE_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`SCIM response exceeds ${limit} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Reject URLs Ferry must not send credentials to: anything but https, except loopback when allowed. */
export function assertSendableUrl(url: URL, allowInsecureLoopback: boolean, what: string): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && allowInsecureLoopback && isLoopbackHost(url.hostname)) return;
  throw new ConfigurationError(
    `${what} must use https${url.protocol === 'http:' ? ' (plain http is allowed only for loopback targets with allowInsecureLoopback)' : ''}`,
    { code: 'InvalidDomain' },
  );
}

export class Transport {
  private readonly agent: Agent;
  private readonly maxResponseBytes: number;
  readonly allowInsecureLoopback: boolean;

  constructor(options: TransportOptions) {
    const timeouts = options.timeouts ?? {};
    this.maxResponseBytes = options.maxResponseBytes ?? 10 * 1024 * 1024;
    this.allowInsecureLoopback = options.allowInsecureLoopback ?? false;
    this.agent = new Agent({
      connections: options.connections,
      connect: policyConnector({
        policy: { allowLoopback: this.allowInsecureLoopback, allowedNetworks: options.outbound?.allowedNetworks ?? [] },
        timeoutMs: timeouts.connectMs ?? 10_000,
        resolve: options.outbound?.resolve,
      }),
      headersTimeout: timeouts.headersMs ?? 30_000,
      bodyTimeout: timeouts.bodyMs ?? 30_000,
      keepAliveTimeout: 10_000,
      // undici stops reading past the cap (a body without content-length included).
      maxResponseSize: this.maxResponseBytes,
    });
  }

  /** Send one request. Network failures reject with the undici/Node error (classified by the caller). */
  async send(request: HttpRequest): Promise<HttpResponse> {
    assertSendableUrl(request.url, this.allowInsecureLoopback, 'SCIM URL');
    const response = await this.agent.request({
      origin: request.url.origin,
      path: request.url.pathname + request.url.search,
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.maxResponseBytes) {
      response.body.destroy();
      throw new ResponseTooLargeError(this.maxResponseBytes);
    }
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      if ((error as { code?: unknown }).code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE')
        throw new ResponseTooLargeError(this.maxResponseBytes);
      throw error;
    }
    return { status: response.statusCode, headers: response.headers, text };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
