// One HTTP attempt at the target: the URL, the Authorization header, the rate gate, the transport,
// the answer parsed. Never retries and never throws for network errors: the retry policy decides.
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { networkErrorCode } from './classify.ts';
import type { AuthProvider } from './auth.ts';
import type { AttemptOutcome, ClientCounters, ClientLog, Exchange } from './exchange.ts';
import type { RateGate } from './rate-gate.ts';
import type { Transport } from './transport.ts';
import { uriComponent } from './uri.ts';

const SCIM_CONTENT_TYPE = 'application/scim+json';

/** No-op until the process starts tracing (telemetry/tracing.ts). */
const tracer = trace.getTracer('ferry-scim');

/**
 * Runs one request in a client span named for its method. The span carries the path, never the
 * query (SCIM filters hold user names), and the request sends its `traceparent` to the target.
 */
function traced<T>(method: string, url: URL, attemptNumber: number, send: (span: Span) => Promise<T>): Promise<T> {
  const attributes = {
    'http.request.method': method,
    'server.address': url.hostname,
    'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    'url.path': url.pathname,
    'http.request.resend_count': attemptNumber - 1,
  };
  return tracer.startActiveSpan(`SCIM ${method}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await send(span);
    } finally {
      span.end();
    }
  });
}

export interface RequestDeps {
  baseUrl: URL;
  transport: Transport;
  gate: RateGate;
  auth: AuthProvider;
  log: ClientLog;
  counters: ClientCounters;
}

export interface Requester {
  /** The target URL of a path below the base URL, with its query. */
  urlFor(path: string, query?: Record<string, string | undefined>): URL;
  /** One HTTP attempt, through the rate gate; never throws for network errors. */
  attempt(exchange: Exchange, attemptNumber: number): Promise<AttemptOutcome>;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | null {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function createRequester({ baseUrl, transport, gate, auth, log, counters }: RequestDeps): Requester {
  const basePath = baseUrl.pathname.replace(/\/+$/, '');

  function urlFor(path: string, query?: Record<string, string | undefined>): URL {
    // encodeURIComponent, not URLSearchParams: some targets do not read `+` as a space in filters.
    const search = Object.entries(query ?? {})
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([key, value]) => `${key}=${uriComponent(value, `The ${key} value`)}`)
      .join('&');
    return new URL(baseUrl.origin + basePath + path + (search ? `?${search}` : ''));
  }

  async function attempt(exchange: Exchange, attemptNumber: number): Promise<AttemptOutcome> {
    const url = urlFor(exchange.path, exchange.query);
    let authorization: string;
    try {
      authorization = await auth.authorization();
    } catch (error) {
      // The OAuth token endpoint failed: nothing was sent to the target.
      return { kind: 'network', error, unsent: true };
    }
    const queued = Date.now();
    const release = await gate.acquire();
    const started = Date.now();
    const waitMs = started - queued;
    const logPath = url.pathname + url.search;
    counters.requests++;
    try {
      return await traced(exchange.method, url, attemptNumber, send);
    } finally {
      release();
    }

    async function send(span: Span): Promise<AttemptOutcome> {
      const headers: Record<string, string> = { authorization, accept: `${SCIM_CONTENT_TYPE}, application/json` };
      if (exchange.body !== undefined) headers['content-type'] = SCIM_CONTENT_TYPE;
      propagation.inject(context.active(), headers);
      try {
        const response = await transport.send({
          method: exchange.method,
          url,
          headers,
          body: exchange.body === undefined ? undefined : JSON.stringify(exchange.body),
        });
        log({
          type: 'request',
          method: exchange.method,
          path: logPath,
          status: response.status,
          durationMs: Date.now() - started,
          attempt: attemptNumber,
          waitMs,
        });
        span.setAttribute('http.response.status_code', response.status);
        if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        return {
          kind: 'response',
          status: response.status,
          body: parseJson(response.text),
          text: response.text,
          retryAfter: header(response.headers, 'retry-after'),
          contentType: header(response.headers, 'content-type') ?? '',
        };
      } catch (error) {
        const code = networkErrorCode(error) ?? (error instanceof Error ? error.name : 'Error');
        log({
          type: 'request',
          method: exchange.method,
          path: logPath,
          durationMs: Date.now() - started,
          attempt: attemptNumber,
          error: code,
          waitMs,
        });
        span.setAttribute('error.type', code);
        span.setStatus({ code: SpanStatusCode.ERROR });
        return { kind: 'network', error };
      }
    }
  }

  return { urlFor, attempt };
}
