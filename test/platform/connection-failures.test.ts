import { createServer } from 'node:http';
import * as kafkajs from 'kafkajs';
import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSSASLAuthenticationError } from 'kafkajs';
import { CONNECTION_FAILURES, connectionFailure, connectionFailureReason, ConnectionProblem, type ConnectionFailureCode } from '../../platform/connection-failures';
import { createRegistry } from '../../platform/schema-registry';
import { freePort } from '../../scripts/harness/free-port';
import { onCleanup } from '../support/cleanup';

// kafkajs's own table of broker error codes.
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): KafkaJSProtocolError };
/** Exported by kafkajs at run time, though not by its type declarations. */
const { KafkaJSConnectionClosedError } = kafkajs as unknown as Record<string, new (message: string, details: object) => Error>;

/** The error kafkajs's connection makes of a socket error with `code`, as its retrier hands it on once it gave up. */
function socketFailure(code: string | undefined, message: string): Error {
  const failure = new KafkaJSConnectionError(`Connection error: ${message}`, { broker: 'kafka-1.example:9093', code } as object);
  return new KafkaJSNumberOfRetriesExceeded(failure, { retryCount: 0, retryTime: 300 });
}

/** The error the registry client throws when the registry answers `status`. */
async function registryAnswering(status: number): Promise<unknown> {
  const server = createServer((_request, response) => {
    response.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
    response.end(JSON.stringify({ error_code: status * 100, message: `answered ${status}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
  return createRegistry(`http://127.0.0.1:${(server.address() as { port: number }).port}`).getSchema(1).catch((error: unknown) => error);
}

describe('connection failures: one sentence per cause', () => {
  it('pins every code', () => {
    expect(Object.keys(CONNECTION_FAILURES)).toEqual([
      'broker_unauthorized',
      'broker_sasl_not_enabled',
      'broker_expects_sasl',
      'broker_not_authorized',
      'broker_certificate_untrusted',
      'broker_certificate_name_mismatch',
      'broker_certificate_expired',
      'broker_refused_client_certificate',
      'broker_expects_tls',
      'broker_expects_plaintext',
      'registry_unauthorized',
      'registry_certificate_untrusted',
      'registry_certificate_name_mismatch',
      'registry_certificate_expired',
      'registry_expects_tls',
      'registry_expects_plaintext',
    ]);
  });

  it('names, for every cause the operator can fix by configuration, the variable that fixes it', () => {
    const unnamed = Object.entries(CONNECTION_FAILURES).filter(([code, reason]) => !code.endsWith('_expired') && code !== 'broker_not_authorized' && !/\b(KAFKA|SCHEMA_REGISTRY)_[A-Z_]+\b/.test(reason));
    expect(unnamed).toEqual([]);
  });
});

describe('connection failures: what each error is', () => {
  const rows: Array<[string, () => unknown, ConnectionFailureCode]> = [
    ['a refused SASL password', () => Reflect.construct(KafkaJSSASLAuthenticationError, ['SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512']), 'broker_unauthorized'],
    ['a mechanism the broker does not enable', () => Reflect.construct(KafkaJSSASLAuthenticationError, ['SASL SCRAM-SHA-512 mechanism is not supported by the server']), 'broker_unauthorized'],
    ['SASL on a listener without it (ILLEGAL_SASL_STATE)', () => createErrorFromCode(34), 'broker_sasl_not_enabled'],
    ['a topic the user has no ACL for', () => createErrorFromCode(29), 'broker_not_authorized'],
    ['a consumer group the user has no ACL for', () => createErrorFromCode(30), 'broker_not_authorized'],
    ['a cluster operation the user has no ACL for', () => createErrorFromCode(31), 'broker_not_authorized'],
    ['an untrusted chain (SELF_SIGNED_CERT_IN_CHAIN)', () => socketFailure('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'), 'broker_certificate_untrusted'],
    ['a self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)', () => socketFailure('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), 'broker_certificate_untrusted'],
    ['a certificate of an unknown CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE)', () => socketFailure('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'), 'broker_certificate_untrusted'],
    ['a certificate for another name (ERR_TLS_CERT_ALTNAME_INVALID)', () => socketFailure('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"), 'broker_certificate_name_mismatch'],
    ['an expired certificate (CERT_HAS_EXPIRED)', () => socketFailure('CERT_HAS_EXPIRED', 'certificate has expired'), 'broker_certificate_expired'],
    ['a client certificate the broker refused (bad_certificate alert)', () => socketFailure('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'sslv3 alert bad certificate'), 'broker_refused_client_certificate'],
    ['a client certificate the broker does not trust (certificate_unknown alert)', () => socketFailure('ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'sslv3 alert certificate unknown'), 'broker_refused_client_certificate'],
    ['no client certificate for a TLS 1.3 broker that needs one', () => socketFailure('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required'), 'broker_refused_client_certificate'],
    ['a TLS error wrapped by a nested retrier', () => Reflect.construct(KafkaJSNonRetriableError, [socketFailure('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), { cause: socketFailure('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate') }]), 'broker_certificate_untrusted'],
    ['a listener found to speak TLS', () => new ConnectionProblem('broker_expects_tls', '127.0.0.1:9093', { cause: undefined }), 'broker_expects_tls'],
    ['a registry refusing the credentials (401)', () => registryAnswering(401), 'registry_unauthorized'],
    ['a registry denying access (403)', () => registryAnswering(403), 'registry_unauthorized'],
    ['a registry found to speak https', () => new ConnectionProblem('registry_expects_tls', 'http://registry.example', { cause: undefined }), 'registry_expects_tls'],
  ];

  it.each(rows.map(([description, make, code]) => [description, code, make] as const))('%s is %s', async (_description, code, make) => {
    expect(connectionFailure(await make())).toEqual({ code, reason: CONNECTION_FAILURES[code] });
  });

  const notConnectionFailures: Array<[string, () => unknown]> = [
    ['a refused connection (the broker is down)', () => socketFailure('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9093')],
    ['a connection timeout (the broker is starting or far)', () => new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection timeout'), { retryCount: 5, retryTime: 3000 })],
    ['a connection closed unanswered, not diagnosed', () => new KafkaJSConnectionClosedError!('Closed connection', { host: '127.0.0.1', port: 9093 })],
    ['a reset in the TLS handshake, not diagnosed', () => socketFailure('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established')],
    ['a partition without a leader', () => createErrorFromCode(6)],
    ['a message too large', () => createErrorFromCode(10)],
    ['a registry error (500)', () => registryAnswering(500)],
    ['a registry nobody listens for (the client reports 400)', async () => createRegistry(`http://127.0.0.1:${await freePort()}`).getSchema(1).catch((error: unknown) => error)],
    ['a TypeError', () => new TypeError('x is not a function')],
    ['a thrown string', () => 'connection refused'],
    ['nothing', () => undefined],
  ];

  it.each(notConnectionFailures)('%s is none (waiting may fix it)', async (_description, make) => {
    expect(connectionFailure(await make())).toBeUndefined();
  });

  it('has a row above for every code but those only a diagnosis finds', () => {
    const covered = new Set(rows.map(([, , code]) => code));
    expect(Object.keys(CONNECTION_FAILURES).filter((code) => !covered.has(code as ConnectionFailureCode))).toEqual([
      'broker_expects_sasl',
      'broker_expects_plaintext',
      'registry_certificate_untrusted',
      'registry_certificate_name_mismatch',
      'registry_certificate_expired',
      'registry_expects_plaintext',
    ]);
  });
});

describe('connection failures: their sentences', () => {
  it('gives the sentence of a connection failure’s code, and nothing for another code', () => {
    expect(connectionFailureReason('broker_expects_plaintext')).toBe(CONNECTION_FAILURES.broker_expects_plaintext);
    expect(connectionFailureReason('schema_incompatible')).toBeUndefined();
    expect(connectionFailureReason('toString')).toBeUndefined();
  });
});
