// The SCIM 2.0 client every write to a customer's app goes through.
// One client per app: its own connection pool, rate limit, concurrency limit and Retry-After pause.
// This file only wires the parts together; each part is a file named for what it does.
import type { CompatibilityProfile } from '../engine/types.ts';
import { createAuthProvider } from './auth.ts';
import { createBulk } from './bulk.ts';
import { createDiscovery } from './discovery.ts';
import type { ClientCounters } from './exchange.ts';
import { createListing } from './listing.ts';
import { createMemberChanges } from './members.ts';
import { RateGate } from './rate-gate.ts';
import { createRequester } from './request.ts';
import { createResources } from './resources.ts';
import { createRetryPolicy, DEFAULT_MAX_RETRY_AFTER_MS, DEFAULT_RETRY } from './retry-policy.ts';
import { createTestConnection } from './test-connection.ts';
import { assertSendableUrl, Transport } from './transport.ts';
import type { RetryOptions, ScimClient, ScimClientOptions } from './types.ts';

export type * from './types.ts';

export function createScimClient(options: ScimClientOptions): ScimClient {
  const baseUrl = new URL(options.baseUrl);
  const allowInsecureLoopback = options.allowInsecureLoopback ?? false;
  assertSendableUrl(baseUrl, allowInsecureLoopback, 'SCIM base URL');
  const profile: CompatibilityProfile = options.profile ?? 'strict';
  const concurrency = options.concurrency ?? 8;
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const log = options.logger ?? (() => {});
  const transport = new Transport({
    timeouts: options.timeouts,
    maxResponseBytes: options.maxResponseBytes,
    connections: concurrency,
    allowInsecureLoopback,
    outbound: options.outbound,
  });
  const gate = new RateGate({
    requestsPerSecond: options.requestsPerSecond ?? 25,
    concurrency,
    shared: options.sharedRate,
  });
  const auth = createAuthProvider(options.auth, transport, options.clock);
  const counters: ClientCounters = { requests: 0, retries: 0, throttled: 0, failures: 0, created: 0, adopted: 0 };

  const { urlFor, attempt } = createRequester({ baseUrl, transport, gate, auth, log, counters });
  const { send, probe, answer, outcomeUnknown } = createRetryPolicy({
    attempt,
    auth,
    gate,
    log,
    counters,
    retry,
    maxRetryAfterMs,
  });
  const discover = createDiscovery(send, log);
  const { list, pages, listAll, findBy } = createListing(send, discover, log);
  const resources = createResources({
    send,
    discover,
    findBy,
    outcomeUnknown,
    profile,
    attempts: retry.attempts,
    counters,
    log,
  });
  const { get, create, replace, patch, remove, createOrAdopt, usePut } = resources;
  const changeMembers = createMemberChanges({ patch, usePut, profile });
  const { bulk, bulkLimits } = createBulk({ send, discover, get, usePut, profile, enabled: options.bulk ?? false });

  return {
    profile,
    discover,
    testConnection: createTestConnection(probe, baseUrl, urlFor),
    request: ({ method, path, query, body }) =>
      answer({
        method,
        path,
        query,
        body,
        resourceUrl: path.split('/').length > 2,
        // A POST may have created something when its answer was lost: repeated only when provably unsent.
        retry: method === 'POST' ? 'unsent' : 'safe',
      }),
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
    addMembers: (groupId, memberIds, chunkSize = 50, onWritten) =>
      changeMembers('add', groupId, memberIds, chunkSize, onWritten),
    removeMembers: (groupId, memberIds, chunkSize = 50, onWritten) =>
      changeMembers('remove', groupId, memberIds, chunkSize, onWritten),
    bulk,
    bulkLimits,
    stats: () => ({ ...counters, pausedMs: gate.totalPausedMs, tokenRequests: auth.tokenRequests }),
    close: () => transport.close(),
  };
}
