import { connect as connectTcp, isIP } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { Kafka, KafkaJSConnectionError, logLevel } from 'kafkajs';
import { certificateFailure, connectionFailure, ConnectionProblem, spokeTls, type ConnectionFailureCode } from './connection-failures';
import type { KafkaConnection } from './kafka-connection';
import type { RegistryConnection } from './registry-connection';

/** How long a probe waits for the far end to answer. */
const PROBE_TIMEOUT_MS = 3000;

interface Address {
  readonly host: string;
  readonly port: number;
}

function parseAddress(text: string): Address {
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
}

/** A request in Kafka's classic (non-flexible) framing: size, api key, version, correlation id, client id, body. */
function request(apiKey: number, version: number, correlationId: number, body: Buffer): Buffer {
  const clientId = Buffer.from('connection-probe');
  const header = Buffer.alloc(14);
  header.writeInt32BE(10 + clientId.length + body.length, 0);
  header.writeInt16BE(apiKey, 4);
  header.writeInt16BE(version, 6);
  header.writeInt32BE(correlationId, 8);
  header.writeInt16BE(clientId.length, 12);
  return Buffer.concat([header, clientId, body]);
}

/** ApiVersions v0, which every broker answers whatever it supports, SASL listeners before authentication. */
const API_VERSIONS = request(18, 0, 1, Buffer.alloc(0));
/**
 * Metadata v4 (the oldest Kafka 4 still serves; brokers since 0.11 do), for no topic: an empty
 * topic array, and no auto-creation. A SASL listener closes the connection on it before authentication.
 */
const METADATA = request(3, 4, 2, Buffer.alloc(5));
/** Larger than any answer to these requests; a TLS record read as a Kafka response has a size far larger (an alert: 0x15030300). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

type KafkaAnswer = 'none' | 'api-versions' | 'metadata';

/**
 * How far a Kafka broker at `address` answers a client without SASL, over TLS when `ssl` is
 * given: `none` (no Kafka answer at all: a TLS listener answers a plaintext request with an
 * alert, a plaintext one a TLS handshake with nothing), `api-versions` (it answered ApiVersions,
 * then closed the connection on Metadata: it requires SASL), or `metadata` (it served both).
 */
function kafkaAnswers({ host, port }: Address, ssl?: KafkaConnection['ssl']): Promise<KafkaAnswer> {
  return new Promise((resolve) => {
    let answered: KafkaAnswer = 'none';
    let received = Buffer.alloc(0);
    const send = (): void => void socket.write(API_VERSIONS);
    const socket = ssl
      ? connectTls({ host, port, ...(isIP(host) === 0 && { servername: host }), ...ssl, rejectUnauthorized: true }, send)
      : connectTcp({ host, port }, send);
    const settle = (outcome: KafkaAnswer): void => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => settle(answered));
    socket.on('error', () => settle(answered));
    socket.on('close', () => settle(answered));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 8) return;
      const size = received.readInt32BE(0);
      if (size < 4 || size > MAX_RESPONSE_BYTES) return settle(answered);
      if (received.length < 4 + size) return;
      const correlationId = received.readInt32BE(4);
      received = received.subarray(4 + size);
      if (answered === 'none' && correlationId === 1) {
        answered = 'api-versions';
        socket.write(METADATA);
      } else {
        settle(answered === 'api-versions' && correlationId === 2 ? 'metadata' : answered);
      }
    });
  });
}

/** What a TLS handshake with `address` met: the far end's TLS (and its certificate's verdict), or no TLS at all. */
interface HandshakeOutcome {
  /** The far end answered in TLS: a certificate (trusted or not) or an alert. */
  readonly tls: boolean;
  /** The TLS error code; undefined when the handshake completed and the certificate was trusted. */
  readonly code?: string;
}

/** A TLS handshake with the name checking and trust the services use; `ca` replaces Node's CAs. */
function tlsHandshake({ host, port }: Address, ca?: string | Buffer): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    const socket = connectTls({ host, port, ...(isIP(host) === 0 && { servername: host }), ...(ca && { ca }), rejectUnauthorized: true }, () => settle({ tls: true }));
    const settle = (outcome: HandshakeOutcome): void => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => settle({ tls: false, code: 'ETIMEDOUT' }));
    socket.on('error', (error: NodeJS.ErrnoException) => settle({ tls: spokeTls(error.code), code: error.code }));
  });
}

