import { createServer } from 'node:http';
import { connect } from 'node:net';
import knex, { KnexTimeoutError } from 'knex';
import * as kafkajs from 'kafkajs';
import {
  KafkaJSConnectionError,
  KafkaJSLockTimeout,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { DatabaseError } from 'pg';
import { COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry';
import { TRADE_NOTIFICATION_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { createRegistry, registerValueSchema } from '../../platform/schema-registry';
import { classifyFailure, FAILURE_TABLE, refusalDetail, type FailureCode } from '../../processor/errors';
import { RetentionUnsafe } from '../../processor/retention-guard';
import { MigrationsPending } from '../../processor/migrations';
import { ConnectionProblem } from '../../platform/connection-failures';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from '../support/cleanup';
import { freePort } from '../../scripts/harness/free-port';
import { uniqueName } from '../support/names';

// kafkajs's own table of broker error codes, with their `retriable` flags.
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): KafkaJSProtocolError };

/** A PostgreSQL error as pg's protocol parser builds it from the server's ErrorResponse. */
function pgError(sqlstate: string, message: string): DatabaseError {
  const error = new DatabaseError(message, message.length, 'error');
  error.severity = 'ERROR';
  error.code = sqlstate;
  return error;
}

/** A Node system error as libuv reports it (what `net`, `dns` and pg's socket throw). */
function systemError(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${syscall} ${code}`), { code, errno: -1, syscall });
}

/** The error the registry client throws when the registry answers `status`. */
async function registryAnswering(status: number): Promise<unknown> {
  const server = createServer((_request, response) => {
    response.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
    response.end(JSON.stringify({ error_code: status * 100, message: `answered ${status}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address() as { port: number };
  return createRegistry(`http://127.0.0.1:${port}`).getSchema(1).then(
    () => new Error('the registry client accepted an error status'),
    (error: unknown) => error,
  );
}


/** Exported by kafkajs at run time, though not by its type declarations. */
const { KafkaJSConnectionClosedError } = kafkajs as unknown as Record<string, new (message: string, details: object) => Error>;

/** What kafkajs rejects with once it gave up on a TLS connection whose socket failed with `code`. */
function brokerTlsFailure(code: string): KafkaJSNumberOfRetriesExceeded {
  return new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError(`Connection error: ${code}`, { broker: 'kafka-1.example:9093', code } as object), { retryCount: 5, retryTime: 3000 });
}

