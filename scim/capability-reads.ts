// The capability probe's read-only checks: what /ServiceProviderConfig advertises, whether filters on
// the app's matching attributes are answered correctly, whether startIndex/count page, and whether
// `active` comes back as a boolean. Nothing here writes to the target.
import type { ScimResource } from '../engine/types.ts';
import { eqFilter } from './filter.ts';
import { listResponseSchema, serviceProviderConfigSchema } from './schemas.ts';
import type { ScimClient } from './types.ts';

export type CheckOutcome = 'supported' | 'unsupported' | 'inconclusive';

export interface CapabilityCheck {
  /** `filter:userName`, `paging`, `activeBoolean`, `create`, `patch`, `patchValuePath`, … */
  id: string;
  outcome: CheckOutcome;
  detail: string;
}

export interface AdvertisedCapabilities {
  patch: boolean;
  bulk: { supported: boolean; maxOperations: number | null; maxPayloadSize: number | null };
  filter: { supported: boolean; maxResults: number | null };
  etag: boolean;
  sort: boolean;
}

export const is2xx = (status: number) => status >= 200 && status < 300;

export const check = (id: string, outcome: CheckOutcome, detail: string): CapabilityCheck => ({ id, outcome, detail });

/** The answer's resources, or null when it is not a list. */
export function resourcesOf(body: unknown): { resources: ScimResource[]; totalResults?: number } | null {
  const parsed = listResponseSchema.safeParse(body);
  if (!parsed.success) return null;
  const resources = parsed.data.resources.filter(
    (r): r is ScimResource => r !== null && typeof r === 'object' && !Array.isArray(r),
  );
  return { resources, totalResults: parsed.data.totalResults };
}

/** The value at a dotted SCIM path (`userName`, `name.familyName`), when it is a plain value. */
function valueAt(resource: ScimResource, path: string): string | number | boolean | undefined {
  let value: unknown = resource;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const key = Object.keys(value).find((k) => k.toLowerCase() === part.toLowerCase());
    value = key === undefined ? undefined : (value as Record<string, unknown>)[key];
  }
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
}

/** `/ServiceProviderConfig` as the target states it; null when it has none or it is not usable. */
export async function readAdvertised(client: ScimClient): Promise<AdvertisedCapabilities | null> {
  const { status, body } = await client.request({ method: 'GET', path: '/ServiceProviderConfig' });
  if (!is2xx(status)) return null;
  const parsed = serviceProviderConfigSchema.safeParse(body);
  if (!parsed.success) return null;
  const c = parsed.data;
  return {
    patch: c.patch?.supported ?? false,
    bulk: {
      supported: c.bulk?.supported ?? false,
      maxOperations: c.bulk?.maxOperations ?? null,
      maxPayloadSize: c.bulk?.maxPayloadSize ?? null,
    },
    filter: { supported: c.filter?.supported ?? false, maxResults: c.filter?.maxResults ?? null },
    etag: c.etag?.supported ?? false,
    sort: c.sort?.supported ?? false,
  };
}

/** A filter on `attribute` with `sample`'s value: answered correctly when it returns `sample` and only matches. */
async function filterCheck(client: ScimClient, attribute: string, sample: ScimResource): Promise<CapabilityCheck> {
  const id = `filter:${attribute}`;
  const value = valueAt(sample, attribute);
  if (value === undefined) return check(id, 'inconclusive', `The sampled user has no ${attribute} to filter on`);
  let filter: string;
  try {
    filter = eqFilter(attribute, value);
  } catch {
    return check(id, 'inconclusive', `${attribute} is not a path a filter can name`);
  }
  const { status, body } = await client.request({ method: 'GET', path: '/Users', query: { filter } });
  if (!is2xx(status)) return check(id, 'unsupported', `A filter on ${attribute} was answered ${status}`);
  const list = resourcesOf(body);
  if (!list) return check(id, 'unsupported', `A filter on ${attribute} was not answered with a list`);
  const found = list.resources.some((r) => String(r.id) === String(sample.id));
  const onlyMatches = list.resources.every((r) => valueAt(r, attribute) === value);
  if (found && onlyMatches) return check(id, 'supported', `${attribute} eq "…" returns the matching user only`);
  return check(
    id,
    'unsupported',
    found
      ? `A filter on ${attribute} also returned users that do not match`
      : `A filter on ${attribute} missed the user`,
  );
}

/** startIndex/count: page 1 of size 1 holds one user, page 2 another. */
async function pagingCheck(client: ScimClient): Promise<CapabilityCheck> {
  const page = async (startIndex: number) => {
    const { status, body } = await client.request({
      method: 'GET',
      path: '/Users',
      query: { startIndex: String(startIndex), count: '1' },
    });
    return is2xx(status) ? resourcesOf(body) : null;
  };
  const first = await page(1);
  if (!first) return check('paging', 'unsupported', 'GET /Users?startIndex=1&count=1 was not answered with a list');
  if (first.resources.length > 1) return check('paging', 'unsupported', 'The target ignores count (asked 1)');
  if ((first.totalResults ?? 0) < 2 || first.resources.length === 0)
    return check('paging', 'inconclusive', 'Fewer than two users in the target: paging cannot be told apart');
  const second = await page(2);
  if (!second || second.resources.length !== 1)
    return check('paging', 'unsupported', 'GET /Users?startIndex=2&count=1 did not answer one user');
  return String(second.resources[0].id) === String(first.resources[0].id)
    ? check('paging', 'unsupported', 'The target ignores startIndex (page 2 repeats page 1)')
    : check('paging', 'supported', 'startIndex and count page through users');
}

export interface ReadFindings {
  checks: CapabilityCheck[];
  /** Null when no user was read. */
  activeIsString: boolean | null;
}

/**
 * The read checks on `sample` (the probe's own user in a writes probe), or on the first user the
 * target lists. `matching`: the app's matching attributes (target paths), in precedence order.
 */
export async function readChecks(
  client: ScimClient,
  matching: readonly string[],
  sample?: ScimResource,
): Promise<ReadFindings> {
  const checks: CapabilityCheck[] = [];
  let user = sample;
  if (!user) {
    const { status, body } = await client.request({ method: 'GET', path: '/Users', query: { count: '1' } });
    user = is2xx(status) ? resourcesOf(body)?.resources[0] : undefined;
  }
  for (const attribute of matching) {
    checks.push(
      user
        ? await filterCheck(client, attribute, user)
        : check(`filter:${attribute}`, 'inconclusive', 'No user in the target to filter on (a write probe makes one)'),
    );
  }
  checks.push(await pagingCheck(client));
  let activeIsString: boolean | null = null;
  const active = user?.active;
  if (typeof active === 'boolean') {
    activeIsString = false;
    checks.push(check('activeBoolean', 'supported', 'active comes back as a boolean'));
  } else if (typeof active === 'string') {
    activeIsString = true;
    checks.push(check('activeBoolean', 'unsupported', `active comes back as the string "${active.slice(0, 10)}"`));
  } else {
    checks.push(check('activeBoolean', 'inconclusive', user ? 'The user read has no active' : 'No user to read'));
  }
  return { checks, activeIsString };
}
