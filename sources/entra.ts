// The Microsoft Entra ID source: reads users and groups with Microsoft Graph delta queries. A full
// import starts new rounds of `users/delta` and `groups/delta` and follows `@odata.nextLink` to
// the `@odata.deltaLink`; both deltaLinks together (one JSON string) are the source's change
// marker, and an incremental import calls them to get only what changed: updated objects,
// `@removed` ones (soft-deleted here), and `members@delta` additions and removals.
import type { AddressPolicy, Resolver } from '../scim/address-policy.ts';
import { GraphClient } from './graph-client.ts';
import type { SourceGroup, SourceMembers, SourceReader, SourceUser } from './types.ts';

export interface EntraSourceConfig {
  tenantId: string;
  clientId: string;
  /** Token endpoint base (default https://login.microsoftonline.com). */
  authority?: string;
  /** Graph base (default https://graph.microsoft.com). */
  graphUrl?: string;
  /** User properties to read besides the mapped ones; kept as the user's extensions. */
  userSelect?: string[];
  /** Group properties to read besides the mapped ones; kept as the group's extensions. */
  groupSelect?: string[];
  timeoutMs?: number;
  /** Certificate credentials (PEM certificate, public): the stored secret is then its private key. */
  certificate?: string;
  /** Instead of `certificate`: its hex thumbprint (SHA-1, 40 digits, or SHA-256, 64). */
  certificateThumbprint?: string;
}

/** Whether the source authenticates with a certificate (its stored secret is then the private key). */
export const usesCertificate = (config: Partial<EntraSourceConfig>): boolean =>
  config.certificate !== undefined || config.certificateThumbprint !== undefined;

/** Graph user property → directory attribute (same names, except none differ today). */
export const USER_PROPERTIES = [
  'userPrincipalName',
  'mail',
  'mailNickname',
  'displayName',
  'givenName',
  'surname',
  'jobTitle',
  'department',
  'companyName',
  'employeeId',
  'mobilePhone',
  'officeLocation',
  'city',
  'country',
] as const;

export const GROUP_PROPERTIES = ['displayName', 'description', 'mail', 'mailNickname'] as const;

/** The change marker: the deltaLink of each collection. */
interface Marker {
  users: string;
  groups: string;
}

type GraphObject = Record<string, unknown> & { id?: unknown };

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const removed = (o: GraphObject) => o['@removed'] !== undefined;

function parseMarker(since: string | null): Marker | null {
  if (!since) return null;
  try {
    const marker = JSON.parse(since) as Partial<Marker>;
    return typeof marker.users === 'string' && typeof marker.groups === 'string'
      ? { users: marker.users, groups: marker.groups }
      : null;
  } catch {
    return null;
  }
}

/**
 * The manager's object id: `manager@delta` (its last entry; `@removed` = no manager) or an expanded
 * `manager`. Absent: null in a full round (no manager), undefined in an incremental one (unchanged).
 */
export function managerOf(user: GraphObject, fullRound: boolean): string | null | undefined {
  const delta = user['manager@delta'];
  if (Array.isArray(delta) && delta.length > 0) {
    const last = delta[delta.length - 1] as GraphObject;
    return removed(last) ? null : text(last.id);
  }
  const expanded = user.manager as GraphObject | null | undefined;
  if (expanded && typeof expanded === 'object') return text(expanded.id);
  if (expanded === null) return null;
  return fullRound ? null : undefined;
}

export function toSourceUser(user: GraphObject, extras: string[], fullRound: boolean): SourceUser | null {
  const id = text(user.id);
  const userPrincipalName = text(user.userPrincipalName);
  if (!id || !userPrincipalName) return null;
  const attributes: Record<string, unknown> = {};
  for (const name of USER_PROPERTIES) attributes[name] = text(user[name]);
  const phones = Array.isArray(user.businessPhones) ? user.businessPhones.filter((p) => typeof p === 'string') : [];
  const extensions = Object.fromEntries(extras.map((name) => [name, user[name] ?? null]));
  const managerRef = managerOf(user, fullRound);
  return {
    externalId: id,
    ref: id,
    ...(managerRef === undefined ? {} : { managerRef }),
    user: {
      ...(attributes as { userPrincipalName: string }),
      userPrincipalName,
      businessPhones: phones,
      accountEnabled: user.accountEnabled !== false,
      extensions,
    },
  };
}

export function toSourceGroup(group: GraphObject, extras: string[]): SourceGroup | null {
  const id = text(group.id);
  const displayName = text(group.displayName);
  if (!id || !displayName) return null;
  return {
    externalId: id,
    ref: id,
    group: {
      displayName,
      description: text(group.description),
      mail: text(group.mail),
      mailNickname: text(group.mailNickname),
      extensions: Object.fromEntries(extras.map((name) => [name, group[name] ?? null])),
    },
  };
}

export interface EntraConnectOptions {
  sourceId: string;
  config: EntraSourceConfig;
  /** The stored secret: the client secret, or the certificate's private key. */
  clientSecret: string | null;
  policy: AddressPolicy;
  resolve?: Resolver;
  sleep?: (ms: number) => Promise<void>;
}

