// One user or group on the target: read, create, replace, patch (or GET + PUT where PATCH is not
// available), delete (gone is done), and create-or-adopt, which never POSTs blindly twice.
import { ConflictError, FerryError, PermanentError } from '../engine/errors.ts';
import type { CompatibilityProfile, PatchOperation, ScimResource } from '../engine/types.ts';
import { classifyScimFailure } from './classify.ts';
import type { ClientCounters, ClientLog, ExchangeResult, Send } from './exchange.ts';
import { applyPatch, toPatchOpMessage } from './patch.ts';
import { scimResource, type ServiceProviderConfig } from './schemas.ts';
import type { MatchAttribute, ScimClient, ScimResourceType } from './types.ts';
import { uriComponent } from './uri.ts';

export interface ResourceDeps {
  send: Send;
  discover: () => Promise<ServiceProviderConfig>;
  findBy: ScimClient['findBy'];
  /** Whether a POST that failed with this error may have been processed anyway. */
  outcomeUnknown: (error: unknown) => boolean;
  profile: CompatibilityProfile;
  /** Create rounds before an unknown outcome is given up on. */
  attempts: number;
  counters: ClientCounters;
  log: ClientLog;
}

export interface Resources extends Pick<ScimClient, 'get' | 'create' | 'replace' | 'patch' | 'createOrAdopt'> {
  remove: ScimClient['delete'];
  /** Whether changes go as GET + PUT of the whole resource (`put-only`, or a target without PATCH). */
  usePut(): Promise<boolean>;
}

function toResource({ status, body }: ExchangeResult, what: string): ScimResource {
  const resource = scimResource(body);
  if (!resource) {
    throw classifyScimFailure({ kind: 'invalidBody', status, reason: `the answer to ${what} has no resource id` });
  }
  return resource;
}

const resourcePath = (type: ScimResourceType, id: string) => `/${type}/${uriComponent(id, `The ${type} id`)}`;

export function createResources(deps: ResourceDeps): Resources {
  const { send, discover, findBy, outcomeUnknown, profile, attempts, counters, log } = deps;

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
        const unknown = outcomeUnknown(error);
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
        if (conflict || round >= attempts) throw error;
        // Unknown outcome and provably not there: a new POST cannot duplicate.
      }
    }
  }

  return { get, create, replace, patch, remove, createOrAdopt, usePut };
}
