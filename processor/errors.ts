import { KnexTimeoutError } from 'knex';
import { DatabaseError } from 'pg';
import { classifyServiceFailure, SERVICE_FAILURES, type ServiceFailureCode } from '../platform/service-failures';
import { MigrationsPending } from './migrations';
import { RetentionUnsafe } from './retention-guard';

/** What the processor does about a failure: wait and try again, record it and move on, or stop. */
export type Decision = 'retry' | 'dead_letter' | 'stop';

/**
 * The database's failures, by stable code. `retriable` says whether the failure goes away by
 * itself (start-up retries exactly those); `decision` is what the running processor does. They
 * differ for credentials: they will not fix themselves, but an operator can fix them while the
 * processor waits, and waiting loses nothing.
 */
const DATABASE_FAILURES = {
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
} as const satisfies Record<string, { retriable: boolean; decision: Decision }>;

/** The processor's own failures that are neither the database's nor shared with the receiver. */
const PROCESSOR_FAILURES = {
  // WEBHOOK_EVENTS_RETENTION_DAYS against the topic's retention: an operator's decision.
  retention_unsafe: { retriable: false, decision: 'stop' },
} as const satisfies Record<string, { retriable: boolean; decision: Decision }>;

/**
 * What the running processor does about the failures both services share; whether each is
 * retriable is platform/service-failures.ts's to say, for both services' start-up.
 */
const SERVICE_DECISIONS = {
  network_error: 'retry',
  schema_unknown: 'retry',
  registry_unavailable: 'retry',
  registry_throttled: 'retry',
  registry_timeout: 'retry',
  registry_unreachable: 'retry',
  // The registry's connection failures are waited out, as credentials are.
  registry_unauthorized: 'retry',
  registry_certificate_untrusted: 'retry',
  registry_certificate_name_mismatch: 'retry',
  registry_certificate_expired: 'retry',
  registry_expects_tls: 'retry',
  registry_expects_plaintext: 'retry',
  schema_incompatible: 'stop',
  schema_rejected: 'stop',
  registry_misconfigured: 'stop',
  registry_refused: 'stop',
  broker_unavailable: 'retry',
  broker_refused: 'stop',
  // Without the broker the processor does nothing, so it stops.
  broker_unauthorized: 'stop',
  broker_sasl_not_enabled: 'stop',
  broker_expects_sasl: 'stop',
  broker_not_authorized: 'stop',
  broker_certificate_untrusted: 'stop',
  broker_certificate_name_mismatch: 'stop',
  broker_certificate_expired: 'stop',
  broker_refused_client_certificate: 'stop',
  broker_expects_tls: 'stop',
  broker_expects_plaintext: 'stop',
  // Never retried, never dead-lettered.
  programmer_error: 'stop',
  unknown: 'stop',
} as const satisfies Record<ServiceFailureCode, Exclude<Decision, 'dead_letter'>>;

type SharedFailures = {
  readonly [C in ServiceFailureCode]: { readonly retriable: (typeof SERVICE_FAILURES)[C]['retriable']; readonly decision: (typeof SERVICE_DECISIONS)[C] };
};

/** Every failure the processor can meet, by stable code. */
const FAILURES = {
  ...DATABASE_FAILURES,
  ...PROCESSOR_FAILURES,
  ...(Object.fromEntries(
    (Object.keys(SERVICE_DECISIONS) as ServiceFailureCode[]).map((code) => [code, { retriable: SERVICE_FAILURES[code].retriable, decision: SERVICE_DECISIONS[code] }]),
  ) as SharedFailures),
};

export type FailureCode = keyof typeof FAILURES;
type DatabaseFailureCode = keyof typeof DATABASE_FAILURES;
type OwnFailureCode = DatabaseFailureCode | keyof typeof PROCESSOR_FAILURES;

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

const SQLSTATE_CLASSES: Readonly<Record<string, DatabaseFailureCode>> = {
  '08': 'db_connection_exception',
  '40': 'db_transaction_rollback',
  '53': 'db_insufficient_resources',
  '57': 'db_operator_intervention',
  '58': 'db_system_error',
  '28': 'db_unauthorized',
  '22': 'db_data_exception',
  '23': 'db_constraint_violation',
};

const SQLSTATES: Readonly<Record<string, DatabaseFailureCode>> = {
  '42P01': 'db_not_migrated',
  '42703': 'db_not_migrated',
  // A value too large to index or store (other 54xxx codes are about statements, i.e. our code).
  '54000': 'db_value_too_large',
  '55P03': 'db_lock_not_available',
  '55006': 'db_object_in_use',
  '25P03': 'db_idle_in_transaction_timeout',
};

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

/** The database's own failures; undefined for any other (platform/service-failures.ts judges those). */
function databaseFailure(error: unknown): DatabaseFailureCode | undefined {
  if (error instanceof DatabaseError) {
    const sqlstate = error.code ?? '';
    return SQLSTATES[sqlstate] ?? SQLSTATE_CLASSES[sqlstate.slice(0, 2)] ?? 'db_unexpected';
  }
  if (error instanceof KnexTimeoutError) return 'db_pool_timeout';
  if (error instanceof MigrationsPending) return 'db_not_migrated';
  const { message } = (error ?? {}) as { message?: unknown };
  if (typeof message === 'string' && PG_CONNECTION_MESSAGES.some((known) => message === known || message.endsWith(` - ${known}`))) {
    return 'db_connection_lost';
  }
  return undefined;
}

/**
 * The one authority on what a failure means. Retry, dead-letter and stop are decided here and
 * nowhere else, from the error's type and code at the seam it came through (a SQLSTATE, an HTTP
 * status, kafkajs's flag), never from what a message says — except pg's connection errors,
 * which carry nothing else.
 */
export function classifyFailure(error: unknown): Failure {
  return failure(classifyServiceFailure<OwnFailureCode>(error, (own) => (own instanceof RetentionUnsafe ? 'retention_unsafe' : databaseFailure(own))));
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
