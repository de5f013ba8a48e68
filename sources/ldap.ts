// The LDAP / Active Directory source: binds with ldapts, reads users, groups and their members
// with the paged-results control (one page in memory at a time), and maps entries to directory
// objects with an attribute map (defaults for inetOrgPerson/groupOfNames and for Active Directory).
// Every connection is made under the outbound address policy: the host name is resolved inside
// the connect call and refused addresses are never contacted (scim/address-policy.ts).
import net from 'node:net';
import tls from 'node:tls';
import { Client, InvalidCredentialsError, type Entry } from 'ldapts';
import { ConfigurationError, TransientError } from '../engine/errors.ts';
import { AddressNotAllowedError, policyLookup, type AddressPolicy, type Resolver } from '../scim/address-policy.ts';
import type { SourceGroup, SourceMembers, SourceReader, SourceUser } from './types.ts';

export type LdapProfile = 'openldap' | 'activeDirectory';

/** Directory attribute (or a source concept) → the LDAP attribute(s) it comes from; the first present wins. */
export interface LdapAttributeMap {
  id: string;
  userPrincipalName: string[];
  mail: string;
  displayName: string;
  givenName: string;
  surname: string;
  jobTitle: string;
  department: string;
  employeeId: string;
  mobilePhone: string;
  businessPhone: string;
  city: string;
  country: string;
  groupName: string;
  groupDescription: string;
  groupMail: string;
  member: string;
  manager: string;
  modified: string;
}

export interface LdapSourceConfig {
  /** `ldap://host:389` (optionally with `startTls`) or `ldaps://host:636`. */
  url: string;
  startTls?: boolean;
  bindDn: string;
  baseDn: string;
  profile?: LdapProfile;
  userFilter?: string;
  groupFilter?: string;
  /** Overrides of the profile's attribute map. */
  attributes?: Partial<Record<keyof LdapAttributeMap, string | string[]>>;
  /** Entries per page of the paged search (default 500). */
  pageSize?: number;
  /** Milliseconds to wait for the TCP/TLS connection and each operation (default 30 000). */
  timeoutMs?: number;
}

const OPENLDAP: LdapAttributeMap = {
  id: 'entryUUID',
  userPrincipalName: ['mail', 'uid'],
  mail: 'mail',
  displayName: 'displayName',
  givenName: 'givenName',
  surname: 'sn',
  jobTitle: 'title',
  department: 'departmentNumber',
  employeeId: 'employeeNumber',
  mobilePhone: 'mobile',
  businessPhone: 'telephoneNumber',
  city: 'l',
  country: 'c',
  groupName: 'cn',
  groupDescription: 'description',
  groupMail: 'mail',
  member: 'member',
  manager: 'manager',
  modified: 'modifyTimestamp',
};

const ACTIVE_DIRECTORY: LdapAttributeMap = {
  ...OPENLDAP,
  id: 'objectGUID',
  userPrincipalName: ['userPrincipalName', 'mail'],
  department: 'department',
  employeeId: 'employeeID',
  country: 'c',
  modified: 'whenChanged',
};

const DEFAULT_FILTERS: Record<LdapProfile, { users: string; groups: string }> = {
  openldap: { users: '(objectClass=inetOrgPerson)', groups: '(objectClass=groupOfNames)' },
  activeDirectory: { users: '(&(objectCategory=person)(objectClass=user))', groups: '(objectClass=group)' },
};

/** userAccountControl bit 2 (ACCOUNTDISABLE). */
const AD_ACCOUNT_DISABLED = 0x2;

export function attributeMap(config: LdapSourceConfig): LdapAttributeMap {
  const base = config.profile === 'activeDirectory' ? ACTIVE_DIRECTORY : OPENLDAP;
  const map = { ...base } as Record<string, string | string[]>;
  for (const [key, value] of Object.entries(config.attributes ?? {})) {
    if (value !== undefined) map[key] = key === 'userPrincipalName' && !Array.isArray(value) ? [value] : value;
  }
  return map as unknown as LdapAttributeMap;
}

/** A DN as a reference: lower case, no spaces around separators (how member values are compared). */
export const normaliseDn = (dn: string): string =>
  dn
    .split(',')
    .map((rdn) => rdn.trim().replace(/\s*=\s*/, '='))
    .join(',')
    .toLowerCase();

