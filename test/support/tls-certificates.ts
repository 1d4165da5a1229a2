import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, issueServerCertificate } from '../../scripts/harness/native/certificates';
import { onCleanup } from './cleanup';

export interface KeyPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/**
 * Certificates made for one test file, by the harness's certificate maker where it can, in a
 * directory removed after its tests.
 */
export interface TestCertificates {
  /** The CA that signed `server`, `wrongName` and `client`. */
  readonly caFile: string;
  readonly ca: Buffer;
  /** A CA that signed none of them. */
  readonly otherCaFile: string;
  /** For 127.0.0.1 and localhost. */
  readonly server: KeyPair;
  /** For other.example only. */
  readonly wrongName: KeyPair;
  /** For 127.0.0.1 and localhost, signed by itself. */
  readonly selfSigned: KeyPair;
  readonly client: KeyPair;
  /** `client`'s key, encrypted with ENCRYPTED_KEY_PASSWORD. */
  readonly encryptedClientKeyFile: string;
  /** A key of no certificate here. */
  readonly strayKeyFile: string;
}

export const ENCRYPTED_KEY_PASSWORD = 'key-password-0f1e2d';

const pairOf = ({ certFile, keyFile }: { certFile: string; keyFile: string }): KeyPair => ({ certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) });

function certificatesFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'test-certificates-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A CA of its own and a server certificate it signed for `hosts`, in a folder removed after the
 * file's tests: a second call is a CA the first one's server is unknown to.
 */
export function serverCertificate(name: string, hosts: readonly string[] = ['127.0.0.1', 'localhost']): { readonly caFile: string; readonly ca: Buffer; readonly server: KeyPair } {
  const dir = certificatesFolder();
  const ca = createCertificateAuthority(dir, `${name}-ca`);
  return { caFile: ca.certFile, ca: readFileSync(ca.certFile), server: pairOf(issueServerCertificate(ca, dir, 'server', hosts)) };
}

export function testCertificates(): TestCertificates {
  const dir = certificatesFolder();
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

  const ca = createCertificateAuthority(dir, 'ca', { commonName: 'Test CA' });
  const otherCa = createCertificateAuthority(dir, 'other-ca', { commonName: 'Other CA' });
  const server = issueServerCertificate(ca, dir, 'server', ['localhost', '127.0.0.1']);
  const wrongName = issueServerCertificate(ca, dir, 'wrong-name', ['other.example']);
  const client = issueCertificate(ca, dir, 'client', { uses: ['client'], commonName: 'client' });
  // What the harness's maker never makes, on purpose: a server certificate signed by its own key,
  // the client key encrypted, and a key of no certificate.
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'self-signed.key', '-out', 'self-signed.pem', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  openssl('pkcs8', '-topk8', '-in', 'client.key', '-out', 'client-encrypted.key', '-v2', 'aes-256-cbc', '-passout', `pass:${ENCRYPTED_KEY_PASSWORD}`);
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'stray.key');

  return {
    caFile: ca.certFile,
    ca: readFileSync(ca.certFile),
    otherCaFile: otherCa.certFile,
    server: pairOf(server),
    wrongName: pairOf(wrongName),
    selfSigned: pairOf({ certFile: file('self-signed.pem'), keyFile: file('self-signed.key') }),
    client: pairOf(client),
    encryptedClientKeyFile: file('client-encrypted.key'),
    strayKeyFile: file('stray.key'),
  };
}
