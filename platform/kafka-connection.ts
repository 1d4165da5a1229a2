import type { ConnectionOptions } from 'node:tls';
import { SERVICE_DEFAULTS } from './defaults';
import type { EnvironmentReader } from './environment';
import { caBundleProblem, keyPairProblem } from './tls-files';

/** The SASL mechanisms kafkajs implements without a plug-in. */
export const SASL_MECHANISMS = Object.freeze(['plain', 'scram-sha-256', 'scram-sha-512'] as const);
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** kafkajs's SASL options, one member per mechanism, as its types take them. */
export type KafkaSasl = { readonly [M in SaslMechanism]: { readonly mechanism: M; readonly username: string; readonly password: string } }[SaslMechanism];

/** How to reach Kafka, as kafkajs takes it: `createKafka({ clientId, logger, ...connection })`. */
export interface KafkaConnection {
  readonly brokers: readonly string[];
  /** TLS for every broker connection (kafkajs's `ssl`); absent: plaintext. */
  readonly ssl?: Readonly<ConnectionOptions>;
  readonly sasl?: KafkaSasl;
}

/** The files that mean TLS when set; KAFKA_SSL need not be set beside them. */
const TLS_FILES = Object.freeze(['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE']);

/**
 * A secret that must be there (set, or read from its file, and not empty). A missing one is a
 * problem unless reading it already recorded one (both set, an unreadable file).
 */
function requiredSecret(read: EnvironmentReader, name: string, because: string): string | undefined {
  const before = read.problems.length;
  const value = read.secret(name);
  if (!value && read.problems.length === before) read.problems.push(`${name} (or ${name}_FILE) must be set and not empty ${because}`);
  return value || undefined;
}

/**
 * TLS options, or undefined for plaintext. Server name checking stays on whatever the
 * environment says (`NODE_TLS_REJECT_UNAUTHORIZED=0` included): `rejectUnauthorized` is set here.
 */
function readTls(read: EnvironmentReader): Readonly<ConnectionOptions> | undefined {
  const { problems } = read;
  const named = TLS_FILES.filter((name) => read.text(name) !== undefined);
  const enabled = read.flag('KAFKA_SSL', named.length > 0);
  const ca = read.file('KAFKA_SSL_CA_FILE');
  const cert = read.file('KAFKA_SSL_CERT_FILE');
  const key = read.file('KAFKA_SSL_KEY_FILE');
  const passphrase = read.secret('KAFKA_SSL_KEY_PASSWORD') || undefined;

  if (!enabled && named.length > 0) problems.push(`KAFKA_SSL is false, but ${named.join(' and ')} ${named.length === 1 ? 'is' : 'are'} set: set KAFKA_SSL=true or unset them`);
  const hasCert = read.text('KAFKA_SSL_CERT_FILE') !== undefined;
  const hasKey = read.text('KAFKA_SSL_KEY_FILE') !== undefined;
  if (hasCert !== hasKey) problems.push('KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (a client certificate and its key, for mutual TLS): set both or neither');
  if (passphrase !== undefined && !hasKey) problems.push('KAFKA_SSL_KEY_PASSWORD is set, but KAFKA_SSL_KEY_FILE is not: it decrypts that key');
  const caProblem = ca && caBundleProblem('KAFKA_SSL_CA_FILE', ca);
  if (caProblem) problems.push(caProblem);
  const pairProblem = cert && key && keyPairProblem({ cert: 'KAFKA_SSL_CERT_FILE', key: 'KAFKA_SSL_KEY_FILE', password: 'KAFKA_SSL_KEY_PASSWORD' }, cert, key, passphrase);
  if (pairProblem) problems.push(pairProblem);

  if (!enabled) return undefined;
  return Object.freeze({
    rejectUnauthorized: true,
    ...(ca && { ca: ca.content }),
    ...(cert && key && { cert: cert.content, key: key.content }),
    ...(passphrase !== undefined && { passphrase }),
  });
}

function readSasl(read: EnvironmentReader): KafkaSasl | undefined {
  const mechanism = read.oneOf('KAFKA_SASL_MECHANISM', SASL_MECHANISMS);
  if (read.text('KAFKA_SASL_MECHANISM') === undefined) {
    const stray = ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'].filter((name) => read.text(name) !== undefined);
    // Credentials without a mechanism would be ignored, and the broker would close the connection without saying why.
    if (stray.length > 0) read.problems.push(`${stray.join(' and ')} ${stray.length === 1 ? 'is' : 'are'} set, but KAFKA_SASL_MECHANISM is not: set it to one of ${SASL_MECHANISMS.join(', ')}`);
    return undefined;
  }
  const username = read.text('KAFKA_SASL_USERNAME');
  if (username === undefined) read.problems.push('KAFKA_SASL_USERNAME must be set when KAFKA_SASL_MECHANISM is');
  const password = requiredSecret(read, 'KAFKA_SASL_PASSWORD', 'when KAFKA_SASL_MECHANISM is');
  return mechanism && username !== undefined && password !== undefined ? Object.freeze({ mechanism, username, password }) : undefined;
}

/**
 * KAFKA_BROKERS, and TLS and SASL as a managed or production cluster asks for them, read once
 * and checked together: every problem is recorded on `read` (a service's config.ts reports them
 * with its own). The files are read now: a key or CA that is missing or unusable is a problem at
 * start, not a connection error later.
 */
export function readKafkaConnection(read: EnvironmentReader): KafkaConnection {
  const brokers = Object.freeze(read.brokers('KAFKA_BROKERS', SERVICE_DEFAULTS.kafkaBrokers));
  const ssl = readTls(read);
  const sasl = readSasl(read);
  return Object.freeze({ brokers, ...(ssl && { ssl }), ...(sasl && { sasl }) });
}
