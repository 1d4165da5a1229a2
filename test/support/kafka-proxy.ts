import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Admin, ISocketFactory } from 'kafkajs';
import { onCleanup } from './cleanup';

/** Kafka's API key of Produce requests. */
const PRODUCE = 0;
/** Kafka's API key of Metadata requests. */
const METADATA = 3;

/**
 * TCP proxies in front of every broker of a plaintext cluster that read the protocol's framing
 * (each request and response is an int32 size then the body; a request's header starts with its
 * int16 API key, int16 version and int32 correlation id, a response's with the correlation id).
 * While `loseProduceAnswers` is on, the brokers' answers to Produce requests are dropped: the
 * broker has appended the records, or answered a retry of them as a duplicate, and the client
 * never hears of it, so its requests time out. While `stall` is on, nothing passes either way
 * and every connection stays open: a broker that is paused, its port open, answering nothing.
 *
 * With `advertiseProxies`, Metadata answers name the proxies instead of the brokers, so a client
 * that cannot be handed a socket factory (a service in a process of its own) seeded with
 * `brokers` reaches every broker through its proxy. kafkajs asks for Metadata v0 to v6, whose
 * broker list is not in the flexible encoding.
 */
export interface KafkaProxy {
  /** For a kafkajs client: each of its connections goes through the proxy of the broker it asks for. */
  readonly socketFactory: ISocketFactory;
  /** The seed brokers' proxies, as KAFKA_BROKERS for a process of its own (with `advertiseProxies`). */
  readonly brokers: string[];
  loseProduceAnswers(lose: boolean): void;
  stall(stalled: boolean): void;
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

/**
 * A Metadata response (v0 to v6) with each broker's host and port replaced by `proxyOf`'s, or the
 * frame unchanged if a broker has no proxy. Layout: size, correlation id, throttle time (v3+),
 * then the brokers: count, and for each node id, host (int16 length), port, rack (v1+, nullable).
 */
function advertisingProxies(frame: Buffer, version: number, proxyOf: (address: string) => { host: string; port: number } | undefined): Buffer {
  let at = 8 + (version >= 3 ? 4 : 0);
  const head = frame.subarray(4, at + 4);
  const count = frame.readInt32BE(at);
  at += 4;
  const brokers: Buffer[] = [];
  for (let index = 0; index < count; index += 1) {
    const nodeId = frame.readInt32BE(at);
    const hostLength = frame.readInt16BE(at + 4);
    const host = frame.toString('utf8', at + 6, at + 6 + hostLength);
    const port = frame.readInt32BE(at + 6 + hostLength);
    at += 10 + hostLength;
    let rack: Buffer = Buffer.alloc(0);
    if (version >= 1) {
      const rackLength = frame.readInt16BE(at);
      rack = frame.subarray(at, at + 2 + Math.max(0, rackLength));
      at += rack.length;
    }
    const proxy = proxyOf(`${host}:${port}`);
    if (!proxy) return frame;
    const entry = Buffer.alloc(10 + Buffer.byteLength(proxy.host));
    entry.writeInt32BE(nodeId, 0);
    entry.writeInt16BE(Buffer.byteLength(proxy.host), 4);
    entry.write(proxy.host, 6);
    entry.writeInt32BE(proxy.port, 6 + Buffer.byteLength(proxy.host));
    brokers.push(entry, rack);
  }
  const body = Buffer.concat([head, ...brokers, frame.subarray(at)]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

export async function startKafkaProxy(admin: Admin, seedBrokers: readonly string[], options: { advertiseProxies?: boolean } = {}): Promise<KafkaProxy> {
  const listed = (await admin.describeCluster()).brokers.map(({ host, port }) => `${host}:${port}`);
  const targets = [...new Set([...seedBrokers, ...listed])].map((address) => {
    const at = address.lastIndexOf(':');
    return { address, host: address.slice(0, at), port: Number(address.slice(at + 1)) };
  });
  let losing = false;
  let stalled = false;
  let lost = 0;
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const proxyPorts = new Map<string, number>();
  const proxyAddress = (address: string): { host: string; port: number } | undefined => {
    const port = proxyPorts.get(address);
    return port === undefined ? undefined : { host: '127.0.0.1', port };
  };

  for (const broker of targets) {
    const server = createServer((client) => {
      const upstream = connect(broker.port, broker.host);
      sockets.add(client).add(upstream);
      /** Each request's API key and version, by correlation id. */
      const apiKeys = new Map<number, { key: number; version: number }>();
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
          if (stalled) return;
          apiKeys.set(frame.readInt32BE(8), { key: frame.readInt16BE(4), version: frame.readInt16BE(6) });
          upstream.write(frame);
        }),
      );
      upstream.on(
        'data',
        frames((frame) => {
          const correlationId = frame.readInt32BE(4);
          const request = apiKeys.get(correlationId);
          apiKeys.delete(correlationId);
          if (stalled) return;
          if (request?.key === PRODUCE && losing) lost += 1;
          else if (request?.key === METADATA && options.advertiseProxies) client.write(advertisingProxies(frame, request.version, proxyAddress));
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
    brokers: seedBrokers.map((address) => `127.0.0.1:${proxyPorts.get(address)}`),
    loseProduceAnswers(lose) {
      losing = lose;
    },
    stall(stall) {
      stalled = stall;
    },
    lost: () => lost,
  };
}
