import { KafkaJSError, KafkaJSTimeout } from 'kafkajs';
import { KnexTimeoutError } from 'knex';
import { DatabaseError } from 'pg';
import { connectionFailure } from '../platform/connection-failures';
import { MigrationsPending } from './migrations';

/** What the processor does about a failure: wait and try again, record it and move on, or stop. */
export type Decision = 'retry' | 'dead_letter' | 'stop';

/**
 * Every failure the processor can meet, by stable code. `retriable` says whether the failure goes
 * away by itself (start-up retries exactly those); `decision` is what the running processor does.
 * They differ for credentials: they will not fix themselves, but an operator can fix them while
 * the processor waits, and waiting loses nothing.
 */
const FAILURES = {
  // PostgreSQL, by SQLSTATE: the moment (connection, rollback, resources, operator), or credentials.
  db_connection_exception: { retriable: true, decision: 'retry' },
  db_transaction_rollback: { retriable: true, decision: 'retry' },
  db_insufficient_resources: { retriable: true, decision: 'retry' },
  db_operator_intervention: { retriable: true, decision: 'retry' },
  db_system_error: { retriable: true, decision: 'retry' },
  db_lock_not_available: { retriable: true, decision: 'retry' },
  db_object_in_use: { retriable: true, decision: 'retry' },
  db_idle_in_transaction_timeout: { retriable: true, decision: 'retry' },
  db_unauthorized: { retriable: false, decision: 'retry' },
  // The database refusing the event's own data.
  db_data_exception: { retriable: false, decision: 'dead_letter' },
  db_constraint_violation: { retriable: false, decision: 'dead_letter' },
  db_value_too_large: { retriable: false, decision: 'dead_letter' },
  // A table or column the code needs is missing: the migrations were not applied.
  db_not_migrated: { retriable: false, decision: 'stop' },
  // Any other SQLSTATE: a syntax error, a database that does not exist — the deployment or the code.
  db_unexpected: { retriable: false, decision: 'stop' },
  // The database out of reach, reported without a SQLSTATE.
  db_connection_lost: { retriable: true, decision: 'retry' },
  db_pool_timeout: { retriable: true, decision: 'retry' },
  network_error: { retriable: true, decision: 'retry' },
  // The schema registry, by HTTP status.
  schema_unknown: { retriable: true, decision: 'retry' },
  registry_unavailable: { retriable: true, decision: 'retry' },
  registry_throttled: { retriable: true, decision: 'retry' },
  registry_timeout: { retriable: true, decision: 'retry' },
  registry_unreachable: { retriable: true, decision: 'retry' },
  // Connection failures (platform/connection-failures.ts): the registry's are waited out, as credentials are.
  registry_unauthorized: { retriable: false, decision: 'retry' },
  registry_certificate_untrusted: { retriable: false, decision: 'retry' },
  registry_certificate_name_mismatch: { retriable: false, decision: 'retry' },
  registry_certificate_expired: { retriable: false, decision: 'retry' },
  registry_expects_tls: { retriable: false, decision: 'retry' },
  registry_expects_plaintext: { retriable: false, decision: 'retry' },
  schema_incompatible: { retriable: false, decision: 'stop' },
  schema_rejected: { retriable: false, decision: 'stop' },
  registry_misconfigured: { retriable: false, decision: 'stop' },
  registry_refused: { retriable: false, decision: 'stop' },
  // Kafka, by kafkajs's own `retriable`.
  broker_unavailable: { retriable: true, decision: 'retry' },
  broker_refused: { retriable: false, decision: 'stop' },
  // Connection failures (platform/connection-failures.ts): without the broker the processor does nothing, so it stops.
  broker_unauthorized: { retriable: false, decision: 'stop' },
  broker_sasl_not_enabled: { retriable: false, decision: 'stop' },
  broker_expects_sasl: { retriable: false, decision: 'stop' },
  broker_not_authorized: { retriable: false, decision: 'stop' },
  broker_certificate_untrusted: { retriable: false, decision: 'stop' },
  broker_certificate_name_mismatch: { retriable: false, decision: 'stop' },
  broker_certificate_expired: { retriable: false, decision: 'stop' },
  broker_refused_client_certificate: { retriable: false, decision: 'stop' },
  broker_expects_tls: { retriable: false, decision: 'stop' },
  broker_expects_plaintext: { retriable: false, decision: 'stop' },
  // Our own code, and whatever this table does not know: never retried, never dead-lettered.
  programmer_error: { retriable: false, decision: 'stop' },
  unknown: { retriable: false, decision: 'stop' },
} as const satisfies Record<string, { retriable: boolean; decision: Decision }>;

export type FailureCode = keyof typeof FAILURES;

/** The failures that are the database refusing an event: they are its rejection reason. */
export type DatabaseRefusal = { [C in FailureCode]: (typeof FAILURES)[C]['decision'] extends 'dead_letter' ? C : never }[FailureCode];

/** Why an event was rejected: a stable, machine-readable code; the detail is stored beside it. */
export type RejectionReason =
  | 'undecodable_envelope'
  | 'unknown_webhook_type'
  | 'schema_invalid'
  | 'trade_not_found'
  | 'type_mismatch'
  | 'amount_mismatch'
  | 'payment_after_terminal'
  | 'duplicate_payment'
  | 'event_id_collision'
  | DatabaseRefusal;

