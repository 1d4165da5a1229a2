import { createServer, connect, type Server, type Socket } from 'node:net';
import { onCleanup } from './cleanup';

/**
 * A TCP proxy in front of a real server: the seam for an outage. `cut()` drops every
 * connection and refuses new ones, as a dead server or network would; `restore()` ends it.
 */
export interface TcpProxy {
  /** Where the proxy listens: 127.0.0.1, whatever host the target has (a container engine's gateway, say). */
  readonly host: string;
  readonly port: number;
  cut(): void;
  restore(): void;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy has no port');
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    host: '127.0.0.1',
    port: address.port,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      down = false;
    },
  };
}
