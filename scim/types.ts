// The public contract of the SCIM client: its options, its events and the ScimClient interface.
import type { CompatibilityProfile, PatchOperation, ScimResource } from '../engine/types.ts';
import type { ScimAuth } from './auth.ts';
import type { ServiceProviderConfig } from './schemas.ts';
import type { SharedRateSchedule } from './shared-rate-schedule.ts';
import type { OutboundOptions, TransportTimeouts } from './transport.ts';

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
  /** Requests in flight at once (in this process). Default 8. */
  concurrency?: number;
  /**
   * The app's request schedule shared with the other worker processes: the rate limit and Retry-After
   * pauses then hold for all of them together. Absent = this client keeps the limit alone.
   */
  sharedRate?: SharedRateSchedule;
  timeouts?: TransportTimeouts;
  /** Default 10 MiB. */
  maxResponseBytes?: number;
  /** Allow loopback addresses, and plain http to 127.0.0.1/localhost (FERRY_ALLOW_INSECURE_LOOPBACK: tests, demo). */
  allowInsecureLoopback?: boolean;
  /** Networks allowed besides public addresses (FERRY_ALLOWED_TARGET_NETWORKS); the resolver. */
  outbound?: OutboundOptions;
  /** Use `/Bulk` when the target advertises it. Default false. */
  bulk?: boolean;
  /** Receives request/retry/throttle events; never receives headers, tokens or bodies. */
  logger?: (event: ScimClientEvent) => void;
  retry?: Partial<RetryOptions>;
  /**
   * The longest Retry-After the client waits for (default 15 min). A longer one fails the request at
   * once as transient, carrying the full wait, and holds the app back for this long only.
   */
  maxRetryAfterMs?: number;
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
      /** Time the request waited for the app's rate and concurrency limits before it was sent. */
      waitMs?: number;
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
  | 'addressNotAllowed'
  | 'unreachable'
  | 'tls'
  | 'network'
  | 'insecure'
  | 'unauthorized'
  | 'forbidden'
  | 'notFound'
  | 'notScim'
  | 'unavailable'
  | 'unexpected';

export type TestConnectionResult =
  | { ok: true }
  | { ok: false; reason: TestConnectionReason; message: string; /** For the operator's log only. */ detail?: string };

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

export interface BulkOptions {
  /** Errors after which the target stops running the request's operations (RFC 7644 §3.7). */
  failOnErrors?: number;
}

export interface BulkLimits {
  maxOperations: number;
  /** Bytes. */
  maxPayloadSize: number;
  /** PATCH operations go as the PUT of the whole resource, read first (put-only or no PATCH). */
  patchAsPut: boolean;
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

/** A request sent as it is, for capability probing (`ScimClient.request`). */
export interface RawRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Below the base URL, e.g. `/Users/123` (the caller encodes ids). */
  path: string;
  query?: Record<string, string | undefined>;
  /** Sent as JSON exactly as given: no profile rewrites it. */
  body?: unknown;
}

export interface ScimClient {
  readonly profile: CompatibilityProfile;
  discover(): Promise<ServiceProviderConfig>;
  testConnection(): Promise<TestConnectionResult>;
  /**
   * One request exactly as given (retried like any request when the failure is transient), answered
   * with its status and body whatever the status: what the capability probe learns a target from.
   * Only a failure without an HTTP answer throws.
   */
  request(request: RawRequest): Promise<{ status: number; body: unknown }>;
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
  /**
   * Members added in chunks of `chunkSize` (one PATCH each; one GET + PUT for put-only targets).
   * `onWritten` hears of each chunk the target took, with its number of members, so a caller whose
   * call fails midway knows how many went through.
   */
  addMembers(
    groupId: string,
    memberIds: string[],
    chunkSize?: number,
    onWritten?: (members: number) => void,
  ): Promise<void>;
  /** As addMembers, removing. */
  removeMembers(
    groupId: string,
    memberIds: string[],
    chunkSize?: number,
    onWritten?: (members: number) => void,
  ): Promise<void>;
  /**
   * One `/Bulk` request when enabled by the app and supported by the target; ConfigurationError
   * otherwise. The answers come as the target sent them (a target that stopped after `failOnErrors`
   * errors answers fewer operations than it was sent).
   */
  bulk(operations: BulkOperation[], options?: BulkOptions): Promise<BulkResult[]>;
  /** What one `/Bulk` request may carry, or null when Bulk is not enabled for the app or not advertised. */
  bulkLimits(): Promise<BulkLimits | null>;
  stats(): ScimClientStats;
  close(): Promise<void>;
}
