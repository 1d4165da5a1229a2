import { KafkaJSConnectionError, KafkaJSProtocolError, KafkaJSSASLAuthenticationError } from 'kafkajs';

/**
 * Why a service could not reach Kafka or the schema registry when waiting cannot help: each code
 * with the one sentence an operator reads, naming the cause and the variables that fix it. They
 * are the failures of a deployment (credentials, certificates, the wrong listener), so retrying
 * them would only repeat the error until someone reads it.
 */
export const CONNECTION_FAILURES = Object.freeze({
  broker_unauthorized: 'Kafka refused the SASL credentials: check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
  broker_sasl_not_enabled: "the broker's listener does not use SASL, but KAFKA_SASL_MECHANISM is set: put the broker's SASL listener in KAFKA_BROKERS, or unset KAFKA_SASL_MECHANISM",
  broker_expects_sasl: "the broker's listener requires SASL, but KAFKA_SASL_MECHANISM is not set: set it, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
  broker_not_authorized: 'Kafka accepted the credentials but denies the operation: the user needs ACLs on the cluster, the topics and the consumer group',
  broker_certificate_untrusted: "the broker's certificate is not signed by a CA the client trusts: set KAFKA_SSL_CA_FILE to the PEM bundle of the CA that signed it",
  broker_certificate_name_mismatch: "the broker's certificate does not name the host the client connected to: connect by a name the certificate holds (KAFKA_BROKERS, and the broker's advertised listeners)",
  broker_certificate_expired: "the broker's certificate has expired or is not valid yet",
  broker_refused_client_certificate: 'the broker requires a client certificate it trusts (mutual TLS): set KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE to one signed by a CA in its truststore',
  broker_expects_tls: "the broker's listener speaks TLS, but the client connects in plaintext: set KAFKA_SSL=true",
  broker_expects_plaintext: "the broker's listener speaks plaintext, but KAFKA_SSL is on: put the broker's TLS listener in KAFKA_BROKERS, or set KAFKA_SSL=false",
  registry_unauthorized: 'the schema registry refused the credentials or denied access (HTTP 401 or 403): check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD',
  registry_certificate_untrusted: "the schema registry's certificate is not signed by a CA the client trusts: set SCHEMA_REGISTRY_CA_FILE to the PEM bundle of the CA that signed it",
  registry_certificate_name_mismatch: "the schema registry's certificate does not name the host in SCHEMA_REGISTRY_URL",
  registry_certificate_expired: "the schema registry's certificate has expired or is not valid yet",
  registry_expects_tls: 'the schema registry speaks https, but SCHEMA_REGISTRY_URL is an http:// URL',
  registry_expects_plaintext: 'the schema registry speaks plain http, but SCHEMA_REGISTRY_URL is an https:// URL',
});

export type ConnectionFailureCode = keyof typeof CONNECTION_FAILURES;

export interface ConnectionFailure {
  readonly code: ConnectionFailureCode;
  readonly reason: string;
}

/**
 * A cause found by looking at the far end after an attempt failed without saying why (a
 * connection closed unanswered): the broker or registry at `target` speaks the other protocol.
 */
export class ConnectionProblem extends Error {
  override readonly name = 'ConnectionProblem';
  constructor(
    readonly code: ConnectionFailureCode,
    readonly target: string,
    options: { cause: unknown },
  ) {
    super(`${CONNECTION_FAILURES[code]} (${target})`, options);
  }
}

/**
 * Node's certificate verification codes (OpenSSL's X509_V_ERR_ names, and Node's own for a name
 * the certificate does not hold), and the alerts a server sends when it refuses the client's
 * certificate: TLS 1.3 servers refuse it after the handshake, with one of these.
 */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
  'INVALID_CA',
]);
const NAME_MISMATCH = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const CLIENT_CERTIFICATE_REFUSED = new Set([
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
]);

/** What a TLS error code says about the certificates, for a broker or the registry; undefined: nothing. */
export function certificateFailure(code: unknown, peer: 'broker' | 'registry'): ConnectionFailureCode | undefined {
  if (typeof code !== 'string') return undefined;
  if (UNTRUSTED.has(code)) return `${peer}_certificate_untrusted`;
  if (NAME_MISMATCH.has(code)) return `${peer}_certificate_name_mismatch`;
  if (EXPIRED.has(code)) return `${peer}_certificate_expired`;
  // The registry takes no client certificate from us: an alert from it is not about ours.
  if (peer === 'broker' && CLIENT_CERTIFICATE_REFUSED.has(code)) return 'broker_refused_client_certificate';
  return undefined;
}

/** Whether a TLS error code shows the far end answered in TLS: it sent a certificate, or an alert. */
export function spokeTls(code: unknown): boolean {
  return typeof code === 'string' && (UNTRUSTED.has(code) || NAME_MISMATCH.has(code) || EXPIRED.has(code) || /^ERR_SSL_.*_ALERT_/.test(code));
}

/** Kafka's error codes for an operation the authenticated user has no ACL for. */
const AUTHORIZATION_FAILED = new Set(['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

function failureOf(error: unknown): ConnectionFailureCode | undefined {
  if (error instanceof ConnectionProblem) return error.code;
  if (error instanceof KafkaJSSASLAuthenticationError) return 'broker_unauthorized';
  if (error instanceof KafkaJSProtocolError) {
    if (error.type === 'ILLEGAL_SASL_STATE') return 'broker_sasl_not_enabled';
    if (AUTHORIZATION_FAILED.has(error.type)) return 'broker_not_authorized';
  }
  // kafkajs keeps the socket's error code (its types leave it out): the certificate's verdict.
  if (error instanceof KafkaJSConnectionError) return certificateFailure((error as { code?: unknown }).code, 'broker');
  // @kafkajs/confluent-schema-registry does not export its ResponseError class.
  const { name, status } = (error ?? {}) as { name?: unknown; status?: unknown };
  if (name === 'ResponseError' && (status === 401 || status === 403)) return 'registry_unauthorized';
  return undefined;
}

/**
 * The connection failure `error` is, or undefined when it is none (or one that waiting can fix:
 * a broker or registry that is down, starting or slow). kafkajs wraps the error its retrier
 * stopped on as the cause, up to twice; the chain is followed.
 */
export function connectionFailure(error: unknown): ConnectionFailure | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    const code = failureOf(current);
    if (code) return { code, reason: CONNECTION_FAILURES[code] };
  }
  return undefined;
}

/** The sentence for a failure code, when it is a connection failure's. */
export function connectionFailureReason(code: string): string | undefined {
  return Object.hasOwn(CONNECTION_FAILURES, code) ? CONNECTION_FAILURES[code as ConnectionFailureCode] : undefined;
}
