import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKafkaConnection, type KafkaConnection } from '../../platform/kafka-connection';
import { fileHolding, readingWith } from '../support/environment';
import { ENCRYPTED_KEY_PASSWORD, testCertificates } from '../support/tls-certificates';

/** A value that looks like a password; no problem may print it. */
const SECRET = 'S3cr3t-Kafka+Password/0123456789=';

const certificates = testCertificates();

const reading = (env: NodeJS.ProcessEnv) => readingWith(env, readKafkaConnection);

const missing = join(tmpdir(), `missing-${process.pid}`, 'ca.pem');

describe('Kafka connection settings: what is read', () => {
  it.each<[string, NodeJS.ProcessEnv, KafkaConnection]>([
    ['nothing set: the local plaintext broker', {}, { brokers: ['127.0.0.1:9092'] }],
    ['KAFKA_SSL=true: TLS with Node’s CAs, names checked', { KAFKA_BROKERS: 'kafka-1.example:9093,kafka-2.example:9093', KAFKA_SSL: 'true' }, { brokers: ['kafka-1.example:9093', 'kafka-2.example:9093'], ssl: { rejectUnauthorized: true } }],
    ['KAFKA_SSL_CA_FILE alone: TLS trusting that CA', { KAFKA_SSL_CA_FILE: certificates.caFile }, { brokers: ['127.0.0.1:9092'], ssl: { rejectUnauthorized: true, ca: certificates.ca } }],
    [
      'a client certificate and key: mutual TLS',
      { KAFKA_SSL_CA_FILE: certificates.caFile, KAFKA_SSL_CERT_FILE: certificates.client.certFile, KAFKA_SSL_KEY_FILE: certificates.client.keyFile },
      { brokers: ['127.0.0.1:9092'], ssl: { rejectUnauthorized: true, ca: certificates.ca, cert: certificates.client.cert, key: certificates.client.key } },
    ],
    ['SASL PLAIN', { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: SECRET }, { brokers: ['127.0.0.1:9092'], sasl: { mechanism: 'plain', username: 'alice', password: SECRET } }],
    [
      'SCRAM-SHA-512 over TLS, the mechanism in capitals',
      { KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: SECRET },
      { brokers: ['127.0.0.1:9092'], ssl: { rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512', username: 'alice', password: SECRET } },
    ],
    [
      'SCRAM-SHA-256 with the password from KAFKA_SASL_PASSWORD_FILE',
      { KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD_FILE: fileHolding(`${SECRET}\n`) },
      { brokers: ['127.0.0.1:9092'], sasl: { mechanism: 'scram-sha-256', username: 'alice', password: SECRET } },
    ],
  ])('%s', (_name, env, expected) => {
    const { connection, problems } = reading(env);
    expect(problems).toEqual([]);
    expect(connection).toEqual(expected);
    expect(Object.isFrozen(connection)).toBe(true);
  });

  it.each([
    ['KAFKA_SSL_KEY_PASSWORD', (password: string) => ({ KAFKA_SSL_KEY_PASSWORD: password })],
    ['KAFKA_SSL_KEY_PASSWORD_FILE', (password: string) => ({ KAFKA_SSL_KEY_PASSWORD_FILE: fileHolding(`${password}\n`) })],
  ])('decrypts an encrypted client key with %s', (_name, password) => {
    const { connection, problems } = reading({ KAFKA_SSL_CERT_FILE: certificates.client.certFile, KAFKA_SSL_KEY_FILE: certificates.encryptedClientKeyFile, ...password(ENCRYPTED_KEY_PASSWORD) });
    expect(problems).toEqual([]);
    expect(connection.ssl).toEqual(expect.objectContaining({ cert: certificates.client.cert, passphrase: ENCRYPTED_KEY_PASSWORD, rejectUnauthorized: true }));
  });
});

describe('Kafka connection settings: problems', () => {
  it('lists every problem at once', () => {
    const { problems } = reading({
      KAFKA_BROKERS: 'kafka',
      KAFKA_SSL: 'maybe',
      KAFKA_SSL_CA_FILE: missing,
      KAFKA_SSL_CERT_FILE: certificates.client.certFile,
      KAFKA_SSL_KEY_PASSWORD: SECRET,
      KAFKA_SASL_MECHANISM: 'gssapi',
      KAFKA_SASL_PASSWORD: SECRET,
    });
    expect(problems).toEqual([
      'KAFKA_BROKERS must list one or more brokers as host:port (a hostname or an IPv4 address, a port from 1 to 65535), separated by commas',
      'KAFKA_SSL must be true or false',
      `KAFKA_SSL_CA_FILE names ${missing}, which cannot be read (ENOENT)`,
      'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (a client certificate and its key, for mutual TLS): set both or neither',
      'KAFKA_SSL_KEY_PASSWORD is set, but KAFKA_SSL_KEY_FILE is not: it decrypts that key',
      'KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512',
      'KAFKA_SASL_USERNAME must be set when KAFKA_SASL_MECHANISM is',
    ]);
  });

  it.each<[string, NodeJS.ProcessEnv, string[]]>([
    [
      'a mechanism without credentials',
      { KAFKA_SASL_MECHANISM: 'scram-sha-512' },
      ['KAFKA_SASL_USERNAME must be set when KAFKA_SASL_MECHANISM is', 'KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE) must be set and not empty when KAFKA_SASL_MECHANISM is'],
    ],
    [
      'a mechanism with an empty password file',
      { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD_FILE: fileHolding('\n') },
      ['KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE) must be set and not empty when KAFKA_SASL_MECHANISM is'],
    ],
    [
      'credentials without a mechanism',
      { KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: SECRET },
      ['KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are set, but KAFKA_SASL_MECHANISM is not: set it to one of plain, scram-sha-256, scram-sha-512'],
    ],
    [
      'the password and its file both set',
      { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: SECRET, KAFKA_SASL_PASSWORD_FILE: fileHolding(SECRET) },
      ['KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set: set one of them'],
    ],
    [
      'a password file that cannot be read',
      { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD_FILE: missing },
      [`KAFKA_SASL_PASSWORD_FILE names ${missing}, which cannot be read (ENOENT)`],
    ],
    ['KAFKA_SSL=false beside a CA file', { KAFKA_SSL: 'false', KAFKA_SSL_CA_FILE: certificates.caFile }, ['KAFKA_SSL is false, but KAFKA_SSL_CA_FILE is set: set KAFKA_SSL=true or unset them']],
    ['a key without its certificate', { KAFKA_SSL_KEY_FILE: certificates.client.keyFile }, ['KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (a client certificate and its key, for mutual TLS): set both or neither']],
    ['a CA file with no certificate in it', { KAFKA_SSL_CA_FILE: certificates.client.keyFile }, [`KAFKA_SSL_CA_FILE (${certificates.client.keyFile}) holds no PEM certificate (-----BEGIN CERTIFICATE-----)`]],
    [
      'a CA file with a broken certificate after a good one',
      { KAFKA_SSL_CA_FILE: fileHolding(`${certificates.ca.toString()}-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n`) },
      [expect.stringMatching(/^KAFKA_SSL_CA_FILE \(.+\): certificate 2 of 2 is not a valid X\.509 certificate$/) as unknown as string],
    ],
    [
      'a key that is not the certificate’s',
      { KAFKA_SSL_CERT_FILE: certificates.client.certFile, KAFKA_SSL_KEY_FILE: certificates.strayKeyFile },
      [`KAFKA_SSL_KEY_FILE (${certificates.strayKeyFile}) is not the private key of the certificate in KAFKA_SSL_CERT_FILE (${certificates.client.certFile})`],
    ],
    [
      'an encrypted key without its password',
      { KAFKA_SSL_CERT_FILE: certificates.client.certFile, KAFKA_SSL_KEY_FILE: certificates.encryptedClientKeyFile },
      [`KAFKA_SSL_KEY_FILE (${certificates.encryptedClientKeyFile}) is encrypted: set KAFKA_SSL_KEY_PASSWORD (or KAFKA_SSL_KEY_PASSWORD_FILE)`],
    ],
    [
      'an encrypted key with the wrong password',
      { KAFKA_SSL_CERT_FILE: certificates.client.certFile, KAFKA_SSL_KEY_FILE: certificates.encryptedClientKeyFile, KAFKA_SSL_KEY_PASSWORD: SECRET },
      // OpenSSL's reason (ERR_OSSL_BAD_DECRYPT here) is its own to word.
      [expect.stringMatching(/^KAFKA_SSL_KEY_FILE \(.+\/client-encrypted\.key\) cannot be decrypted with KAFKA_SSL_KEY_PASSWORD \(OpenSSL: ERR_OSSL_[A-Z_]+\)$/) as unknown as string],
    ],
    [
      'a certificate file that is not PEM',
      { KAFKA_SSL_CERT_FILE: fileHolding(SECRET), KAFKA_SSL_KEY_FILE: certificates.client.keyFile },
      [expect.stringMatching(/^KAFKA_SSL_CERT_FILE \(.+\) and KAFKA_SSL_KEY_FILE \(.+\) must hold a PEM certificate and its PEM private key \(OpenSSL: ERR_OSSL_\w+\)$/) as unknown as string],
    ],
  ])('refuses %s, and never prints a secret', (_name, env, expected) => {
    const { problems } = reading(env);
    expect(problems).toEqual(expected);
    expect(problems.join('\n')).not.toContain(SECRET);
    expect(problems.join('\n')).not.toContain(certificates.client.key.toString().split('\n')[1]);
  });
});
