// The outbound address policy: which IP addresses Ferry opens connections to. Every connection to
// an app's SCIM target or OAuth token URL is checked here, on the address actually connected: the
// host name is resolved inside the connect call (a `lookup` hook), so a name that answers with a
// public address first and a private one later (DNS rebinding) is still refused.
//
// Refused unless the operator allows them: loopback, private (RFC 1918), shared CGNAT space,
// link-local (cloud metadata services live at 169.254.169.254), unique-local IPv6, and ranges
// reserved for documentation, benchmarks or the future. Unspecified (0.0.0.0, ::) and multicast
// addresses are refused always. IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64, 6to4)
// are judged by that IPv4 address.
import dns from 'node:dns';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { buildConnector } from 'undici';

export type AddressCategory =
  | 'public'
  | 'loopback'
  | 'private'
  | 'sharedAddressSpace'
  | 'linkLocal'
  | 'uniqueLocal'
  | 'reserved'
  | 'unspecified'
  | 'multicast';

/** One network in CIDR notation, parsed. */
export interface NetworkRange {
  readonly family: 4 | 6;
  /** The network address as an unsigned integer of 32 or 128 bits. */
  readonly base: bigint;
  readonly prefix: number;
  /** As written by the operator, normalised (`10.0.0.0/8`). */
  readonly text: string;
}

export interface AddressPolicy {
  /** Loopback addresses (127.0.0.0/8, ::1) are allowed: development, tests (FERRY_ALLOW_INSECURE_LOOPBACK=1). */
  readonly allowLoopback: boolean;
  /** Networks the operator allows although the policy would refuse them (FERRY_ALLOWED_TARGET_NETWORKS). */
  readonly allowedNetworks: readonly NetworkRange[];
}

/** The policy with nothing widened: public addresses only. */
export const STRICT_ADDRESS_POLICY: AddressPolicy = { allowLoopback: false, allowedNetworks: [] };

/** The one message for a refused address: the same whether or not anything listens there (nothing is contacted). */
export const ADDRESS_NOT_ALLOWED_MESSAGE =
  "its address is in a network Ferry's outbound address policy refuses (loopback, private, link-local, shared, unique-local or reserved); an operator can allow a network with FERRY_ALLOWED_TARGET_NETWORKS";

/** A connection refused by the address policy before anything was sent. Never names the resolved address. */
export class AddressNotAllowedError extends Error {
  readonly code = 'FERRY_ADDRESS_NOT_ALLOWED';
  constructor(readonly host: string) {
    super(`Ferry does not connect to ${host}: ${ADDRESS_NOT_ALLOWED_MESSAGE}`);
    this.name = 'AddressNotAllowedError';
  }
}

// --- parsing ---------------------------------------------------------------------------------

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part.startsWith('0'))) return null;
    const byte = Number(part);
    if (byte > 255) return null;
    value = (value << 8n) | BigInt(byte);
  }
  return value;
}

function parseIpv6(input: string): bigint | null {
  let text = input;
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  let tailV4: bigint | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    if (tailV4 === null) return null;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let value = 0n;
  for (const group of all) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  if (tailV4 !== null) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** An IP address as family and integer; null when the text is not an IP address. */
export function parseIp(text: string): { family: 4 | 6; value: bigint } | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const family = isIP(bare);
  if (family === 4) {
    const value = parseIpv4(bare);
    return value === null ? null : { family: 4, value };
  }
  if (family === 6) {
    const value = parseIpv6(bare);
    return value === null ? null : { family: 6, value };
  }
  return null;
}

