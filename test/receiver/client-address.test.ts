import { clientAddress } from '../../receiver/client-address';

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
    ['an address with a port is not an address', '198.51.100.7:5555', 1, SOCKET],
    ['an empty entry stops the walk', '198.51.100.7, , 10.0.0.2', 3, '10.0.0.2'],
    ['an empty header: the socket', '', 1, SOCKET],
    ['garbage left of the trusted hops does not matter', 'x; DROP TABLE, <script>, 198.51.100.7', 1, '198.51.100.7'],
  ];

  it.each(cases)('%s', (_name, forwardedFor, trustedProxies, expected) => {
    expect(clientAddress(forwardedFor, SOCKET, trustedProxies)).toBe(expected);
  });
});