/** An Active Directory objectGUID (16 bytes, mixed endian) in its usual text form. */
export function guidToString(bytes: Buffer): string {
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = [...bytes.subarray(from, to)];
    return (reverse ? part.reverse() : part).map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

function first(entry: Entry, attribute: string | string[]): string | null {
  for (const name of Array.isArray(attribute) ? attribute : [attribute]) {
    const value = entry[name];
    const one = Array.isArray(value) ? value[0] : value;
    if (one === undefined) continue;
    const text = Buffer.isBuffer(one) ? one.toString('utf8') : one;
    if (text !== '') return text;
  }
  return null;
}

function all(entry: Entry, attribute: string): string[] {
  const value = entry[attribute];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
}

/**
 * One slice of an Active Directory ranged attribute: AD answers at most MaxValRange (1500) values
 * of a large multi-valued attribute and names it `member;range=0-1499`; the last slice ends in `*`.
 */
export interface RangedSlice {
  /** The attribute name as the server sent it, e.g. `member;range=1500-2999`. */
  name: string;
  values: string[];
  start: number;
  /** The last value's index, or null for `*` (this slice is the last). */
  end: number | null;
}

/** The ranged slice of `attribute` in an entry (names compared case-insensitively), or null: not ranged. */
export function rangedSlice(entry: Entry, attribute: string): RangedSlice | null {
  const prefix = `${attribute.toLowerCase()};range=`;
  for (const name of Object.keys(entry)) {
    if (!name.toLowerCase().startsWith(prefix)) continue;
    const match = /^(\d+)-(\d+|\*)$/.exec(name.slice(prefix.length));
    if (!match) continue;
    return {
      name,
      values: all(entry, name),
      start: Number(match[1]),
      end: match[2] === '*' ? null : Number(match[2]),
    };
  }
  return null;
}

/** Reads one more slice: the entry `dn` with the attribute `member;range=<from>-*` (the server picks the size). */
export type ReadSlice = (dn: string, rangedName: string) => Promise<Entry | null>;

/**
 * Every value of a ranged attribute: the first slice's values, then follow-up reads from the end
 * of each slice until a slice ends in `*`. A follow-up without the attribute means no values are
 * left (AD answers so when the count is a multiple of the slice size); a slice that does not move
 * forward is an error rather than a loop.
 */
export async function allRangedValues(
  dn: string,
  attribute: string,
  first: RangedSlice,
  read: ReadSlice,
): Promise<string[]> {
  const values = [...first.values];
  let slice = first;
  while (slice.end !== null) {
    const from = slice.end + 1;
    const entry = await read(dn, `${attribute};range=${from}-*`);
    const next = entry ? rangedSlice(entry, attribute) : null;
    if (!next) break;
    if (next.start !== from) {
      throw new TransientError(`LDAP entry ${dn}: asked for ${attribute} values from ${from}, got ${next.name}`, {
        code: 'ServiceUnavailable',
      });
    }
    values.push(...next.values);
    slice = next;
  }
  return values;
}

function stableId(entry: Entry, map: LdapAttributeMap): string | null {
  const value = entry[map.id];
  const one = Array.isArray(value) ? value[0] : value;
  if (one === undefined) return null;
  if (map.id.toLowerCase() === 'objectguid' && Buffer.isBuffer(one) && one.length === 16) return guidToString(one);
  return Buffer.isBuffer(one) ? one.toString('hex') : one;
}

export function toSourceUser(entry: Entry, map: LdapAttributeMap, profile: LdapProfile): SourceUser | null {
  const externalId = stableId(entry, map);
  const userPrincipalName = first(entry, map.userPrincipalName);
  if (!externalId || !userPrincipalName) return null;
  const control = Number(first(entry, 'userAccountControl') ?? '0');
  const manager = first(entry, map.manager);
  return {
    externalId,
    ref: normaliseDn(entry.dn),
    managerRef: manager ? normaliseDn(manager) : null,
    user: {
      userPrincipalName,
      mail: first(entry, map.mail),
      displayName: first(entry, map.displayName),
      givenName: first(entry, map.givenName),
      surname: first(entry, map.surname),
      jobTitle: first(entry, map.jobTitle),
      department: first(entry, map.department),
      employeeId: first(entry, map.employeeId),
      mobilePhone: first(entry, map.mobilePhone),
      businessPhones: all(entry, map.businessPhone),
      city: first(entry, map.city),
      country: first(entry, map.country),
      accountEnabled: profile === 'activeDirectory' ? (control & AD_ACCOUNT_DISABLED) === 0 : true,
    },
  };
}

export function toSourceGroup(entry: Entry, map: LdapAttributeMap): SourceGroup | null {
  const externalId = stableId(entry, map);
  const displayName = first(entry, map.groupName);
  if (!externalId || !displayName) return null;
  return {
    externalId,
    ref: normaliseDn(entry.dn),
    group: { displayName, description: first(entry, map.groupDescription), mail: first(entry, map.groupMail) },
  };
}

/** `(&<filter>(<modified> >= since))`, or the filter itself for a full read. */
const sinceFilter = (filter: string, modified: string, since: string | null): string =>
  since === null ? filter : `(&${filter}(${modified}>=${since}))`;

/** GeneralizedTime without fractions (AD answers `20240101120000.0Z`), comparable as text. */
const plainTime = (value: string): string => value.replace(/\.\d+Z$/, 'Z');

/** SNI name: a host name, never an IP literal. */
const serverName = (host: string | undefined): string | undefined => (host && net.isIP(host) === 0 ? host : undefined);

export interface LdapConnectOptions {
  config: LdapSourceConfig;
  bindPassword: string | null;
  policy: AddressPolicy;
  /** Name resolution (tests stand one in); default the system's. */
  resolve?: Resolver;
}

/** A connection error as the typed error it means: the message names the server, never the password. */
export function ldapError(error: unknown, config: LdapSourceConfig): Error {
  if (error instanceof ConfigurationError || error instanceof TransientError) return error;
  if (error instanceof AddressNotAllowedError || (error as { code?: unknown })?.code === 'FERRY_ADDRESS_NOT_ALLOWED') {
    return new ConfigurationError((error as Error).message, { code: 'AddressNotAllowed', cause: error });
  }
  if (error instanceof InvalidCredentialsError) {
    return new ConfigurationError(
      `The LDAP server ${config.url} refused the bind as ${config.bindDn}: invalid credentials (check bindDn and bindPassword).`,
      { code: 'Unauthorized' },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new TransientError(`LDAP source ${config.url}: ${message}`, { code: 'ServiceUnavailable', cause: error });
}

/** Opens and binds a connection; throws ConfigurationError (refused bind, refused address) or TransientError. */
export async function openLdapReader(options: LdapConnectOptions): Promise<SourceReader> {
  const { config } = options;
  const lookup = policyLookup(options.policy, options.resolve);
  const timeout = config.timeoutMs ?? 30_000;
  const hostOf = (url: string) => new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  const host = hostOf(config.url);
  // An IP literal is never resolved: check it before any socket is opened.
  if (net.isIP(host) !== 0 && !(await new Promise<boolean>((ok) => lookup(host, {}, (e) => ok(!e))))) {
    throw ldapError(new AddressNotAllowedError(host), config);
  }
  const client = new Client({
    url: config.url,
    timeout,
    connectTimeout: timeout,
    // ldapts calls these as (port, host[, tlsOptions]), and for StartTLS with the options of the open socket.
    createConnection: ((port: number, connectHost: string) =>
      net.connect({ port, host: connectHost, lookup })) as unknown as typeof net.connect,
    createSecureConnection: ((
      first: number | tls.ConnectionOptions,
      connectHost?: string,
      tlsOptions?: tls.ConnectionOptions,
    ) =>
      typeof first === 'object'
        ? tls.connect(first)
        : tls.connect({
            ...tlsOptions,
            port: first,
            host: connectHost,
            servername: serverName(connectHost),
            lookup,
          })) as unknown as typeof tls.connect,
  });
  try {
    if (config.startTls) await client.startTLS({ servername: serverName(host) });
    if (options.bindPassword !== null) await client.bind(config.bindDn, options.bindPassword);
  } catch (error) {
    await client.unbind().catch(() => {});
    throw ldapError(error, config);
  }
  return new LdapReader(client, config);
}

class LdapReader implements SourceReader {
  readonly incremental = true;
  private readonly map: LdapAttributeMap;
  private readonly profile: LdapProfile;
  private latest: string | null = null;

  constructor(
    private readonly client: Client,
    private readonly config: LdapSourceConfig,
  ) {
    this.map = attributeMap(config);
    this.profile = config.profile ?? 'openldap';
  }

  private async *search(filter: string, attributes: string[]): AsyncGenerator<Entry[]> {
    const binary = this.map.id.toLowerCase() === 'objectguid' ? [this.map.id] : [];
    try {
      const pages = this.client.searchPaginated(this.config.baseDn, {
        scope: 'sub',
        filter,
        attributes,
        explicitBufferAttributes: binary,
        paged: { pageSize: this.config.pageSize ?? 500 },
      });
      for await (const page of pages) {
        for (const entry of page.searchEntries) this.note(entry);
        yield page.searchEntries;
      }
    } catch (error) {
      throw ldapError(error, this.config);
    }
  }

  private note(entry: Entry) {
    const modified = first(entry, this.map.modified);
    if (modified && (this.latest === null || plainTime(modified) > this.latest)) this.latest = plainTime(modified);
  }

  private filters() {
    const defaults = DEFAULT_FILTERS[this.profile];
    return { users: this.config.userFilter ?? defaults.users, groups: this.config.groupFilter ?? defaults.groups };
  }

  async *users(since: string | null): AsyncIterable<SourceUser[]> {
    const m = this.map;
    const attributes = [
      m.id,
      ...m.userPrincipalName,
      m.mail,
      m.displayName,
      m.givenName,
      m.surname,
      m.jobTitle,
      m.department,
      m.employeeId,
      m.mobilePhone,
      m.businessPhone,
      m.city,
      m.country,
      m.manager,
      m.modified,
      'userAccountControl',
    ];
    for await (const page of this.search(sinceFilter(this.filters().users, m.modified, since), attributes)) {
      yield page.map((e) => toSourceUser(e, m, this.profile)).filter((u): u is SourceUser => u !== null);
    }
  }

  async *groups(since: string | null): AsyncIterable<SourceGroup[]> {
    const m = this.map;
    const attributes = [m.id, m.groupName, m.groupDescription, m.groupMail, m.modified];
    for await (const page of this.search(sinceFilter(this.filters().groups, m.modified, since), attributes)) {
      yield page.map((e) => toSourceGroup(e, m)).filter((g): g is SourceGroup => g !== null);
    }
  }

  async *members(since: string | null): AsyncIterable<SourceMembers[]> {
    const m = this.map;
    for await (const page of this.search(sinceFilter(this.filters().groups, m.modified, since), [m.id, m.member])) {
      const out: SourceMembers[] = [];
      for (const entry of page) {
        const externalId = stableId(entry, m);
        if (externalId) out.push({ externalId, memberRefs: (await this.memberValues(entry)).map(normaliseDn) });
      }
      yield out;
    }
  }

  /**
   * A group's member DNs. Only when the server answered the attribute in ranges (Active Directory,
   * past MaxValRange values) are the further ranges read; other servers answer `member` whole.
   */
  private async memberValues(entry: Entry): Promise<string[]> {
    const attribute = this.map.member;
    const first = rangedSlice(entry, attribute);
    if (!first) return all(entry, attribute);
    return allRangedValues(entry.dn, attribute, first, (dn, rangedName) => this.readBase(dn, rangedName));
  }

  /** One entry by its DN with one attribute (a ranged attribute name is sent as it is). */
  private async readBase(dn: string, attribute: string): Promise<Entry | null> {
    try {
      const { searchEntries } = await this.client.search(dn, {
        scope: 'base',
        filter: '(objectClass=*)',
        attributes: [attribute],
      });
      return searchEntries[0] ?? null;
    } catch (error) {
      throw ldapError(error, this.config);
    }
  }

  highWater(): string | null {
    return this.latest;
  }

  async close(): Promise<void> {
    await this.client.unbind().catch(() => {});
  }
}
