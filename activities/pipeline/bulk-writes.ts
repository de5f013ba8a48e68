// SCIM Bulk (RFC 7644 §3.7) for a cycle page: the creates (POST), updates and disables (PATCH) of
// the objects exported together wait in one queue and go as `/Bulk` requests, each within the
// target's `maxOperations` and `maxPayloadSize`. Each object still goes through the pipeline on its
// own: it awaits the answer to ITS operation, classified as the same request sent alone would be, so
// links, log entries and escrow come out exactly as with single requests. Reads (matching, the
// reads of a decision) and group member changes stay single requests.
import { ConflictError, FerryError, TransientError } from '../../engine/errors.ts';
import type { PatchOperation, ScimResource } from '../../engine/types.ts';
import {
  bulkResultError,
  classifyScimFailure,
  uriComponent,
  type BulkLimits,
  type BulkOperation,
  type BulkResult,
  type MatchAttribute,
  type ScimClient,
  type ScimResourceType,
} from '../../scim/index.ts';
import type { AppRuntime } from '../app-runtime.ts';
import type { ObjectContext } from './types.ts';

/** The BulkRequest around the operations, in bytes (schemas, failOnErrors, brackets), generously. */
const ENVELOPE_BYTES = 256;
/** Per operation beyond its JSON here: the PatchOp message wrapper and separators. */
const OPERATION_OVERHEAD_BYTES = 128;

/**
 * Clients whose target answered a Bulk request in a way that says it has no Bulk (404, 405, 501),
 * although its ServiceProviderConfig advertises it: their writes go as single requests from then on.
 * Keyed by client: a changed app configuration (new client) tries Bulk again.
 */
const bulkRefused = new WeakSet<ScimClient>();

/**
 * The Bulk queue of one cycle page, or null for single requests: the app has not enabled `bulk`,
 * the target does not advertise it (or refused it earlier), or its PATCHes go as GET + PUT.
 */
export async function bulkWritesFor(runtime: AppRuntime): Promise<BulkWrites | null> {
  if (!runtime.config.bulk || bulkRefused.has(runtime.client)) return null;
  let limits: BulkLimits | null;
  try {
    limits = await runtime.client.bulkLimits();
  } catch {
    // Discovery failed (transient): the single requests meet the same failure and report it.
    return null;
  }
  // PUT-only targets would need a read per PATCH before the Bulk request; nothing to save there.
  if (!limits || limits.patchAsPut || limits.maxOperations < 2) return null;
  return new BulkWrites(runtime.client, limits);
}

/** PATCHes the account, in the page's Bulk queue when there is one; returns whether it went in a Bulk request. */
export async function patchTarget(
  ctx: ObjectContext,
  type: ScimResourceType,
  id: string,
  operations: PatchOperation[],
): Promise<boolean> {
  if (ctx.bulk) return ctx.bulk.patch(type, id, operations);
  await ctx.runtime.client.patch(type, id, operations);
  return false;
}

/** The answer to one queued operation: the target's, or "send it alone" (Bulk refused, too large). */
type Answer = { kind: 'result'; result: BulkResult } | { kind: 'single' };

interface Queued {
  operation: BulkOperation;
  bytes: number;
  settle(answer: Answer): void;
  fail(error: unknown): void;
}

export class BulkWrites {
  private queue: Queued[] = [];
  private queuedBytes = ENVELOPE_BYTES;
  /** Objects in the pipeline (`track`): the queue is sent once all of them wait on it. */
  private active = 0;
  /** Operations sent and not answered yet: their objects wait too. */
  private inFlight = 0;
  private idleCheck = false;
  private lastBulkId = 0;
  /** `/Bulk` requests sent. */
  requests = 0;

  constructor(
    private readonly client: ScimClient,
    readonly limits: BulkLimits,
  ) {}

  /** Runs one object's pipeline; while it runs, a queued Bulk request waits for its writes too. */
  async track<T>(run: () => Promise<T>): Promise<T> {
    this.active++;
    try {
      return await run();
    } finally {
      this.active--;
      this.sendWhenIdle();
    }
  }

  /**
   * Creates the resource in a Bulk request. A 409 is settled as a single create settles it (the
   * matching account is adopted); any other failure throws the error the single POST would have.
   */
  async create(
    type: ScimResourceType,
    resource: ScimResource,
    match: MatchAttribute[],
  ): Promise<{ resource: ScimResource; adopted: boolean; bulk: boolean }> {
    const operation: BulkOperation = {
      method: 'POST',
      path: `/${type}`,
      bulkId: `ferry-${++this.lastBulkId}`,
      data: resource,
    };
    const answer = await this.enqueue(operation);
    if (answer.kind === 'result') {
      const error = bulkResultError(operation, answer.result);
      if (!error) return { resource: createdResource(type, resource, answer.result), adopted: false, bulk: true };
      if (!(error instanceof ConflictError)) throw error;
    }
    return { ...(await this.client.createOrAdopt(type, resource, match)), bulk: false };
  }

  /** PATCHes the resource in a Bulk request; returns whether it went in one (false: sent alone). */
  async patch(type: ScimResourceType, id: string, operations: PatchOperation[]): Promise<boolean> {
    if (operations.length === 0) return false;
    const operation: BulkOperation = {
      method: 'PATCH',
      path: `/${type}/${uriComponent(id, `The ${type} id`)}`,
      data: operations,
    };
    const answer = await this.enqueue(operation);
    if (answer.kind === 'single') {
      await this.client.patch(type, id, operations);
      return false;
    }
    const error = bulkResultError(operation, answer.result);
    if (error) throw error;
    return true;
  }