/** Gets a token first, so wrong credentials fail before the import begins. */
export async function openEntraReader(options: EntraConnectOptions): Promise<EntraReader> {
  const { config } = options;
  const client = new GraphClient({
    sourceId: options.sourceId,
    tenantId: config.tenantId,
    clientId: config.clientId,
    clientSecret: options.clientSecret,
    ...(usesCertificate(config)
      ? { certificate: { certificate: config.certificate, thumbprint: config.certificateThumbprint } }
      : {}),
    authority: config.authority,
    graphUrl: config.graphUrl,
    policy: options.policy,
    resolve: options.resolve,
    timeoutMs: config.timeoutMs,
    sleep: options.sleep,
  });
  try {
    await client.accessToken();
  } catch (error) {
    await client.close();
    throw error;
  }
  return new EntraReader(client, config);
}

export class EntraReader implements SourceReader {
  readonly incremental = true;
  private readonly links: Partial<Marker> = {};
  /** Per group: member ids added (or present, in a full round) and removed, gathered while groups are read. */
  private readonly memberChanges = new Map<string, { added: Set<string>; removed: Set<string> }>();
  private readonly removedIds = { users: [] as string[], groups: [] as string[] };
  private fullRound = true;

  constructor(
    private readonly client: GraphClient,
    private readonly config: EntraSourceConfig,
  ) {}

  private start(kind: 'users' | 'groups', since: string | null): string {
    const marker = parseMarker(since);
    this.fullRound = marker === null;
    if (marker) return marker[kind];
    const select =
      kind === 'users'
        ? ['id', ...USER_PROPERTIES, 'businessPhones', 'accountEnabled', 'manager', ...(this.config.userSelect ?? [])]
        : ['id', ...GROUP_PROPERTIES, 'members', ...(this.config.groupSelect ?? [])];
    return `${this.client.graphBase}/v1.0/${kind}/delta?$select=${[...new Set(select)].join(',')}`;
  }

  /** The pages of one round, to its deltaLink (kept for the marker). */
  private async *round(kind: 'users' | 'groups', since: string | null): AsyncGenerator<GraphObject[]> {
    let link: string | null = this.start(kind, since);
    while (link) {
      const page = await this.client.get(link);
      const next = text(page['@odata.nextLink']);
      const delta = text(page['@odata.deltaLink']);
      yield Array.isArray(page.value) ? (page.value as GraphObject[]) : [];
      if (delta) this.links[kind] = delta;
      link = next;
    }
  }

  async *users(since: string | null): AsyncIterable<SourceUser[]> {
    const extras = this.config.userSelect ?? [];
    for await (const page of this.round('users', since)) {
      for (const o of page) if (removed(o) && text(o.id)) this.removedIds.users.push(text(o.id)!);
      const fullRound = this.fullRound;
      yield page
        .filter((o) => !removed(o))
        .map((o) => toSourceUser(o, extras, fullRound))
        .filter((u): u is SourceUser => u !== null);
    }
  }

  async *groups(since: string | null): AsyncIterable<SourceGroup[]> {
    const extras = this.config.groupSelect ?? [];
    for await (const page of this.round('groups', since)) {
      const out: SourceGroup[] = [];
      for (const o of page) {
        const id = text(o.id);
        if (!id) continue;
        if (removed(o)) {
          this.removedIds.groups.push(id);
          continue;
        }
        this.noteMembers(id, o['members@delta']);
        // A group's members may come in several entries of the round: each entry carries its attributes too.
        const group = toSourceGroup(o, extras);
        if (group) out.push(group);
      }
      yield out;
    }
  }

  private noteMembers(groupId: string, delta: unknown): void {
    const changes = this.memberChanges.get(groupId) ?? { added: new Set<string>(), removed: new Set<string>() };
    this.memberChanges.set(groupId, changes);
    if (!Array.isArray(delta)) return;
    for (const member of delta as GraphObject[]) {
      const id = text(member.id);
      if (!id) continue;
      if (removed(member)) {
        changes.added.delete(id);
        changes.removed.add(id);
      } else {
        changes.removed.delete(id);
        changes.added.add(id);
      }
    }
  }

  /** Full round: each group's whole member list. Incremental: only the changes. */
  async *members(): AsyncIterable<SourceMembers[]> {
    const all = [...this.memberChanges];
    for (let i = 0; i < all.length; i += 200) {
      yield all
        .slice(i, i + 200)
        .map(([externalId, { added, removed: gone }]) =>
          this.fullRound
            ? { externalId, memberRefs: [...added] }
            : { externalId, memberRefs: [...added], removedRefs: [...gone], partial: true },
        );
    }
  }

  /** Users and groups the source answered `@removed` for (incremental rounds only). */
  removed(): { users: string[]; groups: string[] } {
    return this.removedIds;
  }

  highWater(): string | null {
    const { users, groups } = this.links;
    return users && groups ? JSON.stringify({ users, groups }) : null;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
