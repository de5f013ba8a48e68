// Reading collections: one page, every page (tolerant of targets that ignore `count`, misreport
// `itemsPerPage` or ignore `startIndex`), and finding by one attribute — with a filter, or by
// listing everything and comparing here when the target cannot filter.
import type { ScimResource } from '../engine/types.ts';
import { classifyScimFailure } from './classify.ts';
import type { ClientLog, Send } from './exchange.ts';
import { eqFilter } from './filter.ts';
import { listResponseSchema, scimResource, type ServiceProviderConfig } from './schemas.ts';
import type { ListOptions, ListPage, ScimClient, ScimResourceType } from './types.ts';

export type Listing = Pick<ScimClient, 'list' | 'pages' | 'listAll' | 'findBy'>;

/** A resource's attribute by path (`name.givenName`, `urn:…:User:manager.value`), case-insensitive as in SCIM. */
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

export function createListing(send: Send, discover: () => Promise<ServiceProviderConfig>, log: ClientLog): Listing {
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
      const resource = scimResource(item);
      if (resource) resources.push(resource);
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

  return { list, pages, listAll, findBy };
}