  private enqueue(operation: BulkOperation): Promise<Answer> {
    if (bulkRefused.has(this.client)) return Promise.resolve({ kind: 'single' });
    const bytes = Buffer.byteLength(JSON.stringify(operation)) + OPERATION_OVERHEAD_BYTES;
    // One operation larger than a whole request allows: it goes alone.
    if (ENVELOPE_BYTES + bytes > this.limits.maxPayloadSize) return Promise.resolve({ kind: 'single' });
    if (this.queuedBytes + bytes > this.limits.maxPayloadSize) this.send();
    return new Promise<Answer>((settle, fail) => {
      this.queue.push({ operation, bytes, settle, fail });
      this.queuedBytes += bytes;
      if (this.queue.length >= this.limits.maxOperations) this.send();
      else this.sendWhenIdle();
    });
  }

  /**
   * Sends the queue once every object in the pipeline waits on Bulk (queued or in flight): none
   * can add an operation before its own is answered. Checked after this turn of the event loop, so
   * an object that just finished is first replaced by the next one of the page.
   */
  private sendWhenIdle(): void {
    if (this.idleCheck) return;
    this.idleCheck = true;
    setImmediate(() => {
      this.idleCheck = false;
      if (this.queue.length > 0 && this.queue.length + this.inFlight >= this.active) this.send();
    });
  }

  private send(): void {
    const chunk = this.queue;
    this.queue = [];
    this.queuedBytes = ENVELOPE_BYTES;
    if (chunk.length > 0) void this.sendChunk(chunk);
  }

  private async sendChunk(chunk: Queued[]): Promise<void> {
    const operations = chunk.map((queued) => queued.operation);
    let results: BulkResult[];
    this.requests++;
    this.inFlight += chunk.length;
    try {
      // As many errors as operations: every operation runs and gets its own answer (one object's
      // refused value must not hold back the others). Sent because some targets stop at the first
      // error when it is absent.
      results = await this.client.bulk(operations, { failOnErrors: operations.length });
    } catch (error) {
      this.inFlight -= chunk.length;
      const status = error instanceof FerryError ? error.status : undefined;
      if (status === 404 || status === 405 || status === 501) {
        // The target has no Bulk after all: this chunk and every later write go alone.
        bulkRefused.add(this.client);
        for (const queued of chunk) queued.settle({ kind: 'single' });
      } else if (status === 413) {
        // Larger than the target takes (our size estimate was short): this chunk goes alone.
        for (const queued of chunk) queued.settle({ kind: 'single' });
      } else {
        // The request failed as a whole: each object fails as its own request would have.
        for (const queued of chunk) queued.fail(error);
      }
      return;
    }
    this.inFlight -= chunk.length;
    const answers = matchResults(operations, results);
    chunk.forEach((queued, index) => {
      const result = answers[index];
      if (result) queued.settle({ kind: 'result', result });
      else queued.fail(notRun(operations[index]));
    });
  }
}

/**
 * The answer of each operation: by `bulkId` where the target echoes it, the others in order (targets
 * answer in the order they run the operations). An operation with no answer was not run.
 */
export function matchResults(operations: BulkOperation[], results: BulkResult[]): (BulkResult | undefined)[] {
  const answers: (BulkResult | undefined)[] = new Array(operations.length).fill(undefined);
  const byBulkId = new Map<string, number>();
  operations.forEach((operation, index) => {
    if (operation.bulkId !== undefined) byBulkId.set(operation.bulkId, index);
  });
  const rest: BulkResult[] = [];
  for (const result of results) {
    const index = result.bulkId === undefined ? undefined : byBulkId.get(result.bulkId);
    if (index !== undefined && answers[index] === undefined) answers[index] = result;
    else rest.push(result);
  }
  let next = 0;
  for (const result of rest) {
    while (next < operations.length && answers[next] !== undefined) next++;
    if (next >= operations.length) break;
    const method = result.method?.toUpperCase();
    if (method !== undefined && method !== operations[next].method) continue;
    answers[next++] = result;
  }
  return answers;
}

/** An operation the target did not run (it stopped the request after errors): sent again at the retry. */
function notRun(operation: BulkOperation): TransientError {
  return new TransientError(
    `The target stopped the Bulk request before ${operation.method} ${operation.path}; it is sent again at the next retry`,
    { code: 'ServiceUnavailable' },
  );
}

/** The resource a Bulk POST created: the answer's resource, or the id at the end of its location. */
function createdResource(type: ScimResourceType, sent: ScimResource, result: BulkResult): ScimResource {
  const response = result.response;
  if (response && typeof response === 'object' && typeof (response as { id?: unknown }).id === 'string') {
    return response as ScimResource;
  }
  const id = result.location ? decodeURIComponent(result.location.replace(/\/+$/, '').split('/').pop() ?? '') : '';
  if (id === '') {
    throw classifyScimFailure({
      kind: 'invalidBody',
      status: result.status,
      reason: `the Bulk answer to POST /${type} has neither the resource nor its location`,
    });
  }
  return { ...sent, id };
}
