// The SCIM 2.0 client every write to a customer's app goes through (DESIGN.md §4, issue 4).
// One client per app: its own connection pool, rate limit, concurrency limit and Retry-After pause.
import { randomUUID } from 'node:crypto';
import { ConfigurationError, ConflictError, FerryError, PermanentError, TransientError } from '../engine/errors.ts';
import type { CompatibilityProfile, PatchOperation, ScimResource } from '../engine/types.ts';
import { SCIM_LIST_RESPONSE_SCHEMA } from '../engine/types.ts';
import { createAuthProvider, type ScimAuth } from './auth.ts';
import { classifyScimFailure, networkErrorCode, networkFailureReason, tlsFailureReason } from './classify.ts';
import { eqFilter } from './filter.ts';
import { applyPatch, toPatchOpMessage } from './patch.ts';
import { RateGate } from './rate-gate.ts';
import {
  bulkResponseSchema,
  listResponseSchema,
  scimResourceSchema,
  type ServiceProviderConfig,
  serviceProviderConfigSchema,
} from './schemas.ts';
import { assertSendableUrl, ResponseTooLargeError, Transport, type TransportTimeouts } from './transport.ts';

export type { ScimAuth } from './auth.ts';
export type { ServiceProviderConfig } from './schemas.ts';

export type ScimResourceType = 'Users' | 'Groups';

export interface RetryOptions {
  /** Total tries of one request, the first included. Default 5. */
  attempts: number;
  /** First backoff delay. Default 200 ms. */
  baseDelayMs: number;
  /** Backoff cap (a longer Retry-After still wins). Default 10 s. */
  maxDelayMs: number;
}

export interface ScimClientOptions {
  /** SCIM base URL, e.g. `https://app.example.com/scim/v2`. */
  baseUrl: string;
  auth: ScimAuth;
  profile?: CompatibilityProfile;
  /** Per-app request rate. Default 25. */
  requestsPerSecond?: number;
  /** Requests in flight at once. Default 8. */
  concurrency?: number;
  timeouts?: TransportTimeouts;
  /** Default 10 MiB. */
  maxResponseBytes?: number;
  /** Allow plain http to 127.0.0.1/localhost (tests, demo). */
  allowInsecureLoopback?: boolean;
  /** Use `/Bulk` when the target advertises it. Default false. */
  bulk?: boolean;
  /** Receives request/retry/throttle events; never receives headers, tokens or bodies. */
  logger?: (event: ScimClientEvent) => void;
  retry?: Partial<RetryOptions>;
  /** Clock for OAuth token expiry (tests move it forward). Default Date.now. */
  clock?: () => number;
}

export type ScimClientEvent =
  | {
      type: 'request';
      method: string;
      path: string;
      status?: number;
      durationMs: number;
      attempt: number;
      error?: string;
    }
  | { type: 'retry'; method: string; path: string; attempt: number; delayMs: number; code: string; status?: number }
  | { type: 'throttled'; status: number; retryAfterMs: number; pausedUntil: string }
  | {
      type: 'adopted';
      resourceType: ScimResourceType;
      id: string;
      attribute: string;
      reason: 'conflict' | 'unknownOutcome';
    }
  | { type: 'warning'; message: string };

export interface ListOptions {
  filter?: string;
  /** 1-based. */
  startIndex?: number;
  count?: number;
  attributes?: string[];
  excludedAttributes?: string[];
}

export interface ListPage {
  resources: ScimResource[];
  /** As reported by the target (falls back to the number of resources returned). */
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
}

export interface MatchAttribute {
  attribute: string;
  value: string | number | boolean;
}

export type TestConnectionReason =
  | 'dns'
  | 'refused'
  | 'tls'
  | 'timeout'
  | 'network'
  | 'insecure'
  | 'unauthorized'
  | 'forbidden'
  | 'notFound'
  | 'notScim'
  | 'unavailable'
  | 'unexpected';

export type TestConnectionResult = { ok: true } | { ok: false; reason: TestConnectionReason; message: string };

export interface BulkOperation {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** `/Users`, `/Users/{id}`, `/Groups/{id}` … */
  path: string;
  bulkId?: string;
  /**
   * Resource for POST/PUT; PatchOperation[] for PATCH (rewritten for the profile; for `put-only` or a
   * target without PATCH, sent as the PUT of the whole resource, read first).
   */
  data?: ScimResource | PatchOperation[];
}

