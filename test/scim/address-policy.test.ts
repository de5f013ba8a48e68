// The outbound address policy as a pure function: which addresses Ferry connects to, how the
// operator's networks are read, and the lookup hook that refuses a name answering with a refused
// address.
import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  AddressNotAllowedError,
  classifyAddress,
  isAddressAllowed,
  parseNetwork,
  parseNetworkList,
  policyLookup,
  STRICT_ADDRESS_POLICY,
  type AddressPolicy,
  type Resolver,
} from '../../scim/address-policy.ts';

const policy = (allowed: string[] = [], allowLoopback = false): AddressPolicy => ({
  allowLoopback,
  allowedNetworks: allowed.map(parseNetwork),
});

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'sharedAddressSpace'],
    ['100.127.255.255', 'sharedAddressSpace'],
    ['169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['fd00::1', 'uniqueLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['0.1.2.3', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
  ])('%s is %s', (address, category) => {
    expect(classifyAddress(address)).toBe(category);
  });

  it('judges IPv6 forms that carry an IPv4 address by that address', () => {
    expect(classifyAddress('::ffff:127.0.0.1')).toBe('loopback');
    expect(classifyAddress('::ffff:7f00:1')).toBe('loopback');
    expect(classifyAddress('::ffff:169.254.169.254')).toBe('linkLocal');
    expect(classifyAddress('::ffff:8.8.8.8')).toBe('public');
    expect(classifyAddress('64:ff9b::a00:1')).toBe('private'); // NAT64 of 10.0.0.1
    expect(classifyAddress('2002:c0a8:0101::1')).toBe('private'); // 6to4 of 192.168.1.1
    expect(classifyAddress('2002:0808:0808::1')).toBe('public');
  });

  it('the borders of the ranges are exact', () => {
    expect(classifyAddress('172.15.255.255')).toBe('public');
    expect(classifyAddress('172.32.0.0')).toBe('public');
    expect(classifyAddress('100.63.255.255')).toBe('public');
    expect(classifyAddress('100.128.0.0')).toBe('public');
    expect(classifyAddress('169.253.255.255')).toBe('public');
    expect(classifyAddress('fbff:ffff::1')).toBe('public');
    expect(classifyAddress('fec0::1')).toBe('reserved');
  });

  it('is null for what is not an IP address', () => {
    for (const text of ['localhost', 'example.com', '256.1.1.1', '1.2.3', '010.0.0.1', '::g', '1::2::3', ''])
      expect(classifyAddress(text)).toBeNull();
  });
});

describe('isAddressAllowed', () => {
  it('allows public addresses and refuses every other kind under the strict policy', () => {
    expect(isAddressAllowed(STRICT_ADDRESS_POLICY, '93.184.215.14')).toBe(true);
    expect(isAddressAllowed(STRICT_ADDRESS_POLICY, '2a00:1450:4001::200e')).toBe(true);
    for (const address of [
      '127.0.0.1',
      '::1',
      '10.1.2.3',
      '172.20.0.5',
      '192.168.0.10',
      '100.100.100.200',
      '169.254.169.254',
      'fe80::1',
      'fd12:3456::1',
      '0.0.0.0',
      '::',
      '::ffff:10.0.0.1',
      '[::1]',
      'not-an-address',
    ])
      expect(isAddressAllowed(STRICT_ADDRESS_POLICY, address), address).toBe(false);
  });

  it('allows loopback only with allowLoopback, and nothing else with it', () => {
    const loopback = policy([], true);
    expect(isAddressAllowed(loopback, '127.0.0.1')).toBe(true);
    expect(isAddressAllowed(loopback, '127.1.2.3')).toBe(true);
    expect(isAddressAllowed(loopback, '::1')).toBe(true);
    expect(isAddressAllowed(loopback, '::ffff:127.0.0.1')).toBe(true);
    expect(isAddressAllowed(loopback, '10.0.0.1')).toBe(false);
    expect(isAddressAllowed(loopback, '169.254.169.254')).toBe(false);
    expect(isAddressAllowed(loopback, '0.0.0.0')).toBe(false);
  });

  it('allows exactly the networks the operator names', () => {
    const widened = policy(['10.20.0.0/16', 'fd00:1::/32', '169.254.10.5']);
    expect(isAddressAllowed(widened, '10.20.3.4')).toBe(true);
    expect(isAddressAllowed(widened, '::ffff:10.20.3.4')).toBe(true);
    expect(isAddressAllowed(widened, '10.21.0.1')).toBe(false);
    expect(isAddressAllowed(widened, 'fd00:1:ffff::1')).toBe(true);
    expect(isAddressAllowed(widened, 'fd00:2::1')).toBe(false);
    expect(isAddressAllowed(widened, '169.254.10.5')).toBe(true);
    expect(isAddressAllowed(widened, '169.254.169.254')).toBe(false);
    expect(isAddressAllowed(widened, '127.0.0.1')).toBe(false);
  });

  it('never allows unspecified or multicast addresses, even inside an allowed network', () => {
    const everything = policy(['0.0.0.0/0', '::/0'], true);
    expect(isAddressAllowed(everything, '10.0.0.1')).toBe(true);
    expect(isAddressAllowed(everything, '0.0.0.0')).toBe(false);
    expect(isAddressAllowed(everything, '::')).toBe(false);
    expect(isAddressAllowed(everything, '224.0.0.1')).toBe(false);
  });
});

