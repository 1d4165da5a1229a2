import { isIP } from 'node:net';

/**
 * The address to rate-limit a request by, behind `trustedProxies` proxies that each append the
 * address they received the request from to X-Forwarded-For (RFC 7239 §5.2 describes the same
 * chain for `Forwarded`).
 *
 * Only the right end of the chain can be believed: everything left of what our own proxies
 * appended was written by the client, who can put any address there. So the chain is every
 * X-Forwarded-For entry in order followed by the socket's address, and the client is the entry
 * `trustedProxies` places left of the socket's. A chain shorter than that (a request that came
 * past fewer proxies) gives its leftmost entry. An entry that is not an IP address cannot have
 * been written by a proxy we trust, so the walk stops there, at the last address it believed.
 */
export function clientAddress(forwardedFor: string | readonly string[] | undefined, socketAddress: string, trustedProxies: number): string {
  if (trustedProxies === 0 || forwardedFor === undefined) return socketAddress;
  const headers = typeof forwardedFor === 'string' ? [forwardedFor] : forwardedFor;
  const chain = headers.flatMap((header) => header.split(',').map((entry) => entry.trim()));
  chain.push(socketAddress);
  const target = Math.max(0, chain.length - 1 - trustedProxies);
  let client = socketAddress;
  for (let index = chain.length - 2; index >= target; index -= 1) {
    const entry = chain[index]!;
    if (isIP(entry) === 0) break;
    client = entry;
  }
  return client;
}
