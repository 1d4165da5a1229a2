import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Admin, ISocketFactory } from 'kafkajs';
import { onCleanup } from './cleanup';

/** Kafka's API key of Produce requests. */
const PRODUCE = 0;

/**
 * TCP proxies in front of every broker of a plaintext cluster that read the protocol's framing
 * (each request and response is an int32 size then the body; a request's header starts with its
 * int16 API key, int16 version and int32 correlation id, a response's with the correlation id).
 * While `loseProduceAnswers` is on, the brokers' answers to Produce requests are dropped: the
 * broker has appended the records, or answered a retry of them as a duplicate, and the client
 * never hears of it, so its requests time out. Every other byte passes unchanged.
 */
export interface KafkaProxy {
  /** For a kafkajs client: each of its connections goes through the proxy of the broker it asks for. */
  readonly socketFactory: ISocketFactory;
  loseProduceAnswers(lose: boolean): void;
  /** Produce answers dropped so far. */
  lost(): number;
}

/** Calls `onFrame` with each complete frame of a byte stream, size prefix included. */
function frames(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const size = 4 + pending.readInt32BE(0);
      onFrame(pending.subarray(0, size));
      pending = pending.subarray(size);
    }
  };
}

export async function startKafkaProxy(admin: Admin, seedBrokers: readonly string[]): Promise<KafkaProxy> {
  const listed = (await admin.describeCluster()).brokers.map(({ host, port }) => `${host}:${port}`);
  const targets = [...new Set([...seedBrokers, ...listed])].map((address) => {
    const at = address.lastIndexOf(':');
    return { address, host: address.slice(0, at), port: Number(address.slice(at + 1)) };
  });
  let losing = false;
  let lost = 0;
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const proxyPorts = new Map<string, number>();

  for (const broker of targets) {
    const server = createServer((client) => {
      const upstream = connect(broker.port, broker.host);
      sockets.add(client).add(upstream);
      const apiKeys = new Map<number, number>();
      const close = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      client.on(
        'data',
        frames((frame) => {
          apiKeys.set(frame.readInt32BE(8), frame.readInt16BE(4));
          upstream.write(frame);
        }),
      );
      upstream.on(
        'data',
        frames((frame) => {
          const correlationId = frame.readInt32BE(4);
          const apiKey = apiKeys.get(correlationId);
          apiKeys.delete(correlationId);
          if (apiKey === PRODUCE && losing) lost += 1;
          else client.write(frame);
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no port');
    servers.push(server);
    proxyPorts.set(broker.address, address.port);
  }
  onCleanup(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  return {
    socketFactory: ({ host, port, onConnect }) => {
      const proxyPort = proxyPorts.get(`${host}:${port}`);
      // A broker neither seeded nor listed when the proxies started: fail loudly, not around the proxy.
      if (proxyPort === undefined) throw new Error(`no proxy for broker ${host}:${port}`);
      return connect({ host: '127.0.0.1', port: proxyPort }, onConnect);
    },
    loseProduceAnswers(lose) {
      losing = lose;
    },
    lost: () => lost,
  };
}