describe('parseNetwork / parseNetworkList', () => {
  it('reads IPv4 and IPv6 networks and single addresses', () => {
    expect(parseNetwork('10.0.0.0/8')).toMatchObject({ family: 4, prefix: 8, text: '10.0.0.0/8' });
    expect(parseNetwork(' fd00::/8 ')).toMatchObject({ family: 6, prefix: 8, text: 'fd00::/8' });
    expect(parseNetwork('192.168.1.7')).toMatchObject({ family: 4, prefix: 32, text: '192.168.1.7/32' });
    expect(parseNetwork('fe80::1')).toMatchObject({ family: 6, prefix: 128, text: 'fe80::1/128' });
    expect(parseNetworkList('10.0.0.0/8, 172.16.0.0/12,,fd00::/8').map((n) => n.text)).toEqual([
      '10.0.0.0/8',
      '172.16.0.0/12',
      'fd00::/8',
    ]);
    expect(parseNetworkList('')).toEqual([]);
  });

  it('refuses what is not a network, saying which entry and why, without repeating it', () => {
    expect(() => parseNetworkList('10.0.0.0/8,intranet')).toThrow(
      /^entry 2 is not an IPv4 or IPv6 network in CIDR notation/,
    );
    expect(() => parseNetwork('10.0.0.0/33')).toThrow(/prefix length .* 0 to 32/);
    expect(() => parseNetwork('fd00::/129')).toThrow(/0 to 128/);
    expect(() => parseNetwork('10.0.0.0/')).toThrow(/prefix length/);
    expect(() => parseNetwork('10.1.2.3/8')).toThrow(/bits set past its prefix length/);
    try {
      parseNetworkList('secret-host/8');
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-host');
    }
  });
});

describe('policyLookup', () => {
  const answering =
    (...addresses: string[]): Resolver =>
    (_hostname, _options, callback) =>
      callback(
        null,
        addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
      );

  const lookup = (resolver: Resolver, all: boolean, allowed = policy()) =>
    new Promise<{ error: Error | null; address: unknown; family?: number }>((resolve) =>
      policyLookup(allowed, resolver)('scim.example.com', { all }, (error, address, family) =>
        resolve({ error, address, family }),
      ),
    );

  it('hands on the answers when every one is allowed, in the form asked for', async () => {
    expect(await lookup(answering('93.184.215.14', '2606:2800:21f:cb07::1'), true)).toMatchObject({
      error: null,
      address: [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:2800:21f:cb07::1', family: 6 },
      ],
    });
    expect(await lookup(answering('93.184.215.14'), false)).toMatchObject({
      error: null,
      address: '93.184.215.14',
      family: 4,
    });
  });

  it.each([['10.0.0.7'], ['169.254.169.254'], ['::1'], ['fd00::1'], ['100.64.1.1'], ['0.0.0.0']])(
    'refuses a name that resolves to %s, without naming the address',
    async (address) => {
      const { error } = await lookup(answering(address), true);
      expect(error).toBeInstanceOf(AddressNotAllowedError);
      expect(error?.message).toContain('scim.example.com');
      expect(error?.message).not.toContain(address);
    },
  );

  it('refuses the whole name when one of its answers is refused', async () => {
    const { error } = await lookup(answering('93.184.215.14', '10.0.0.7'), true);
    expect(error).toBeInstanceOf(AddressNotAllowedError);
  });

  it('passes resolver errors on as they are', async () => {
    const failing: Resolver = (_h, _o, callback) =>
      callback(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), []);
    const { error } = await lookup(failing, true);
    expect((error as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
  });

  it('allows a private answer inside an allowed network', async () => {
    expect(await lookup(answering('10.20.0.9'), false, policy(['10.20.0.0/16']))).toMatchObject({
      error: null,
      address: '10.20.0.9',
    });
  });
});
