import { isIP } from 'node:net';

const BRACKETED = /^\[([^\]]*)\](?::(\d{1,5}))?$/;
const IPV4_WITH_PORT = /^([\d.]+):(\d{1,5})$/;

/** The text before an IPv6 zone id (`fe80::1%eth0`): a zone names an interface on the proxy, not a client. */
function withoutZone(address: string): string {
  const percent = address.indexOf('%');
  return percent === -1 ? address : address.slice(0, percent);
}

/** The eight 16-bit groups of a valid IPv6 address (without zone). */
function groupsOf(address: string): number[] {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  if (rest === undefined) return left.map((group) => parseInt(group, 16));
  const right = rest === '' ? [] : rest.split(':');
  return [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right].map((group) => parseInt(group, 16));
}

/** `::ffff:a.b.c.d` (in either notation) as `a.b.c.d`: the same client reached over a dual-stack socket. */
function mappedIpv4(groups: readonly number[]): string | undefined {
  if (groups.slice(0, 5).some((group) => group !== 0) || groups[5] !== 0xffff) return undefined;
  const [high, low] = [groups[6]!, groups[7]!];
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/**
 * One X-Forwarded-For entry (or a socket address) as the address it names, in the forms proxies
 * write: an address, `ipv4:port`, `[ipv6]` or `[ipv6]:port` (RFC 7239 §6), an IPv6 zone id
 * dropped, an IPv4-mapped IPv6 address as IPv4. Anything else is undefined: not an address.
 */
function addressOf(entry: string): string | undefined {
  let host = entry;
  let port: string | undefined;
  const bracketed = BRACKETED.exec(entry);
  const withPort = IPV4_WITH_PORT.exec(entry);
  if (bracketed) {
    host = withoutZone(bracketed[1]!);
    port = bracketed[2];
    if (isIP(host) !== 6) return undefined;
  } else if (withPort) {
    host = withPort[1]!;
    port = withPort[2];
    if (isIP(host) !== 4) return undefined;
  } else if (isIP(withoutZone(entry)) === 6) {
    host = withoutZone(entry);
  } else if (isIP(entry) !== 4) {
    return undefined;
  }
  if (port !== undefined && Number(port) > 65535) return undefined;
  return isIP(host) === 6 ? (mappedIpv4(groupsOf(host)) ?? host) : host;
}

/**
 * The client's address behind `trustedProxies` proxies that each append the address they
 * received the request from to X-Forwarded-For (RFC 7239 §5.2 describes the same chain for
 * `Forwarded`).
 *
 * Only the right end of the chain can be believed: everything left of what our own proxies
 * appended was written by the client, who can put any address there. So the chain is every
 * X-Forwarded-For entry in order followed by the socket's address, and the client is the entry
 * `trustedProxies` places left of the socket's. A chain shorter than that (a request that came
 * past fewer proxies) gives its leftmost entry. An entry that is not an address cannot have
 * been written by a proxy we trust, so the walk stops there, at the last address it believed.
 */
export function clientAddress(forwardedFor: string | readonly string[] | undefined, socketAddress: string, trustedProxies: number): string {
  const socket = addressOf(socketAddress) ?? socketAddress;
  if (trustedProxies === 0 || forwardedFor === undefined) return socket;
  const headers = typeof forwardedFor === 'string' ? [forwardedFor] : forwardedFor;
  const chain = headers.flatMap((header) => header.split(',').map((entry) => entry.trim()));
  const target = Math.max(0, chain.length - trustedProxies);
  let client = socket;
  for (let index = chain.length - 1; index >= target; index -= 1) {
    const address = addressOf(chain[index]!);
    if (address === undefined) break;
    client = address;
  }
  return client;
}

/**
 * The rate-limit bucket of a client address: an IPv4 address itself; an IPv6 address its /64,
 * the prefix one subscriber or host is given (RFC 6177), inside which it can take a new
 * address for every request. So a key is at most `ffff:ffff:ffff:ffff::/64`, whatever a
 * header held.
 */
export function rateLimitKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const prefix = groupsOf(address).slice(0, 4).map((group) => group.toString(16));
  return `${prefix.join(':')}::/64`;
}
