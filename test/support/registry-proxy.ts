import { createServer, request, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from './cleanup';

/**
 * An HTTP proxy in front of the real schema registry: the seam for a registry that stalls,
 * forgets or refuses. `intercept` sees each request first and either answers it itself (or holds
 * it), returning undefined, or returns the path to forward it to. `url` is the registry URL
 * to give the client under test; with `tls` it is https, with that certificate and key (PEM).
 * `connections` counts the connections clients opened, handshakes that failed included.
 */
export async function registryProxy(
  intercept: (incoming: IncomingMessage, outgoing: ServerResponse) => string | undefined,
  options: { onClose?: () => void; tls?: { cert: string | Buffer; key: string | Buffer } } = {},
): Promise<{ url: string; connections: () => number }> {
  const target = new URL(serviceEndpoints().schemaRegistryUrl);
  const forward: RequestListener = (incoming, outgoing) => {
    const path = intercept(incoming, outgoing);
    if (path === undefined) return;
    const upstream = request({ host: target.hostname, port: target.port, method: incoming.method, path, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  };
  const server = options.tls ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, forward) : createServer(forward);
  let connections = 0;
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        options.onClose?.();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as { port: number };
  return { url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}${target.pathname}`, connections: () => connections };
}