export interface BulkResult {
  method?: string;
  bulkId?: string;
  location?: string;
  status: number;
  response?: unknown;
}

export interface ScimClientStats {
  /** HTTP requests sent to the target (token requests excluded). */
  requests: number;
  /** Requests repeated after a transient failure. */
  retries: number;
  /** 429/503 answers that paused the client. */
  throttled: number;
  /** Milliseconds the client was paused by Retry-After. */
  pausedMs: number;
  /** Requests that ended in an error handed to the caller. */
  failures: number;
  created: number;
  adopted: number;
  /** OAuth token requests. */
  tokenRequests: number;
}

export interface ScimClient {
  readonly profile: CompatibilityProfile;
  discover(): Promise<ServiceProviderConfig>;
  testConnection(): Promise<TestConnectionResult>;
  list(type: ScimResourceType, options?: ListOptions): Promise<ListPage>;
  /** Every page from `options.startIndex` (default 1), tolerant of servers that ignore `count` or misreport `itemsPerPage`. */
  pages(type: ScimResourceType, options?: ListOptions): AsyncGenerator<ScimResource[]>;
  listAll(type: ScimResourceType, options?: ListOptions): Promise<ScimResource[]>;
  /** Resources whose `attribute` equals `value` (`attribute eq "value"`, escaped). */
  findBy(
    type: ScimResourceType,
    attribute: string,
    value: string | number | boolean,
    options?: Pick<ListOptions, 'attributes' | 'excludedAttributes'>,
  ): Promise<ScimResource[]>;
  /** Throws NotFoundError when the resource does not exist. */
  get(type: ScimResourceType, id: string): Promise<ScimResource>;
  /** POST; retried only when the target certainly did not process it (refused, 429, 503). */
  create(type: ScimResourceType, resource: ScimResource): Promise<ScimResource>;
  /** PATCH (or GET + PUT for `put-only` / targets without PATCH). Null when the target answers 204. */
  patch(type: ScimResourceType, id: string, operations: PatchOperation[]): Promise<ScimResource | null>;
  replace(type: ScimResourceType, id: string, resource: ScimResource): Promise<ScimResource>;
  /** Resolves when the resource is gone, including when it was already gone (404). */
  delete(type: ScimResourceType, id: string): Promise<void>;
  /**
   * Create, and when the outcome is unknown (timeout, reset, 5xx after sending) or the target answers
   * 409, find the object by `match` (in order, first hit wins) and adopt it. Never a blind second POST.
   */
  createOrAdopt(
    type: ScimResourceType,
    resource: ScimResource,
    match: MatchAttribute[],
  ): Promise<{ resource: ScimResource; adopted: boolean }>;
  addMembers(groupId: string, memberIds: string[], chunkSize?: number): Promise<void>;
  removeMembers(groupId: string, memberIds: string[], chunkSize?: number): Promise<void>;
  /** `/Bulk` when enabled by the app and supported by the target; ConfigurationError otherwise. */
  bulk(operations: BulkOperation[]): Promise<BulkResult[]>;
  stats(): ScimClientStats;
  close(): Promise<void>;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * When a failed request may be repeated: `safe` for reads and idempotent writes; `unsent` when only
 * a failure proving the target did not act (refused, 429, 503) allows it (POST); `never` for a probe.
 */
type RetryMode = 'safe' | 'unsent' | 'never';

interface Exchange {
  method: Method;
  /** Path below the base URL, e.g. `/Users/123`. */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  resourceUrl?: boolean;
  retry: RetryMode;
}

interface ExchangeResult {
  status: number;
  body: unknown;
}

type AttemptOutcome =
  | { kind: 'response'; status: number; body: unknown; text: string; retryAfter: string | null; contentType: string }
  | { kind: 'network'; error: unknown; unsent?: boolean };

const SCIM_CONTENT_TYPE = 'application/scim+json';
/** Failures that prove the request never reached the target's application logic. */
const UNSENT_NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function header(headers: Record<string, string | string[] | undefined>, name: string): string | null {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let index = 0; index < items.length; index += size) chunks.push(items.slice(index, index + size));
  return chunks;
}

function readAttribute(resource: ScimResource, attribute: string): unknown {
  let current: unknown = resource;
  const urn = /^(urn:.+):([^:]+)$/i.exec(attribute);
  const parts = urn ? [urn[1], ...urn[2].split('.')] : attribute.split('.');
  for (const part of parts) {
    if (!current || typeof current !== 'object') return undefined;
    const record = current as Record<string, unknown>;
    const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === part.toLowerCase());
    current = key === undefined ? undefined : record[key];
  }
  return current;
}