export type Failure =
  | { readonly code: DatabaseRefusal; readonly retriable: false; readonly decision: 'dead_letter' }
  | { readonly code: Exclude<FailureCode, DatabaseRefusal>; readonly retriable: boolean; readonly decision: 'retry' | 'stop' };

const failure = (code: FailureCode): Failure => ({ code, ...FAILURES[code] }) as Failure;

/** Every code with its decision, for the table test and the documentation. */
export const FAILURE_TABLE: Readonly<Record<FailureCode, { readonly retriable: boolean; readonly decision: Decision }>> = FAILURES;

const SQLSTATE_CLASSES: Readonly<Record<string, FailureCode>> = {
  '08': 'db_connection_exception',
  '40': 'db_transaction_rollback',
  '53': 'db_insufficient_resources',
  '57': 'db_operator_intervention',
  '58': 'db_system_error',
  '28': 'db_unauthorized',
  '22': 'db_data_exception',
  '23': 'db_constraint_violation',
};

const SQLSTATES: Readonly<Record<string, FailureCode>> = {
  '42P01': 'db_not_migrated',
  '42703': 'db_not_migrated',
  // A value too large to index or store (other 54xxx codes are about statements, i.e. our code).
  '54000': 'db_value_too_large',
  '55P03': 'db_lock_not_available',
  '55006': 'db_object_in_use',
  '25P03': 'db_idle_in_transaction_timeout',
};

/** Node's system errors for a peer that cannot be reached or went away (libuv errno names). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/**
 * pg and pg-pool report a lost or unobtainable connection as a plain Error with no code: these
 * are their exact messages (pg/lib/client.js, pg-pool/index.js). Knex puts the failed statement
 * in front (`<sql> - <message>`), so they are matched as the message's end.
 */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout expired',
  'Query read timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

/**
 * JavaScript's own error types: thrown by our code (or a library's) on a value it did not expect.
 * Matched by name, as kafkajs does: errors made by Node's internals come from another realm
 * under a VM (`instanceof TypeError` is false there), and so do its system errors below.
 */
const PROGRAMMER_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'EvalError', 'URIError']);

function registryFailure(status: number): FailureCode {
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

function kafkaFailure(error: KafkaJSError): FailureCode {
  // kafkajs's retrier wraps the error it stopped on, as the cause: when its retries ran out, and
  // when a retrier nested inside another one gave up (then the outer error says "non-retriable"
  // of a lost connection). Judge the error it stopped on, as kafkajs's own consumer does.
  const cause: unknown = error.cause;
  if (cause instanceof Error && cause !== error) return classify(cause);
  // kafkajs marks its timeouts (a lock on a broker connection, a wait) non-retriable so that its
  // own retrier does not wait twice; to us they are the broker's moment, like a lost connection.
  if (error instanceof KafkaJSTimeout) return 'broker_unavailable';
  return error.retriable ? 'broker_unavailable' : 'broker_refused';
}

function classify(error: unknown): FailureCode {
  // Credentials, certificates, the wrong listener: judged in one place for both services.
  const connection = connectionFailure(error);
  if (connection) return connection.code;
  if (error instanceof DatabaseError) {
    const sqlstate = error.code ?? '';
    return SQLSTATES[sqlstate] ?? SQLSTATE_CLASSES[sqlstate.slice(0, 2)] ?? 'db_unexpected';
  }
  if (error instanceof KnexTimeoutError) return 'db_pool_timeout';
  if (error instanceof MigrationsPending) return 'db_not_migrated';
  if (error instanceof KafkaJSError) return kafkaFailure(error);
  if (typeof error !== 'object' || error === null) return 'unknown';
  const { name, message, status, code } = error as { name?: unknown; message?: unknown; status?: unknown; code?: unknown };
  // @kafkajs/confluent-schema-registry does not export its ResponseError class.
  if (name === 'ResponseError' && typeof status === 'number') return registryFailure(status);
  if (name === 'ConfluentSchemaRegistryCompatibilityError') return 'registry_misconfigured';
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'network_error';
  if (typeof message === 'string' && PG_CONNECTION_MESSAGES.some((known) => message === known || message.endsWith(` - ${known}`))) return 'db_connection_lost';
  if (typeof name === 'string' && PROGRAMMER_ERRORS.has(name)) return 'programmer_error';
  return 'unknown';
}

/**
 * The one authority on what a failure means. Retry, dead-letter and stop are decided here and
 * nowhere else, from the error's type and code at the seam it came through (a SQLSTATE, an HTTP
 * status, kafkajs's flag), never from what a message says — except pg's connection errors,
 * which carry nothing else.
 */
export function classifyFailure(error: unknown): Failure {
  return failure(classify(error));
}

/**
 * What an operator reads next to a database refusal: the SQLSTATE and PostgreSQL's own message,
 * without the statement knex puts in front of it (it holds every bound value of the chunk).
 */
export function refusalDetail(error: unknown): string {
  if (!(error instanceof DatabaseError)) return error instanceof Error ? error.message : String(error);
  const statementEnd = error.message.lastIndexOf(' - ');
  const message = statementEnd < 0 ? error.message : error.message.slice(statementEnd + 3);
  const where = [error.constraint && `constraint ${error.constraint}`, error.column && `column ${error.column}`].filter(Boolean).join(', ');
  return `the database refused it (SQLSTATE ${error.code}${where ? `, ${where}` : ''}): ${message}`;
}