/** The broker a kafkajs connection error names (`host:port`), from the error or the one it wraps. */
function closedBroker(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    // Closed unanswered, or reset during the TLS handshake: what the other protocol looks like.
    // (kafkajs's type declarations leave out KafkaJSConnectionClosedError, a KafkaJSConnectionError.)
    if (current instanceof KafkaJSConnectionError && (current.name === 'KafkaJSConnectionClosedError' || (current as { code?: unknown }).code === 'ECONNRESET')) return current.broker;
  }
  return undefined;
}

/**
 * The cause of a Kafka failure that said nothing but "closed": a plaintext client on a TLS
 * listener sees its connection closed, a TLS client on a plaintext listener sees it reset in the
 * handshake, a client without SASL on a SASL listener sees it closed after ApiVersions. So does
 * a client behind a proxy whose broker is down, which waiting fixes: only a broker that answers
 * as the other kind of listener proves the mismatch.
 */
async function diagnoseKafkaFailure(error: unknown, connection: KafkaConnection): Promise<ConnectionProblem | undefined> {
  if (connectionFailure(error)) return undefined;
  const broker = closedBroker(error);
  if (broker === undefined) return undefined;
  const address = parseAddress(broker);
  const problem = (code: ConnectionFailureCode): ConnectionProblem => new ConnectionProblem(code, broker, { cause: error });
  if (connection.ssl && (await kafkaAnswers(address)) !== 'none') return problem('broker_expects_plaintext');
  if (!connection.ssl && (await tlsHandshake(address)).tls) return problem('broker_expects_tls');
  if (!connection.sasl && (await kafkaAnswers(address, connection.ssl)) === 'api-versions') return problem('broker_expects_sasl');
  return undefined;
}

/**
 * One quiet attempt to reach Kafka as the service will: connect to a bootstrap broker (TLS,
 * SASL), and read the cluster's metadata. kafkajs would retry a refused certificate or password
 * for seconds, logging an error each time; this fails at once, with the cause when it is the
 * deployment's (connectionFailure, or a mismatch diagnoseKafkaFailure proves), and otherwise with
 * kafkajs's error for the caller to retry.
 */
export async function reachKafka(connection: KafkaConnection): Promise<void> {
  const kafka = new Kafka({
    clientId: 'connection-check',
    brokers: [...connection.brokers],
    ...(connection.ssl && { ssl: { ...connection.ssl } }),
    ...(connection.sasl && { sasl: { ...connection.sasl } }),
    logLevel: logLevel.NOTHING,
    connectionTimeout: PROBE_TIMEOUT_MS,
    // kafkajs tries another bootstrap broker on each retry: one try each, so one broker down of
    // several does not fail the attempt.
    retry: { retries: connection.brokers.length - 1, initialRetryTime: 100 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    throw (await diagnoseKafkaFailure(error, connection)) ?? error;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * The cause of a registry request that got no HTTP answer (the registry client reports it as
 * status 400, with the socket's error only in its message): a TLS handshake with the registry
 * finds an untrusted or misnamed certificate, or a registry that speaks the other protocol.
 */
async function diagnoseRegistryFailure(error: unknown, connection: RegistryConnection): Promise<ConnectionProblem | undefined> {
  if (connectionFailure(error)) return undefined;
  const { name, status } = (error ?? {}) as { name?: unknown; status?: unknown };
  if (name !== 'ResponseError' || status !== 400) return undefined;
  const url = new URL(connection.url);
  const https = url.protocol === 'https:';
  const address = { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (https ? 443 : 80)) };
  const outcome = await tlsHandshake(address, https ? connection.ca : undefined);
  const failure = !https
    ? outcome.tls && 'registry_expects_tls'
    : outcome.code === 'ERR_SSL_WRONG_VERSION_NUMBER'
      ? 'registry_expects_plaintext'
      : certificateFailure(outcome.code, 'registry');
  return failure ? new ConnectionProblem(failure, url.origin, { cause: error }) : undefined;
}

/** Runs a step that talks to the registry; a failure diagnoseRegistryFailure explains is thrown as that cause. */
export async function withRegistryDiagnosis<T>(connection: RegistryConnection, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw (await diagnoseRegistryFailure(error, connection)) ?? error;
  }
}
