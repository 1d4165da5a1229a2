import { serverCertificate, type KeyPair } from './tls-certificates';
import { registryProxy } from './registry-proxy';

/** What a client needs to reach the secured registry: its URL, the CA to trust, the credentials. */
export interface SecuredRegistry {
  readonly url: string;
  /** The PEM of the CA that signed its certificate. */
  readonly ca: Buffer;
  readonly credentials: { readonly username: string; readonly password: string };
  /** `METHOD path status` of each request that reached the front, in order. */
  readonly seen: string[];
  /** Connections clients opened to the front, failed handshakes included. */
  connections(): number;
}

/**
 * The real registry behind an https front with basic auth, as a platform team runs it: a
 * certificate from a CA made for the test, and one user. A request without the right
 * credentials gets the 401 a Confluent-compatible registry answers; the rest go to the registry,
 * without the credentials (the registry behind it has none of its own to check). Its certificate
 * names 127.0.0.1 and localhost, or `serverNames` (IP addresses and DNS names); or it presents
 * `certificates.server`, signed by `certificates.ca`.
 */
export async function securedRegistry(
  options: { serverNames?: readonly string[]; certificates?: { readonly ca: Buffer; readonly server: KeyPair } } = {},
): Promise<SecuredRegistry> {
  const certificates = options.certificates ?? serverCertificate('schema-registry', options.serverNames);
  const credentials = { username: 'trade-webhooks', password: 'registry-password-for-tests' };
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
  const seen: string[] = [];
  const { url, connections } = await registryProxy(
    (incoming, outgoing) => {
      if (incoming.headers.authorization !== expected) {
        seen.push(`${incoming.method} ${incoming.url} 401`);
        incoming.resume();
        outgoing.writeHead(401, { 'content-type': 'application/vnd.schemaregistry.v1+json', 'www-authenticate': 'Basic realm="schema-registry"' });
        outgoing.end(JSON.stringify({ error_code: 401, message: 'Unauthorized' }));
        return undefined;
      }
      seen.push(`${incoming.method} ${incoming.url} forwarded`);
      delete incoming.headers.authorization;
      return incoming.url;
    },
    { tls: { cert: certificates.server.cert, key: certificates.server.key } },
  );
  return { url, ca: certificates.ca, credentials, seen, connections };
}
