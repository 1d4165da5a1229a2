import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, issueServerCertificate, type CertificateAuthority } from '../../../scripts/harness/native/certificates';

const dir = mkdtempSync(join(tmpdir(), 'certificates-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let ca: CertificateAuthority;
let otherCa: CertificateAuthority;

beforeAll(() => {
  ca = createCertificateAuthority(dir, 'run-ca');
  otherCa = createCertificateAuthority(dir, 'other-ca', { commonName: 'Another CA' });
});

/** `openssl verify`'s verdict: a check of the chain by other code than the one that made it. */
function verifies(caFile: string, certFile: string): boolean {
  return spawnSync('openssl', ['verify', '-CAfile', caFile, certFile], { encoding: 'utf8' }).status === 0;
}

const certificate = (file: string): X509Certificate => new X509Certificate(readFileSync(file));

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

describe('the harness certificate maker', () => {
  it('a server certificate names its hosts, serves TLS only, and verifies against its CA and no other', () => {
    const server = issueServerCertificate(ca, dir, 'server', ['127.0.0.1', 'db.internal']);
    const x509 = certificate(server.certFile);
    expect(x509.subjectAltName).toBe('IP Address:127.0.0.1, DNS:db.internal');
    expect(x509.subject).toBe('CN=127.0.0.1');
    expect(x509.keyUsage).toEqual([SERVER_AUTH]);
    expect(x509.ca).toBe(false);
    expect(x509.checkIssued(certificate(ca.certFile))).toBe(true);
    expect(verifies(ca.certFile, server.certFile)).toBe(true);
    expect(verifies(otherCa.certFile, server.certFile)).toBe(false);
  });

  it('a client certificate authenticates clients only and names no host', () => {
    const client = issueCertificate(ca, dir, 'client', { uses: ['client'], commonName: 'trade-webhooks-client' });
    const x509 = certificate(client.certFile);
    expect(x509.subject).toBe('CN=trade-webhooks-client');
    expect(x509.keyUsage).toEqual([CLIENT_AUTH]);
    expect(x509.subjectAltName).toBeUndefined();
    expect(verifies(ca.certFile, client.certFile)).toBe(true);
  });

  it('the CA signs, with the name and lifetime asked for', () => {
    const x509 = certificate(otherCa.certFile);
    expect(x509.ca).toBe(true);
    expect(x509.subject).toBe('CN=Another CA');
    const lifetimeDays = (Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / 86_400_000;
    expect(lifetimeDays).toBe(2);
  });

  it('refuses a server certificate that names no host, and one for nothing', () => {
    expect(() => issueCertificate(ca, dir, 'nameless', { uses: ['server'] })).toThrow(RangeError);
    expect(() => issueCertificate(ca, dir, 'useless', { uses: [] })).toThrow(RangeError);
  });

  it('certificates of one CA have serials of their own', () => {
    const first = issueServerCertificate(ca, dir, 'first', ['localhost']);
    const second = issueServerCertificate(ca, dir, 'second', ['localhost']);
    expect(certificate(first.certFile).serialNumber).not.toBe(certificate(second.certFile).serialNumber);
  });

  it('keys are readable by their owner only, and only certificates and keys are left', () => {
    const keys = readdirSync(dir).filter((file) => file.endsWith('.key'));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(statSync(join(dir, key)).mode & 0o077).toBe(0);
    expect(readdirSync(dir).filter((file) => !/\.(pem|key)$/.test(file))).toEqual([]);
  });
});