export function createScimClient(options: ScimClientOptions): ScimClient {
  const baseUrl = new URL(options.baseUrl);
  const allowInsecureLoopback = options.allowInsecureLoopback ?? false;
  assertSendableUrl(baseUrl, allowInsecureLoopback, 'SCIM base URL');
  const basePath = baseUrl.pathname.replace(/\/+$/, '');
  const profile: CompatibilityProfile = options.profile ?? 'strict';
  const concurrency = options.concurrency ?? 8;
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  const log = options.logger ?? (() => {});
  const transport = new Transport({
    timeouts: options.timeouts,
    maxResponseBytes: options.maxResponseBytes,
    connections: concurrency,
    allowInsecureLoopback,
  });
  const gate = new RateGate({ requestsPerSecond: options.requestsPerSecond ?? 25, concurrency });
  const auth = createAuthProvider(options.auth, transport, options.clock);
  const counters = { requests: 0, retries: 0, throttled: 0, failures: 0, created: 0, adopted: 0 };
  /** Errors after which a POST may or may not have been processed. */
  const outcomeUnknown = new WeakSet<Error>();
  let discovery: Promise<ServiceProviderConfig> | undefined;

  function urlFor(path: string, query?: Record<string, string | undefined>): URL {
    // encodeURIComponent, not URLSearchParams: some targets do not read `+` as a space in filters.
    const search = Object.entries(query ?? {})
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([key, value]) => `${key}=${encodeURIComponent(value)}`)
      .join('&');
    return new URL(baseUrl.origin + basePath + path + (search ? `?${search}` : ''));
  }

  /** One HTTP attempt, through the rate gate; never throws for network errors. */
  async function attempt(exchange: Exchange, attemptNumber: number): Promise<AttemptOutcome> {
    const url = urlFor(exchange.path, exchange.query);
    let authorization: string;
    try {
      authorization = await auth.authorization();
    } catch (error) {
      // The OAuth token endpoint failed: nothing was sent to the target.
      return { kind: 'network', error, unsent: true };
    }
    const release = await gate.acquire();
    const started = Date.now();
    const logPath = url.pathname + url.search;
    counters.requests++;
    try {
      const headers: Record<string, string> = { authorization, accept: `${SCIM_CONTENT_TYPE}, application/json` };
      if (exchange.body !== undefined) headers['content-type'] = SCIM_CONTENT_TYPE;
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
      });
      let body: unknown = undefined;
      if (response.text.trim() !== '') {
        try {
          body = JSON.parse(response.text);
        } catch {
          body = undefined;
        }
      }
      return {
        kind: 'response',
        status: response.status,
        body,
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
      });
      return { kind: 'network', error };
    } finally {
      release();
    }
  }

  function backoff(attemptNumber: number): number {
    const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attemptNumber - 1));
    return Math.round(ceiling * (0.5 + Math.random() * 0.5));
  }

  function provesUnsent(outcome: AttemptOutcome): boolean {
    if (outcome.kind === 'network')
      return outcome.unsent === true || UNSENT_NETWORK_CODES.has(networkErrorCode(outcome.error) ?? '');
    return outcome.status === 429 || outcome.status === 503;
  }

  /** Send with retries, 401 refresh and Retry-After pauses; resolve with a 2xx answer or throw a FerryError. */
  async function send(exchange: Exchange): Promise<ExchangeResult> {
    let refreshedAfter401 = false;
    for (let attemptNumber = 1; ; attemptNumber++) {
      const outcome = await attempt(exchange, attemptNumber);
      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
        if (outcome.text.trim() !== '' && outcome.body === undefined) {
          counters.failures++;
          throw classifyScimFailure({ kind: 'invalidBody', status: outcome.status, reason: 'body is not JSON' });
        }
        return { status: outcome.status, body: outcome.body };
      }
      if (outcome.kind === 'response' && outcome.status === 401 && !refreshedAfter401 && auth.invalidate()) {
        // An OAuth token can be revoked or expire early: fetch a new one once, then believe the 401.
        refreshedAfter401 = true;
        attemptNumber--;
        continue;
      }
      const error =
        outcome.kind === 'network'
          ? outcome.error instanceof ResponseTooLargeError
            ? classifyScimFailure({ kind: 'tooLarge', maxBytes: outcome.error.limit, cause: outcome.error })
            : outcome.error instanceof FerryError
              ? outcome.error
              : classifyScimFailure({ kind: 'network', error: outcome.error })
          : classifyScimFailure({
              kind: 'response',
              status: outcome.status,
              body: outcome.body,
              retryAfter: outcome.retryAfter,
              resourceUrl: exchange.resourceUrl,
            });
      if (outcome.kind === 'response' && (outcome.status === 429 || outcome.status === 503)) {
        // The whole app slows down, not only this request (DESIGN.md §4).
        const pauseMs = error.retryAfterMs ?? (outcome.status === 429 ? backoff(attemptNumber) : 0);
        if (pauseMs > 0) {
          counters.throttled++;
          gate.pauseFor(pauseMs);
          log({
            type: 'throttled',
            status: outcome.status,
            retryAfterMs: pauseMs,
            pausedUntil: new Date(Date.now() + gate.pauseRemainingMs).toISOString(),
          });
        }
      }
      const retryable =
        error.kind === 'transient' &&
        attemptNumber < retry.attempts &&
        (exchange.retry === 'safe' || (exchange.retry === 'unsent' && provesUnsent(outcome)));
      if (!retryable) {
        counters.failures++;
        if (exchange.method === 'POST' && error.kind === 'transient' && !provesUnsent(outcome))
          outcomeUnknown.add(error);
        throw error;
      }
      const delayMs = Math.max(backoff(attemptNumber), gate.pauseRemainingMs);
      counters.retries++;
      log({
        type: 'retry',
        method: exchange.method,
        path: exchange.path,
        attempt: attemptNumber,
        delayMs,
        code: error.code,
        status: error.status,
      });
      await sleep(delayMs);
    }
  }

  function toResource({ status, body }: ExchangeResult, what: string): ScimResource {
    const parsed = scimResourceSchema.safeParse(body);
    if (!parsed.success) {
      throw classifyScimFailure({ kind: 'invalidBody', status, reason: `the answer to ${what} has no resource id` });
    }
    return parsed.data as ScimResource;
  }

  const resourcePath = (type: ScimResourceType, id: string) => `/${type}/${encodeURIComponent(id)}`;

  async function discover(): Promise<ServiceProviderConfig> {
    discovery ??= (async () => {
      try {
        const { body } = await send({ method: 'GET', path: '/ServiceProviderConfig', retry: 'safe' });
        const parsed = serviceProviderConfigSchema.safeParse(body);
        if (!parsed.success) throw new Error('unreadable');
        const config = parsed.data;
        return {
          patch: config.patch?.supported ?? true,
          bulk: {
            supported: config.bulk?.supported ?? false,
            maxOperations: config.bulk?.maxOperations,
            maxPayloadSize: config.bulk?.maxPayloadSize,
          },
          filter: { supported: config.filter?.supported ?? true, maxResults: config.filter?.maxResults },
          etag: config.etag?.supported ?? false,
          discovered: true,
        };
      } catch (error) {
        if (error instanceof TransientError || (error instanceof ConfigurationError && error.code === 'Unauthorized')) {
          discovery = undefined;
          throw error;
        }
        // Many targets have no (or a broken) /ServiceProviderConfig; assume what Entra assumes.
        log({ type: 'warning', message: 'No usable /ServiceProviderConfig; assuming PATCH and filtering, no bulk' });
        return { patch: true, bulk: { supported: false }, filter: { supported: true }, etag: false, discovered: false };
      }
    })();
    return discovery;
  }

  async function list(type: ScimResourceType, listOptions: ListOptions = {}): Promise<ListPage> {
    const startIndex = listOptions.startIndex ?? 1;
    const { body } = await send({
      method: 'GET',
      path: `/${type}`,
      query: {
        filter: listOptions.filter,
        startIndex: listOptions.startIndex === undefined ? undefined : String(listOptions.startIndex),
        count: listOptions.count === undefined ? undefined : String(listOptions.count),
        attributes: listOptions.attributes?.join(','),
        excludedAttributes: listOptions.excludedAttributes?.join(','),
      },
      retry: 'safe',
    });
    const parsed = listResponseSchema.safeParse(body);
    if (!parsed.success || body === null || typeof body !== 'object') {
      throw classifyScimFailure({
        kind: 'invalidBody',
        status: 200,
        reason: `GET /${type} did not return a ListResponse`,
      });
    }
    const resources: ScimResource[] = [];
    for (const item of parsed.data.resources) {
      const resource = scimResourceSchema.safeParse(item);
      if (resource.success) resources.push(resource.data as ScimResource);
      else log({ type: 'warning', message: `GET /${type} returned an item without id; ignored` });
    }
    return {
      resources,
      totalResults: parsed.data.totalResults ?? resources.length,
      startIndex: parsed.data.startIndex ?? startIndex,
      itemsPerPage: parsed.data.itemsPerPage ?? resources.length,
    };
  }

  async function* pages(type: ScimResourceType, listOptions: ListOptions = {}): AsyncGenerator<ScimResource[]> {
    const seen = new Set<string>();
    let startIndex = listOptions.startIndex ?? 1;
    for (;;) {
      const page = await list(type, { ...listOptions, startIndex });
      const fresh = page.resources.filter((resource) => !seen.has(resource.id as string));
      for (const resource of fresh) seen.add(resource.id as string);
      if (fresh.length > 0) yield fresh;
      // Advance by what was actually returned: `itemsPerPage` and `count` are often wrong or ignored.
      // A page with nothing new means the target ignores startIndex; stop instead of looping.
      if (page.resources.length === 0 || fresh.length === 0) return;
      startIndex += page.resources.length;
      if (startIndex > page.totalResults) return;
    }
  }

  async function listAll(type: ScimResourceType, listOptions: ListOptions = {}): Promise<ScimResource[]> {
    const all: ScimResource[] = [];
    for await (const page of pages(type, listOptions)) all.push(...page);
    return all;
  }

  async function findBy(
    type: ScimResourceType,
    attribute: string,
    value: string | number | boolean,
    findOptions: Pick<ListOptions, 'attributes' | 'excludedAttributes'> = {},
  ): Promise<ScimResource[]> {
    const config = await discover();
    if (!config.filter.supported) {
      const wanted = typeof value === 'string' ? value.toLowerCase() : value;
      const all = await listAll(type, findOptions);
      return all.filter((resource) => {
        const actual = readAttribute(resource, attribute);
        return (typeof actual === 'string' ? actual.toLowerCase() : actual) === wanted;
      });
    }
    const page = await list(type, { ...findOptions, filter: eqFilter(attribute, value) });
    return page.resources;
  }

  async function get(type: ScimResourceType, id: string): Promise<ScimResource> {
    const answer = await send({ method: 'GET', path: resourcePath(type, id), resourceUrl: true, retry: 'safe' });
    return toResource(answer, `GET /${type}/{id}`);
  }

  async function create(type: ScimResourceType, resource: ScimResource): Promise<ScimResource> {
    const answer = await send({ method: 'POST', path: `/${type}`, body: resource, retry: 'unsent' });
    const created = toResource(answer, `POST /${type}`);
    counters.created++;
    return created;
  }

  async function replace(type: ScimResourceType, id: string, resource: ScimResource): Promise<ScimResource> {
    const answer = await send({
      method: 'PUT',
      path: resourcePath(type, id),
      body: { ...resource, id },
      resourceUrl: true,
      retry: 'safe',
    });
    return answer.body === undefined ? { ...resource, id } : toResource(answer, `PUT /${type}/{id}`);
  }

  async function usePut(): Promise<boolean> {
    if (profile === 'put-only') return true;
    return !(await discover()).patch;
  }

  async function patch(type: ScimResourceType, id: string, operations: PatchOperation[]): Promise<ScimResource | null> {
    if (operations.length === 0) return null;
    if (await usePut()) {
      const current = await get(type, id);
      return replace(type, id, applyPatch(current, operations));
    }
    const answer = await send({
      method: 'PATCH',
      path: resourcePath(type, id),
      body: toPatchOpMessage(operations, profile),
      resourceUrl: true,
      retry: 'safe',
    });
    return answer.body === undefined ? null : toResource(answer, `PATCH /${type}/{id}`);
  }

  async function remove(type: ScimResourceType, id: string): Promise<void> {
    try {
      await send({ method: 'DELETE', path: resourcePath(type, id), resourceUrl: true, retry: 'safe' });
    } catch (error) {
      // Already gone (or our earlier attempt's response was lost): the desired state holds.
      if (error instanceof FerryError && error.kind === 'notFound') return;
      throw error;
    }
  }

  async function rematch(
    type: ScimResourceType,
    match: MatchAttribute[],
  ): Promise<{ resource: ScimResource; attribute: string } | undefined> {
    for (const { attribute, value } of match) {
      const hits = await findBy(type, attribute, value);
      if (hits.length > 1) {
        throw new PermanentError(`${hits.length} ${type} in the target match ${attribute}`, {
          code: 'DuplicateTargetEntries',
        });
      }
      if (hits.length === 1) return { resource: hits[0], attribute };
    }
    return undefined;
  }

  async function createOrAdopt(
    type: ScimResourceType,
    resource: ScimResource,
    match: MatchAttribute[],
  ): Promise<{ resource: ScimResource; adopted: boolean }> {
    for (let round = 1; ; round++) {
      try {
        return { resource: await create(type, resource), adopted: false };
      } catch (error) {
        const conflict = error instanceof ConflictError;
        const unknown = error instanceof Error && outcomeUnknown.has(error);
        if (!conflict && !unknown) throw error;
        const found = await rematch(type, match);
        if (found) {
          counters.adopted++;
          log({
            type: 'adopted',
            resourceType: type,
            id: found.resource.id as string,
            attribute: found.attribute,
            reason: conflict ? 'conflict' : 'unknownOutcome',
          });
          return { resource: found.resource, adopted: true };
        }
        // 409 on an attribute we do not match on: adopting is impossible, the object fails.
        if (conflict || round >= retry.attempts) throw error;
        // Unknown outcome and provably not there: a new POST cannot duplicate.
      }
    }
  }

  async function changeMembers(
    op: 'add' | 'remove',
    groupId: string,
    memberIds: string[],
    chunkSize: number,
  ): Promise<void> {
    if (!(chunkSize >= 1)) throw new RangeError('chunkSize must be at least 1');
    const unique = [...new Set(memberIds)];
    if (unique.length === 0) return;
    // PUT-only: every PUT carries the whole member list, so chunks would only repeat GET + PUT.
    for (const ids of (await usePut()) ? [unique] : chunk(unique, chunkSize)) {
      const operations: PatchOperation[] =
        op === 'add' || profile === 'entra-2017'
          ? [{ op, path: 'members', value: ids.map((value) => ({ value })) }]
          : // RFC 7644 §3.5.2.2: removal of specific values uses a value filter in the path.
            ids.map((id) => ({ op: 'remove', path: `members[value eq ${JSON.stringify(id)}]` }));
      try {
        await patch('Groups', groupId, operations);
      } catch (error) {
        // A retried removal (first answer lost) finds some members already gone; RFC 7644 answers
        // that with 400 noTarget and rejects the whole PatchOp. Remove one by one; gone is done.
        if (!(op === 'remove' && error instanceof PermanentError && error.scimType === 'noTarget')) throw error;
        for (const operation of operations.length > 1 ? operations : []) {
          try {
            await patch('Groups', groupId, [operation]);
          } catch (single) {
            if (!(single instanceof PermanentError && single.scimType === 'noTarget')) throw single;
          }
        }
      }
    }
  }

  /** A bulk PATCH as the PUT of the whole resource (read now, operations applied here), for PUT-only targets. */
  async function asPut(operation: BulkOperation): Promise<BulkOperation> {
    if (operation.method !== 'PATCH') return operation;
    const target = /^\/(Users|Groups)\/([^/?]+)$/.exec(operation.path);
    if (!target || !Array.isArray(operation.data)) {
      throw new RangeError(`A bulk PATCH needs a /Users/{id} or /Groups/{id} path and operations: ${operation.path}`);
    }
    const [, type, id] = target;
    const current = await get(type as ScimResourceType, decodeURIComponent(id));
    return {
      ...operation,
      method: 'PUT',
      data: { ...applyPatch(current, operation.data), id: decodeURIComponent(id) },
    };
  }

  async function bulk(operations: BulkOperation[]): Promise<BulkResult[]> {
    const config = await discover();
    if (!options.bulk || !config.bulk.supported) {
      throw new ConfigurationError('Bulk is not enabled for this app or not supported by the target', {
        code: 'BadRequest',
      });
    }
    const wireOperations = (await usePut()) ? await Promise.all(operations.map(asPut)) : operations;
    const { body } = await send({
      method: 'POST',
      path: '/Bulk',
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: wireOperations.map((operation) => ({
          method: operation.method,
          path: operation.path,
          bulkId: operation.bulkId,
          data: Array.isArray(operation.data) ? toPatchOpMessage(operation.data, profile) : operation.data,
        })),
      },
      retry: 'unsent',
    });
    const parsed = bulkResponseSchema.safeParse(body);
    if (!parsed.success) throw classifyScimFailure({ kind: 'invalidBody', status: 200, reason: 'not a BulkResponse' });
    return parsed.data.Operations.map((result) => ({
      method: result.method,
      bulkId: result.bulkId,
      location: result.location,
      status: typeof result.status === 'number' ? result.status : result.status.code,
      response: result.response,
    }));
  }

  async function testConnection(): Promise<TestConnectionResult> {
    const exchange: Exchange = {
      method: 'GET',
      path: '/Users',
      query: { filter: eqFilter('userName', randomUUID()) },
      retry: 'never',
    };
    let outcome: AttemptOutcome;
    try {
      outcome = await attempt(exchange, 1);
      if (outcome.kind === 'response' && outcome.status === 401 && auth.invalidate())
        outcome = await attempt(exchange, 2);
    } catch (error) {
      // Token endpoint failures surface here as FerryErrors.
      const message = error instanceof Error ? error.message : String(error);
      const unauthorized = error instanceof FerryError && error.code === 'Unauthorized';
      return { ok: false, reason: unauthorized ? 'unauthorized' : 'network', message };
    }
    if (outcome.kind === 'network') {
      if (outcome.error instanceof ResponseTooLargeError)
        return { ok: false, reason: 'notScim', message: outcome.error.message };
      const reason = networkFailureReason(outcome.error);
      const code = networkErrorCode(outcome.error);
      const messages: Record<string, string> = {
        dns: `The host name ${baseUrl.hostname} does not resolve`,
        refused: `Nothing accepts connections at ${baseUrl.host}`,
        tls: `The TLS handshake with ${baseUrl.host} failed: ${tlsFailureReason(code)}`,
        timeout: 'The target did not answer in time',
        reset: 'The target closed the connection without answering',
        network: 'Network error',
      };
      return {
        ok: false,
        reason: reason === 'reset' ? 'network' : reason,
        message: `${messages[reason]}${code ? ` (${code})` : ''}`,
      };
    }
    const { status, body, contentType } = outcome;
    if (status === 401)
      return { ok: false, reason: 'unauthorized', message: 'The target rejected the credentials (401)' };
    if (status === 403)
      return { ok: false, reason: 'forbidden', message: 'The credentials are not allowed to read users (403)' };
    if (status === 404)
      return { ok: false, reason: 'notFound', message: `No SCIM Users endpoint at ${urlFor('/Users').href} (404)` };
    if (status === 429 || status >= 500)
      return { ok: false, reason: 'unavailable', message: `The target is unavailable right now (${status})` };
    if (status !== 200)
      return { ok: false, reason: 'unexpected', message: `Expected 200 for a filtered GET /Users, got ${status}` };
    const list = listResponseSchema.safeParse(body);
    const looksScim =
      body !== null &&
      typeof body === 'object' &&
      list.success &&
      (list.data.totalResults !== undefined ||
        (Array.isArray((body as { schemas?: unknown }).schemas) &&
          (body as { schemas: unknown[] }).schemas.includes(SCIM_LIST_RESPONSE_SCHEMA)));
    if (!looksScim) {
      return {
        ok: false,
        reason: 'notScim',
        message: `The answer is not a SCIM ListResponse (content-type ${contentType || 'none'})`,
      };
    }
    if (list.data.resources.length > 0 || (list.data.totalResults ?? 0) > 0) {
      return {
        ok: false,
        reason: 'notScim',
        message: 'A filter on a random userName returned users: the target ignores filters',
      };
    }
    return { ok: true };
  }

  return {
    profile,
    discover,
    testConnection,
    list,
    pages,
    listAll,
    findBy,
    get,
    create,
    patch,
    replace,
    delete: remove,
    createOrAdopt,
    addMembers: (groupId, memberIds, chunkSize = 50) => changeMembers('add', groupId, memberIds, chunkSize),
    removeMembers: (groupId, memberIds, chunkSize = 50) => changeMembers('remove', groupId, memberIds, chunkSize),
    bulk,
    stats: () => ({ ...counters, pausedMs: gate.totalPausedMs, tokenRequests: auth.tokenRequests }),
    close: () => transport.close(),
  };
}
