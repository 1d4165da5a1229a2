import fc from 'fast-check';
import { clientAddress, rateLimitKey } from '../../receiver/client-address';

const SOCKET = '10.0.0.1';

describe('client address for rate limiting', () => {
  const cases: Array<[string, string | string[] | undefined, number, string]> = [
    ['no trusted proxy: the socket, whatever the header says', '203.0.113.9', 0, SOCKET],
    ['one proxy, no header: the socket', undefined, 1, SOCKET],
    ['one proxy: the address it appended', '198.51.100.7', 1, '198.51.100.7'],
    ['one proxy: spoofed entries left of the appended one are ignored', '1.2.3.4, 5.6.7.8, 198.51.100.7', 1, '198.51.100.7'],
    ['one proxy: a spoofed entry in an earlier header is ignored', ['1.2.3.4', '198.51.100.7'], 1, '198.51.100.7'],
    ['one proxy: headers are joined in order before counting', ['1.2.3.4, 5.6.7.8', '9.9.9.9, 198.51.100.7'], 1, '198.51.100.7'],
    ['two proxies: the entry two left of the socket', '1.2.3.4, 198.51.100.7, 10.0.0.2', 2, '198.51.100.7'],
    ['two proxies: spoofed entries are still ignored', '6.6.6.6, 7.7.7.7, 198.51.100.7, 10.0.0.2', 2, '198.51.100.7'],
    ['three proxies behind a chain of two: the leftmost entry', '198.51.100.7, 10.0.0.2', 3, '198.51.100.7'],
    ['a large count behind a single entry: that entry', '198.51.100.7', 100, '198.51.100.7'],
    ['entries are trimmed', '  1.2.3.4 ,   198.51.100.7  ', 1, '198.51.100.7'],
    ['IPv6 entries count as addresses', '2001:db8::1, 2001:db8::7', 1, '2001:db8::7'],
    ['garbage where the proxy appends: the walk stops at the socket', '1.2.3.4, not-an-ip', 1, SOCKET],
    ['garbage between trusted hops: the last valid address from the right', '1.2.3.4, unknown, 10.0.0.2', 2, '10.0.0.2'],
    ['an empty entry stops the walk', '198.51.100.7, , 10.0.0.2', 3, '10.0.0.2'],
    ['an empty header: the socket', '', 1, SOCKET],
    ['garbage left of the trusted hops does not matter', 'x; DROP TABLE, <script>, 198.51.100.7', 1, '198.51.100.7'],
  ];

  it.each(cases)('%s', (_name, forwardedFor, trustedProxies, expected) => {
    expect(clientAddress(forwardedFor, SOCKET, trustedProxies)).toBe(expected);
  });
});

describe('client address: the forms a proxy writes', () => {
  const cases: Array<[string, string, string]> = [
    ['an IPv4 address with a port', '198.51.100.7:5555', '198.51.100.7'],
    ['a bracketed IPv6 address with a port', '[2001:db8::1]:443', '2001:db8::1'],
    ['a bracketed IPv6 address without a port', '[2001:db8::1]', '2001:db8::1'],
    ['an IPv6 address with a zone id, without it', 'fe80::1%eth0', 'fe80::1'],
    ['an IPv6 address with a 2 KB zone id, without it', `fe80::1%${'Z'.repeat(2000)}`, 'fe80::1'],
    ['a bracketed IPv6 address with a zone id and a port', '[fe80::1%25eth0]:8080', 'fe80::1'],
    ['an IPv4-mapped IPv6 address, as IPv4', '::ffff:198.51.100.7', '198.51.100.7'],
    ['an IPv4-mapped IPv6 address in hex, as IPv4', '::FFFF:c633:6407', '198.51.100.7'],
    ['a bracketed IPv4-mapped IPv6 address with a port, as IPv4', '[::ffff:198.51.100.7]:80', '198.51.100.7'],
    ['an IPv4 address with a port out of range: none', '198.51.100.7:65536', SOCKET],
    ['an IPv4 address with an empty port: none', '198.51.100.7:', SOCKET],
    ['an IPv4 address in brackets: none', '[198.51.100.7]:80', SOCKET],
    ['an IPv4 address with a zone id: none', '198.51.100.7%eth0', SOCKET],
    ['empty brackets: none', '[]:80', SOCKET],
    ['a bracketed IPv6 address followed by more than a port: none', '[2001:db8::1]:443:1', SOCKET],
    ['a host name with a port: none', 'proxy.internal:8080', SOCKET],
  ];

  it.each(cases)('%s', (_name, entry, expected) => {
    expect(clientAddress(entry, SOCKET, 1)).toBe(expected);
  });

  it('reads an IPv4-mapped socket address as IPv4', () => {
    expect(clientAddress(undefined, '::ffff:10.0.0.9', 0)).toBe('10.0.0.9');
    expect(clientAddress('198.51.100.7', '::ffff:10.0.0.9', 1)).toBe('198.51.100.7');
  });
});

describe('rate-limit key', () => {
  const cases: Array<[string, string, string]> = [
    ['an IPv4 address is its own key', '198.51.100.7', '198.51.100.7'],
    ['an IPv6 address is keyed by its /64', '2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['leading zeros and case do not make another key', '2001:0DB8:0001:0002:ffff::9', '2001:db8:1:2::/64'],
    ['a compressed prefix is expanded', '2001:db8::1', '2001:db8:0:0::/64'],
    ['an address ending in dotted IPv4 is IPv6 all the same', '64:ff9b::198.51.100.7', '64:ff9b:0:0::/64'],
    ['the loopback', '::1', '0:0:0:0::/64'],
  ];

  it.each(cases)('%s', (_name, address, key) => {
    expect(rateLimitKey(address)).toBe(key);
  });

  it('gives every host of one /64 the same key, and the next /64 another', () => {
    const hosts = ['2001:db8:aa:bb::1', '2001:db8:aa:bb:ffff:ffff:ffff:ffff', '2001:db8:aa:bb:1234:5678:9abc:def0'];
    expect(new Set(hosts.map(rateLimitKey))).toEqual(new Set(['2001:db8:aa:bb::/64']));
    expect(rateLimitKey('2001:db8:aa:bc::1')).not.toBe(rateLimitKey('2001:db8:aa:bb::1'));
  });

  it('keys are short whatever a header holds', () => {
    const entry = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.ipV6().map((address) => `${address}%${'z'.repeat(500)}`),
      fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 65535 })).map(([address, port]) => `[${address}]:${port}`),
      fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 65535 })).map(([address, port]) => `${address}:${port}`),
    );
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 3 }), (entries, proxies) => {
        const key = rateLimitKey(clientAddress(entries.join(', '), SOCKET, proxies));
        expect(key.length).toBeLessThanOrEqual('ffff:ffff:ffff:ffff::/64'.length);
      }),
      { seed: 20_260_101, numRuns: 500 },
    );
  });
});
