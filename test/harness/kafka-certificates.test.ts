import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RENEW_BEFORE_MS, generateKafkaCertificates, type KafkaCertificates } from '../../scripts/harness/native/kafka-certificates';
import { findJava, keytoolOf } from '../../scripts/harness/native/java';

const workDir = mkdtempSync(join(tmpdir(), 'kafka-certificates-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const keytool = keytoolOf(findJava(17).path);
const options = { hosts: ['localhost', '127.0.0.1'], keytool };
let certificates: KafkaCertificates;
let otherRun: KafkaCertificates;

beforeAll(() => {
  certificates = generateKafkaCertificates(join(workDir, 'run'), options);
  otherRun = generateKafkaCertificates(join(workDir, 'other-run'), options);
});

/** `openssl verify`'s verdict: an independent check of the chain, not the code that made it. */
function opensslVerifies(caFile: string, certFile: string): boolean {
  return spawnSync('openssl', ['verify', '-CAfile', caFile, certFile], { encoding: 'utf8' }).status === 0;
}

function certificate(file: string): X509Certificate {
  return new X509Certificate(readFileSync(file));
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

describe('the certificates of a secured Kafka run', () => {
  it('the broker certificate verifies against the run\'s CA', () => {
    expect(opensslVerifies(certificates.caFile, certificates.brokerCertFile)).toBe(true);
  });

  it('the client certificate verifies against the run\'s CA', () => {
    expect(opensslVerifies(certificates.caFile, certificates.clientCertFile)).toBe(true);
  });

  it('a certificate of another run does not verify against this run\'s CA', () => {
    expect(opensslVerifies(certificates.caFile, otherRun.brokerCertFile)).toBe(false);
    expect(opensslVerifies(certificates.caFile, otherRun.clientCertFile)).toBe(false);
  });

  it('the broker certificate names localhost and 127.0.0.1, and nothing else', () => {
    const broker = certificate(certificates.brokerCertFile);
    expect(broker.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(broker.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(broker.checkHost('localhost')).toBe('localhost');
    expect(broker.checkHost('example.com')).toBeUndefined();
  });

  it('the broker certificate serves TLS and authenticates brokers to each other; the client one authenticates clients only; the CA alone signs', () => {
    expect(certificate(certificates.brokerCertFile).keyUsage).toEqual(expect.arrayContaining([SERVER_AUTH, CLIENT_AUTH]));
    expect(certificate(certificates.clientCertFile).keyUsage).toEqual([CLIENT_AUTH]);
    expect(certificate(certificates.caFile).ca).toBe(true);
    expect(certificate(certificates.brokerCertFile).ca).toBe(false);
    expect(certificate(certificates.clientCertFile).ca).toBe(false);
  });

  it('the keystore holds the broker key with its chain, and the truststore the CA as trusted', () => {
    const password = `file:${certificates.storePasswordFile}`;
    const keystore = execFileSync('openssl', ['pkcs12', '-in', certificates.keystore, '-passin', password, '-nodes'], { encoding: 'utf8' });
    expect(keystore).toContain('PRIVATE KEY');
    const chain = [...keystore.matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)].map(([pem]) => new X509Certificate(pem).fingerprint256);
    expect(chain.sort()).toEqual([certificate(certificates.brokerCertFile).fingerprint256, certificate(certificates.caFile).fingerprint256].sort());
    const truststore = execFileSync(keytool, ['-list', '-keystore', certificates.truststore, '-storetype', 'PKCS12', '-storepass:file', certificates.storePasswordFile], { encoding: 'utf8' });
    expect(truststore).toMatch(/trade-webhooks-ca, .*trustedCertEntry/);
    expect(truststore).toContain(certificate(certificates.caFile).fingerprint256);
  });

  it('keys and passwords are readable by their owner only, and no CA or broker key is left as a file', () => {
    for (const file of [certificates.clientKeyFile, certificates.storePasswordFile, certificates.keystore]) {
      expect(statSync(file).mode & 0o077).toBe(0);
    }
    expect(() => statSync(join(workDir, 'run', 'ca.key'))).toThrow();
    expect(() => statSync(join(workDir, 'run', 'broker.key'))).toThrow();
  });

  it('a second call keeps the certificates it made: a restarted cluster trusts the same clients', () => {
    const again = generateKafkaCertificates(join(workDir, 'run'), options);
    expect(readFileSync(again.caFile, 'utf8')).toBe(readFileSync(certificates.caFile, 'utf8'));
    expect(readFileSync(again.clientCertFile, 'utf8')).toBe(readFileSync(certificates.clientCertFile, 'utf8'));
  });

  it('a kept set about to expire is made anew, a new CA included, unless its cluster runs', () => {
    const dir = join(workDir, 'expiring');
    const first = readFileSync(generateKafkaCertificates(dir, { ...options, days: 1 }).caFile, 'utf8');
    expect(readFileSync(generateKafkaCertificates(dir, { ...options, inUse: true }).caFile, 'utf8')).toBe(first);
    const renewed = generateKafkaCertificates(dir, options);
    expect(readFileSync(renewed.caFile, 'utf8')).not.toBe(first);
    expect(Date.parse(certificate(renewed.brokerCertFile).validTo) - Date.now()).toBeGreaterThan(RENEW_BEFORE_MS);
    expect(opensslVerifies(renewed.caFile, renewed.clientCertFile)).toBe(true);
  });
});