function formatRange(family: 4 | 6, base: bigint, prefix: number): string {
  if (family === 4) {
    const bytes = [24n, 16n, 8n, 0n].map((shift) => Number((base >> shift) & 0xffn));
    return `${bytes.join('.')}/${prefix}`;
  }
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((base >> shift) & 0xffffn).toString(16));
  // Longest run of zero groups becomes `::`.
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  const text =
    best.start === -1
      ? groups.join(':')
      : `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
  return `${text}/${prefix}`;
}

/**
 * Parse `10.0.0.0/8`, `fd00::/8`, or a bare address (one host: /32 or /128). Throws an Error
 * saying what is wrong (without repeating the text) when it is not a network, or when it has bits
 * set past its prefix length (`10.1.2.3/8` is ambiguous: write `10.0.0.0/8` or `10.1.2.3/32`).
 */
export function parseNetwork(text: string): NetworkRange {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = parseIp(slash === -1 ? trimmed : trimmed.slice(0, slash));
  if (!address) throw new Error('is not an IPv4 or IPv6 network in CIDR notation (e.g. 10.0.0.0/8 or fd00::/8)');
  const bits = address.family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash !== -1) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits)
      throw new Error(`has a prefix length that is not a number from 0 to ${bits}`);
    prefix = Number(prefixText);
  }
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  if ((address.value & hostMask) !== 0n)
    throw new Error('has address bits set past its prefix length (write the network address, e.g. 10.0.0.0/8)');
  return {
    family: address.family,
    base: address.value,
    prefix,
    text: formatRange(address.family, address.value, prefix),
  };
}

/** Parse a comma-separated list of networks (FERRY_ALLOWED_TARGET_NETWORKS); empty entries are ignored. */
export function parseNetworkList(text: string): NetworkRange[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.map((entry, index) => {
    try {
      return parseNetwork(entry);
    } catch (error) {
      throw new Error(`entry ${index + 1} ${(error as Error).message}`);
    }
  });
}

function contains(range: NetworkRange, family: 4 | 6, value: bigint): boolean {
  if (range.family !== family) return false;
  const bits = family === 4 ? 32 : 128;
  const shift = BigInt(bits - range.prefix);
  return value >> shift === range.base >> shift;
}

// --- classification --------------------------------------------------------------------------

const ranges = (family: 4 | 6, list: [string, AddressCategory][]) =>
  list.map(([cidr, category]) => ({ range: { ...parseNetwork(cidr), family }, category }));

/** Every IPv4 range that is not public, most specific first where they nest. */
const IPV4_RANGES = ranges(4, [
  ['0.0.0.0/32', 'unspecified'],
  ['0.0.0.0/8', 'reserved'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'sharedAddressSpace'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'linkLocal'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'reserved'],
  ['192.88.99.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'],
  ['198.51.100.0/24', 'reserved'],
  ['203.0.113.0/24', 'reserved'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
]);

const IPV6_RANGES = ranges(6, [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  // IPv4-compatible (deprecated): no host should be reached that way.
  ['::/96', 'reserved'],
  ['64:ff9b:1::/48', 'reserved'],
  ['100::/64', 'reserved'],
  // Teredo hides the IPv4 address it reaches; documentation; ORCHID.
  ['2001::/32', 'reserved'],
  ['2001:db8::/32', 'reserved'],
  ['2001:10::/28', 'reserved'],
  ['2001:20::/28', 'reserved'],
  ['fc00::/7', 'uniqueLocal'],
  ['fe80::/10', 'linkLocal'],
  ['fec0::/10', 'reserved'],
  ['ff00::/8', 'multicast'],
]);

const MAPPED = parseNetwork('::ffff:0:0/96');
const NAT64 = parseNetwork('64:ff9b::/96');
const SIX_TO_FOUR = parseNetwork('2002::/16');

/** The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64 well-known prefix, 6to4); null if none. */
export function embeddedIpv4(value: bigint): bigint | null {
  if (contains(MAPPED, 6, value) || contains(NAT64, 6, value)) return value & 0xffffffffn;
  if (contains(SIX_TO_FOUR, 6, value)) return (value >> 80n) & 0xffffffffn;
  return null;
}

function categoryOf(family: 4 | 6, value: bigint): AddressCategory {
  if (family === 6) {
    const v4 = embeddedIpv4(value);
    if (v4 !== null) return categoryOf(4, v4);
  }
  for (const { range, category } of family === 4 ? IPV4_RANGES : IPV6_RANGES)
    if (contains(range, family, value)) return category;
  return 'public';
}

/** What kind of address this is; `null` when the text is not an IP address. */
export function classifyAddress(address: string): AddressCategory | null {
  const parsed = parseIp(address);
  return parsed ? categoryOf(parsed.family, parsed.value) : null;
}

/** Whether Ferry may open a connection to this IP address under the policy. Not an IP address → false. */
export function isAddressAllowed(policy: AddressPolicy, address: string): boolean {
  const parsed = parseIp(address);
  if (!parsed) return false;
  const category = categoryOf(parsed.family, parsed.value);
  if (category === 'public') return true;
  if (category === 'unspecified' || category === 'multicast') return false;
  if (category === 'loopback' && policy.allowLoopback) return true;
  const v4 = parsed.family === 6 ? embeddedIpv4(parsed.value) : null;
  return policy.allowedNetworks.some(
    (range) => contains(range, parsed.family, parsed.value) || (v4 !== null && contains(range, 4, v4)),
  );
}

// --- the connect-time check -----------------------------------------------------------------

/** `dns.lookup` with `all: true`, or a stand-in (tests answer with the addresses they need). */
export type Resolver = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

const systemResolver: Resolver = (hostname, options, callback) => dns.lookup(hostname, options, callback);

/**
 * A `lookup` for net/tls.connect that resolves the name and hands on only addresses the policy
 * allows. When any answer is refused the whole name is refused: a name that mixes public and
 * private answers is not something to connect to.
 */
export function policyLookup(policy: AddressPolicy, resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      if (addresses.length === 0 || addresses.some((entry) => !isAddressAllowed(policy, entry.address)))
        return callback(new AddressNotAllowedError(hostname), '');
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

export interface PolicyConnectorOptions {
  policy: AddressPolicy;
  /** TCP + TLS connect timeout (ms). */
  timeoutMs: number;
  /** Name resolution; default the system's (`dns.lookup`). */
  resolve?: Resolver;
}

/**
 * An undici `connect` function under the policy: an IP literal is checked before any socket is
 * opened, a host name is checked on every address its resolution answers (at connect time, for
 * each new connection), and the socket's peer address is checked once more when it connects.
 */
export function policyConnector(options: PolicyConnectorOptions): buildConnector.connector {
  const { policy } = options;
  const connect = buildConnector({ timeout: options.timeoutMs, lookup: policyLookup(policy, options.resolve) });
  return (connectOptions, callback) => {
    const host = connectOptions.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0 && !isAddressAllowed(policy, host)) {
      queueMicrotask(() => callback(new AddressNotAllowedError(connectOptions.hostname), null));
      return;
    }
    connect(connectOptions, (error, socket) => {
      if (error || !socket) return callback(error ?? new Error('no socket'), null);
      const peer = (socket as Socket).remoteAddress;
      if (peer !== undefined && !isAddressAllowed(policy, peer)) {
        socket.destroy();
        return callback(new AddressNotAllowedError(connectOptions.hostname), null);
      }
      callback(null, socket);
    });
  };
}
