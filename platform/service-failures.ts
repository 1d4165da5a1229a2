import { KafkaJSError, KafkaJSTimeout } from 'kafkajs';
import { connectionFailure } from './connection-failures';
import { RegistryNotFound } from './schema-registry';
import type { StartupFailure } from './service-lifecycle';

/**
 * The failures either service meets outside its own code — Kafka, the schema registry, the
 * network, a programmer error — by stable code, with whether each goes away by itself: the
 * start-up of both services retries exactly those. What a running service does about each is
 * its own decision (the processor's is in processor/errors.ts).
 */
export const SERVICE_FAILURES = {
  network_error: { retriable: true },
  // The schema registry, by HTTP status.
  schema_unknown: { retriable: true },
  registry_unavailable: { retriable: true },
  registry_throttled: { retriable: true },
  registry_timeout: { retriable: true },
  registry_unreachable: { retriable: true },
  schema_incompatible: { retriable: false },
  schema_rejected: { retriable: false },
  // A URL that leads to no registry's API, or a registry set up unlike what we need.
  registry_misconfigured: { retriable: false },
  registry_refused: { retriable: false },
  // Connection failures (platform/connection-failures.ts): only an operator can fix them.
  registry_unauthorized: { retriable: false },
  registry_certificate_untrusted: { retriable: false },
  registry_certificate_name_mismatch: { retriable: false },
  registry_certificate_expired: { retriable: false },
  registry_expects_tls: { retriable: false },
  registry_expects_plaintext: { retriable: false },
  // Kafka, by kafkajs's own `retriable`.
  broker_unavailable: { retriable: true },
  broker_refused: { retriable: false },
  broker_unauthorized: { retriable: false },
  broker_sasl_not_enabled: { retriable: false },
  broker_expects_sasl: { retriable: false },
  broker_not_authorized: { retriable: false },
  broker_certificate_untrusted: { retriable: false },
  broker_certificate_name_mismatch: { retriable: false },
  broker_certificate_expired: { retriable: false },
  broker_refused_client_certificate: { retriable: false },
  broker_expects_tls: { retriable: false },
  broker_expects_plaintext: { retriable: false },
  // Our own code (or a library's, fed an answer it did not expect), and whatever this table does not know.
  programmer_error: { retriable: false },
  unknown: { retriable: false },
} as const satisfies Record<string, { retriable: boolean }>;

export type ServiceFailureCode = keyof typeof SERVICE_FAILURES;

/** Node's system errors for a peer that cannot be reached or went away (libuv errno names). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/**
 * JavaScript's own error types: thrown by our code (or a library's) on a value it did not expect.
 * Matched by name, as kafkajs does: errors made by Node's internals come from another realm
 * under a VM (`instanceof TypeError` is false there), and so do its system errors above.
 */
const PROGRAMMER_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'EvalError', 'URIError']);

function registryFailure(status: number): ServiceFailureCode {
  if (status === 404) return 'schema_unknown';
  if (status === 401 || status === 403) return 'registry_unauthorized';
  if (status === 408) return 'registry_timeout';
  if (status === 409) return 'schema_incompatible';
  if (status === 422) return 'schema_rejected';
  if (status === 429) return 'registry_throttled';
  // mappersmith answers 400 itself when no response came (refused, reset, timed out); the
  // registry's own answers to our requests use 404, 409, 422 and 5xx, never 400.
  if (status === 400) return 'registry_unreachable';
  if (status >= 500) return 'registry_unavailable';
  return 'registry_refused';
}

/** A component's own failures (the processor's database), tried before the ones here. */
export type OwnFailures<C extends string> = (error: unknown) => C | undefined;

function kafkaFailure<C extends string>(error: KafkaJSError, own: OwnFailures<C>): ServiceFailureCode | C {
  // kafkajs's retrier wraps the error it stopped on, as the cause: when its retries ran out, and
  // when a retrier nested inside another one gave up (then the outer error says "non-retriable"
  // of a lost connection). Judge the error it stopped on, as kafkajs's own consumer does.
  const cause: unknown = error.cause;
  if (cause instanceof Error && cause !== error) return classifyServiceFailure(cause, own);
  // kafkajs marks its timeouts (a lock on a broker connection, a wait) non-retriable so that its
  // own retrier does not wait twice; to us they are the broker's moment, like a lost connection.
  if (error instanceof KafkaJSTimeout) return 'broker_unavailable';
  return error.retriable ? 'broker_unavailable' : 'broker_refused';
}

/**
 * One failure per topic of a createTopics request (kafkajs's KafkaJSAggregateError, which is not
 * a KafkaJSError): waited out when every one is, else the first that is not (a topic name the
 * broker refuses: INVALID_TOPIC_EXCEPTION).
 */
function aggregateFailure(errors: readonly unknown[]): ServiceFailureCode {
  const codes = errors.map((error) => classifyServiceFailure(error));
  return codes.find((code) => !SERVICE_FAILURES[code].retriable) ?? codes[0] ?? 'unknown';
}

/**
 * What a failure is, by its type and code at the seam it came through (an HTTP status,
 * kafkajs's flag, a system error code), never by what its message says. `own` classifies a
 * component's own failures first (a code it returns is judged retriable by that component).
 */
export function classifyServiceFailure<C extends string = never>(error: unknown, own: OwnFailures<C> = () => undefined): ServiceFailureCode | C {
  // Credentials, certificates, the wrong listener: judged in one place for both services.
  const connection = connectionFailure(error);
  if (connection) return connection.code;
  const mine = own(error);
  if (mine !== undefined) return mine;
  if (error instanceof KafkaJSError) return kafkaFailure(error, own);
  if (typeof error !== 'object' || error === null) return 'unknown';
  const { name, status, code, errors } = error as { name?: unknown; status?: unknown; code?: unknown; errors?: unknown };
  if (name === 'KafkaJSAggregateError' && Array.isArray(errors)) return aggregateFailure(errors);
  if (error instanceof RegistryNotFound) return 'registry_misconfigured';
  // @kafkajs/confluent-schema-registry does not export its ResponseError class.
  if (name === 'ResponseError' && typeof status === 'number') return registryFailure(status);
  if (name === 'ConfluentSchemaRegistryCompatibilityError') return 'registry_misconfigured';
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'network_error';
  if (typeof name === 'string' && PROGRAMMER_ERRORS.has(name)) return 'programmer_error';
  return 'unknown';
}

/**
 * How the receiver's start judges a failure: waiting can fix a broker or registry that is not up
 * yet, never credentials, a wrong URL, a topic the broker refuses or a bug. The processor judges
 * its start with the same table, its database failures added (processor/errors.ts).
 */
export function startupFailure(error: unknown): StartupFailure {
  const code = classifyServiceFailure(error);
  return { code, retriable: SERVICE_FAILURES[code].retriable };
}
