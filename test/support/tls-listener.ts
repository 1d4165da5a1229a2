import { createServer, type TlsOptions } from 'node:tls';
import { onCleanup } from './cleanup';
import type { KeyPair } from './tls-certificates';

/**
 * A TLS listener on 127.0.0.1 with `pair`'s certificate that completes handshakes and answers
 * nothing, where a TLS broker would be: the seam for a broker whose certificate the client
 * must refuse, or that a plaintext client reaches by mistake. Returns its `host:port`.
 */
export async function tlsListener(pair: KeyPair, options: TlsOptions = {}): Promise<string> {
  const server = createServer({ cert: pair.cert, key: pair.key, ...options }, (socket) => socket.on('error', () => undefined).resume());
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}
