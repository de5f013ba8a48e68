// `/Bulk`: only when the app enables it and the target advertises it. For put-only targets every
// PATCH operation is sent as the PUT of the whole resource, read first and changed here.
import { ConfigurationError } from '../engine/errors.ts';
import type { CompatibilityProfile } from '../engine/types.ts';
import { classifyScimFailure } from './classify.ts';
import type { Send } from './exchange.ts';
import { applyPatch, toPatchOpMessage } from './patch.ts';
import type { Resources } from './resources.ts';
import { bulkResponseSchema, type ServiceProviderConfig } from './schemas.ts';
import type { BulkOperation, BulkResult, ScimResourceType } from './types.ts';

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

  return async function bulk(operations: BulkOperation[]): Promise<BulkResult[]> {
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
  };
}
