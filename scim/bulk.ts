// `/Bulk`: only when the app enables it and the target advertises it. For put-only targets every
// PATCH operation is sent as the PUT of the whole resource, read first and changed here.
import { ConfigurationError, type FerryError } from '../engine/errors.ts';
import type { CompatibilityProfile } from '../engine/types.ts';
import { classifyScimFailure } from './classify.ts';
import type { Send } from './exchange.ts';
import { applyPatch, toPatchOpMessage } from './patch.ts';
import type { Resources } from './resources.ts';
import { bulkResponseSchema, type ServiceProviderConfig } from './schemas.ts';
import type { BulkLimits, BulkOperation, BulkOptions, BulkResult, ScimResourceType } from './types.ts';

/** Operations per request when the target advertises Bulk without a `maxOperations`. */
const DEFAULT_MAX_OPERATIONS = 100;
/** Bytes per request when the target advertises Bulk without a `maxPayloadSize` (RFC 7644 gives none). */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * The error one operation of a Bulk answer stands for, classified as the same request sent on its
 * own would be (a 404 on `/Users/{id}` is that object gone; on a POST to `/Users` it is not); null
 * for a 2xx.
 */
export function bulkResultError(operation: BulkOperation, result: BulkResult): FerryError | null {
  if (result.status >= 200 && result.status < 300) return null;
  return classifyScimFailure({
    kind: 'response',
    status: result.status,
    body: result.response,
    resourceUrl: operation.method !== 'POST',
  });
}

export interface BulkDeps {
  send: Send;
  discover: () => Promise<ServiceProviderConfig>;
  get: Resources['get'];
  usePut: Resources['usePut'];
  profile: CompatibilityProfile;
  /** The app's `bulk` option. */
  enabled: boolean;
}

export function createBulk({ send, discover, get, usePut, profile, enabled }: BulkDeps) {
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

  /** What one request may carry; null when the app has not enabled Bulk or the target does not advertise it. */
  async function bulkLimits(): Promise<BulkLimits | null> {
    if (!enabled) return null;
    const config = await discover();
    if (!config.bulk.supported) return null;
    // `0` is what targets without Bulk often advertise next to `supported: true`: nothing to send.
    if (config.bulk.maxOperations === 0 || config.bulk.maxPayloadSize === 0) return null;
    return {
      maxOperations: config.bulk.maxOperations ?? DEFAULT_MAX_OPERATIONS,
      maxPayloadSize: config.bulk.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD,
      patchAsPut: await usePut(),
    };
  }

  async function bulk(operations: BulkOperation[], options: BulkOptions = {}): Promise<BulkResult[]> {
    const config = await discover();
    if (!enabled || !config.bulk.supported) {
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
        ...(options.failOnErrors !== undefined ? { failOnErrors: options.failOnErrors } : {}),
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

  return { bulk, bulkLimits };
}