/** kafkajs's retrier (retry/index.js) rejects with this when the error it stopped on is not retriable to it. */
function nestedRetrierGaveUp(cause: Error & { cause?: unknown }): KafkaJSNonRetriableError {
  return Reflect.construct(KafkaJSNonRetriableError, [cause, { cause: (cause.cause as Error | undefined) ?? cause }]);
}
describe('failure classification: every code has one decision', () => {
  it('pins the decision and the retriable flag of every code', () => {
    expect(FAILURE_TABLE).toEqual({
      db_connection_exception: { retriable: true, decision: 'retry' },
      db_transaction_rollback: { retriable: true, decision: 'retry' },
      db_insufficient_resources: { retriable: true, decision: 'retry' },
      db_operator_intervention: { retriable: true, decision: 'retry' },
      db_system_error: { retriable: true, decision: 'retry' },
      db_lock_not_available: { retriable: true, decision: 'retry' },
      db_object_in_use: { retriable: true, decision: 'retry' },
      db_idle_in_transaction_timeout: { retriable: true, decision: 'retry' },
      db_unauthorized: { retriable: false, decision: 'retry' },
      db_data_exception: { retriable: false, decision: 'dead_letter' },
      db_constraint_violation: { retriable: false, decision: 'dead_letter' },
      db_value_too_large: { retriable: false, decision: 'dead_letter' },
      db_not_migrated: { retriable: false, decision: 'stop' },
      db_unexpected: { retriable: false, decision: 'stop' },
      db_connection_lost: { retriable: true, decision: 'retry' },
      db_pool_timeout: { retriable: true, decision: 'retry' },
      retention_unsafe: { retriable: false, decision: 'stop' },
      network_error: { retriable: true, decision: 'retry' },
      schema_unknown: { retriable: true, decision: 'retry' },
      registry_unavailable: { retriable: true, decision: 'retry' },
      registry_throttled: { retriable: true, decision: 'retry' },
      registry_timeout: { retriable: true, decision: 'retry' },
      registry_unreachable: { retriable: true, decision: 'retry' },
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
      broker_unavailable: { retriable: true, decision: 'retry' },
      broker_refused: { retriable: false, decision: 'stop' },
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
      programmer_error: { retriable: false, decision: 'stop' },
      unknown: { retriable: false, decision: 'stop' },
    });
  });

  const unreachableRegistry = async (): Promise<unknown> => createRegistry(`http://127.0.0.1:${await freePort()}`).getSchema(1).catch((error: unknown) => error);

  const rows: Array<[string, () => unknown, FailureCode]> = [
    ['a lost connection (SQLSTATE 08006)', () => pgError('08006', 'connection failure'), 'db_connection_exception'],
    ['a serialization failure (SQLSTATE 40001)', () => pgError('40001', 'could not serialize access due to concurrent update'), 'db_transaction_rollback'],
    ['a deadlock (SQLSTATE 40P01)', () => pgError('40P01', 'deadlock detected'), 'db_transaction_rollback'],
    ['too many connections (SQLSTATE 53300)', () => pgError('53300', 'sorry, too many clients already'), 'db_insufficient_resources'],
    ['a disk full (SQLSTATE 53100)', () => pgError('53100', 'could not extend file'), 'db_insufficient_resources'],
    ['an administrator shutdown (SQLSTATE 57P01)', () => pgError('57P01', 'terminating connection due to administrator command'), 'db_operator_intervention'],
    ['a cancelled statement (SQLSTATE 57014)', () => pgError('57014', 'canceling statement due to statement timeout'), 'db_operator_intervention'],
    ['an I/O error (SQLSTATE 58030)', () => pgError('58030', 'could not read block'), 'db_system_error'],
    ['a lock wait given up (SQLSTATE 55P03)', () => pgError('55P03', 'could not obtain lock on row'), 'db_lock_not_available'],
    ['an object in use (SQLSTATE 55006)', () => pgError('55006', 'database is being accessed by other users'), 'db_object_in_use'],
    ['an idle transaction timed out (SQLSTATE 25P03)', () => pgError('25P03', 'terminating connection due to idle-in-transaction timeout'), 'db_idle_in_transaction_timeout'],
    ['a wrong database password (SQLSTATE 28P01)', () => pgError('28P01', 'password authentication failed for user "processor"'), 'db_unauthorized'],
    ['a value the column cannot hold (SQLSTATE 22003)', () => pgError('22003', 'numeric field overflow'), 'db_data_exception'],
    ['a NUL in text (SQLSTATE 22021)', () => pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00'), 'db_data_exception'],
    ['a unique violation (SQLSTATE 23505)', () => pgError('23505', 'duplicate key value violates unique constraint "trades_pkey"'), 'db_constraint_violation'],
    ['a value too large for its index (SQLSTATE 54000)', () => pgError('54000', 'index row size 6416 exceeds btree version 4 maximum 2704 for index "transactions_provider_reference_unique"'), 'db_value_too_large'],
    ['a statement too complex (SQLSTATE 54001)', () => pgError('54001', 'stack depth limit exceeded'), 'db_unexpected'],
    ['a missing table (SQLSTATE 42P01)', () => pgError('42P01', 'relation "webhook_events" does not exist'), 'db_not_migrated'],
    ['a missing column (SQLSTATE 42703)', () => pgError('42703', 'column "reason_detail" of relation "webhook_events" does not exist'), 'db_not_migrated'],
    ['migrations not applied, found at start', () => new MigrationsPending(['20261127000005_webhook_events_reason_detail']), 'db_not_migrated'],
    ['a webhook-events topic that may outlive the dedupe record', () => new RetentionUnsafe('WEBHOOK_EVENTS_RETENTION_DAYS=7 …'), 'retention_unsafe'],
    ['a syntax error in our SQL (SQLSTATE 42601)', () => pgError('42601', 'syntax error at or near "selec"'), 'db_unexpected'],
    ['a database that does not exist (SQLSTATE 3D000)', () => pgError('3D000', 'database "trade_webhook" does not exist'), 'db_unexpected'],
    ['pg losing its connection', () => new Error('Connection terminated unexpectedly'), 'db_connection_lost'],
    ['pg losing its connection under a knex statement', () => new Error('insert into webhook_events (event_id) values ($1) - Connection terminated unexpectedly'), 'db_connection_lost'],
    ['pg timing out a connection', () => new Error('Connection terminated due to connection timeout'), 'db_connection_lost'],
    ['pg-pool timing out a connection', () => new Error('timeout exceeded when trying to connect'), 'db_connection_lost'],
    ['a query on a client that lost its connection', () => new Error('Client has encountered a connection error and is not queryable'), 'db_connection_lost'],
    ['knex waiting too long for a pooled connection', () => new KnexTimeoutError('Knex: Timeout acquiring a connection. The pool is probably full.'), 'db_pool_timeout'],
    ['a refused connection (ECONNREFUSED)', () => systemError('ECONNREFUSED', 'connect'), 'network_error'],
    ['a reset connection (ECONNRESET)', () => systemError('ECONNRESET', 'read'), 'network_error'],
    ['a connect timeout (ETIMEDOUT)', () => systemError('ETIMEDOUT', 'connect'), 'network_error'],
    ['a write to a closed socket (EPIPE)', () => systemError('EPIPE', 'write'), 'network_error'],
    ['an unknown host (ENOTFOUND)', () => systemError('ENOTFOUND', 'getaddrinfo'), 'network_error'],
    ['a DNS failure of the moment (EAI_AGAIN)', () => systemError('EAI_AGAIN', 'getaddrinfo'), 'network_error'],
    ['an unreachable host (EHOSTUNREACH)', () => systemError('EHOSTUNREACH', 'connect'), 'network_error'],
    ['every address of a host refusing (AggregateError with ECONNREFUSED)', () => Object.assign(new AggregateError([systemError('ECONNREFUSED', 'connect')], ''), { code: 'ECONNREFUSED' }), 'network_error'],
    ['a schema id the registry does not know (404)', () => registryAnswering(404), 'schema_unknown'],
    ['a registry error (500)', () => registryAnswering(500), 'registry_unavailable'],
    ['a registry being restarted (503)', () => registryAnswering(503), 'registry_unavailable'],
    ['a registry throttling us (429)', () => registryAnswering(429), 'registry_throttled'],
    ['a registry timing out the request (408)', () => registryAnswering(408), 'registry_timeout'],
    ['a registry refusing our credentials (401)', () => registryAnswering(401), 'registry_unauthorized'],
    ['a registry denying access (403)', () => registryAnswering(403), 'registry_unauthorized'],
    ['an incompatible schema (409)', () => registryAnswering(409), 'schema_incompatible'],
    ['a schema the registry finds invalid (422)', () => registryAnswering(422), 'schema_rejected'],
    ['a request the registry does not serve (405)', () => registryAnswering(405), 'registry_refused'],
    ['a registry nobody listens for (the client reports 400)', unreachableRegistry, 'registry_unreachable'],
    ['a broker connection error', () => new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), 'broker_unavailable'],
    ['a partition without a leader (kafkajs retriable)', () => createErrorFromCode(6), 'broker_unavailable'],
    ['a request timed out on the broker', () => createErrorFromCode(7), 'broker_unavailable'],
    ['kafkajs giving up retrying a connection error', () => new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection timeout'), { retryCount: 5, retryTime: 3000 }), 'broker_unavailable'],
    ['a broker connection lock that timed out (kafkajs marks it non-retriable)', () => Reflect.construct(KafkaJSLockTimeout, ['Timeout while acquiring lock (1 waiting locks): "connect to broker 127.0.0.1:9092"']), 'broker_unavailable'],
    ['a topic the user has no ACL for', () => createErrorFromCode(29), 'broker_not_authorized'],
    ['a message too large for the broker', () => createErrorFromCode(10), 'broker_refused'],
    ['a non-retriable kafkajs error', () => new KafkaJSNonRetriableError('Invalid partition'), 'broker_refused'],
    // What producer.send throws while the broker is down: a nested retrier gave up, and the outer one wrapped its cause.
    ['a lost connection kafkajs wraps as non-retriable', () => nestedRetrierGaveUp(new KafkaJSConnectionClosedError!('Closed connection', { host: '127.0.0.1', port: 9092 })), 'broker_unavailable'],
    ['a refusal kafkajs wraps as non-retriable', () => nestedRetrierGaveUp(createErrorFromCode(10)), 'broker_refused'],
    ['a failed SASL authentication', () => Reflect.construct(KafkaJSSASLAuthenticationError, ['SASL SCRAM-SHA-256 authentication failed: Authentication failed']), 'broker_unauthorized'],
    ['SASL on a listener without it', () => createErrorFromCode(34), 'broker_sasl_not_enabled'],
    ['a broker certificate of an unknown CA, kafkajs having given up', () => brokerTlsFailure('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'broker_certificate_untrusted'],
    ['a broker certificate for another name', () => brokerTlsFailure('ERR_TLS_CERT_ALTNAME_INVALID'), 'broker_certificate_name_mismatch'],
    ['an expired broker certificate', () => brokerTlsFailure('CERT_HAS_EXPIRED'), 'broker_certificate_expired'],
    ['a client certificate the broker refused', () => brokerTlsFailure('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'), 'broker_refused_client_certificate'],
    ...(['broker_expects_sasl', 'broker_expects_tls', 'broker_expects_plaintext', 'registry_certificate_untrusted', 'registry_certificate_name_mismatch', 'registry_certificate_expired', 'registry_expects_tls', 'registry_expects_plaintext'] as const).map(
      (code): [string, () => unknown, FailureCode] => [`a connection problem found by probing (${code})`, () => new ConnectionProblem(code, 'kafka-1.example:9093', { cause: undefined }), code],
    ),
    ['a TypeError of our own code', () => new TypeError("Cannot read properties of undefined (reading 'event_id')"), 'programmer_error'],
    ['a RangeError of our own code', () => new RangeError('Invalid time value'), 'programmer_error'],
    ['a ReferenceError of our own code', () => new ReferenceError('trade is not defined'), 'programmer_error'],
    ['a SyntaxError of our own code', () => new SyntaxError('Unexpected token u in JSON at position 0'), 'programmer_error'],
    ['a TypeError kafkajs retried until it gave up', () => new KafkaJSNumberOfRetriesExceeded(new TypeError('x is not a function'), { retryCount: 5, retryTime: 3000 }), 'programmer_error'],
    ['an Error nothing above describes', () => new Error('validated buy_completion payload does not match buy-completion.avsc'), 'unknown'],
    ['a thrown string', () => 'something went wrong', 'unknown'],
    ['a thrown undefined', () => undefined, 'unknown'],
  ];

  it.each(rows.map(([description, make, code]) => [description, code, make] as const))('%s is classified %s', async (_description, code, make) => {
    const error = await make();
    expect(classifyFailure(error)).toEqual({ code, ...FAILURE_TABLE[code] });
  });

  it('has a row above for every code', () => {
    const covered = new Set(rows.map(([, , code]) => code));
    // registry_misconfigured comes from the registry client's own check, exercised against the real registry below.
    expect(Object.keys(FAILURE_TABLE).filter((code) => !covered.has(code as FailureCode))).toEqual(['registry_misconfigured']);
  });
});

describe('failure classification: errors of the real services', () => {
  const databaseUrl = (): string => serviceEndpoints().databaseUrl;

  it('PostgreSQL refusing data is a dead letter, with the SQLSTATE and without the statement in its detail', async () => {
    const db = knex({ client: 'pg', connection: databaseUrl(), pool: { min: 0, max: 1 } });
    onCleanup(() => db.destroy());
    const error = await db.raw('select ?::int / 0', [7]).catch((failure: unknown) => failure);
    expect(classifyFailure(error).decision).toBe('dead_letter');
    expect(refusalDetail(error)).toBe('the database refused it (SQLSTATE 22012): division by zero');
  });

  it('a missing table stops the processor', async () => {
    const db = knex({ client: 'pg', connection: databaseUrl(), pool: { min: 0, max: 1 } });
    onCleanup(() => db.destroy());
    const error = await db.raw(`select 1 from ${uniqueName('missing')}`).catch((failure: unknown) => failure);
    expect(classifyFailure(error).code).toBe('db_not_migrated');
  });

  it('a database nobody listens for is retried', async () => {
    const url = new URL(databaseUrl());
    url.port = String(await freePort());
    const db = knex({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 1 } });
    onCleanup(() => db.destroy());
    const error = await db.raw('select 1').catch((failure: unknown) => failure);
    expect(classifyFailure(error)).toEqual(expect.objectContaining({ code: 'network_error', decision: 'retry' }));
  });

  it('a connection the server terminated is retried', async () => {
    const db = knex({ client: 'pg', connection: databaseUrl(), pool: { min: 0, max: 1 } });
    const admin = knex({ client: 'pg', connection: databaseUrl(), pool: { min: 0, max: 1 } });
    onCleanup(() => Promise.all([db.destroy(), admin.destroy()]));
    const { rows } = await db.raw<{ rows: Array<{ pid: number }> }>('select pg_backend_pid() as pid');
    const sleeping = db.raw('select pg_sleep(10)').catch((failure: unknown) => failure);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await admin.raw('select pg_terminate_backend(?)', [rows[0]!.pid]);
    expect(classifyFailure(await sleeping)).toEqual(expect.objectContaining({ decision: 'retry' }));
  });

  it('knex giving up on a pooled connection is retried', async () => {
    const db = knex({ client: 'pg', connection: databaseUrl(), pool: { min: 0, max: 1 }, acquireConnectionTimeout: 200 });
    onCleanup(() => db.destroy());
    const holding = db.transaction();
    const trx = await holding;
    const error = await db.raw('select 1').catch((failure: unknown) => failure);
    await trx.rollback();
    expect(classifyFailure(error).code).toBe('db_pool_timeout');
  });

  it('a schema id the real registry does not know is retried as schema_unknown', async () => {
    const error = await createRegistry(serviceEndpoints().schemaRegistryUrl).getSchema(2_000_000_000).catch((failure: unknown) => failure);
    expect(classifyFailure(error)).toEqual({ code: 'schema_unknown', retriable: true, decision: 'retry' });
  });

  it('a schema the real registry finds incompatible with its subject stops the start', async () => {
    const topic = uniqueName('incompatible');
    const registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
    await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'TradeNotification', namespace: 'exchange.trade_webhooks', fields: [{ name: 'other', type: 'string' }] }) },
      { subject: `${topic}-value` },
    );
    const error = await registerValueSchema(registry, topic, TRADE_NOTIFICATION_SCHEMA_FILE).catch((failure: unknown) => failure);
    expect(classifyFailure(error)).toEqual({ code: 'schema_incompatible', retriable: false, decision: 'stop' });
  });

  it('a subject configured for another compatibility than ours stops the start', async () => {
    const topic = uniqueName('forward');
    const registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
    const schema = { type: SchemaType.AVRO as const, schema: JSON.stringify({ type: 'record', name: 'Forward', fields: [{ name: 'a', type: 'string' }] }) };
    await registry.register(schema, { subject: `${topic}-value`, compatibility: COMPATIBILITY.FORWARD });
    const error = await registry.register(schema, { subject: `${topic}-value` }).catch((failure: unknown) => failure);
    expect(classifyFailure(error)).toEqual({ code: 'registry_misconfigured', retriable: false, decision: 'stop' });
  });

  it('a socket refused by nobody listening is retried', async () => {
    const port = await freePort();
    const error = await new Promise((resolve) => connect(port, '127.0.0.1').on('error', resolve));
    expect(classifyFailure(error).code).toBe('network_error');
  });
});
