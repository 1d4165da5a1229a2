import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup';

export interface KeyPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Certificates made for one test file with openssl, in a directory removed after its tests. */
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

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function testCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'test-certificates-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

  const selfSignedCa = (name: string, subject: string, names?: string): void =>
    openssl('req', '-x509', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', subject, ...(names ? ['-addext', `subjectAltName=${names}`] : []));
  const signed = (name: string, subject: string, names?: string): void => {
    openssl('req', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    if (names) writeFileSync(file(`${name}.ext`), `subjectAltName=${names}\n`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', ...(names ? ['-extfile', `${name}.ext`] : []));
  };
  const pair = (name: string): KeyPair => ({ certFile: file(`${name}.pem`), keyFile: file(`${name}.key`), cert: readFileSync(file(`${name}.pem`)), key: readFileSync(file(`${name}.key`)) });

  selfSignedCa('ca', '/CN=Test CA');
  selfSignedCa('other-ca', '/CN=Other CA');
  selfSignedCa('self-signed', '/CN=localhost', 'DNS:localhost,IP:127.0.0.1');
  signed('server', '/CN=localhost', 'DNS:localhost,IP:127.0.0.1');
  signed('wrong-name', '/CN=other.example', 'DNS:other.example');
  signed('client', '/CN=client');
  openssl('pkcs8', '-topk8', '-in', 'client.key', '-out', 'client-encrypted.key', '-v2', 'aes-256-cbc', '-passout', `pass:${ENCRYPTED_KEY_PASSWORD}`);
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'stray.key');

  return {
    caFile: file('ca.pem'),
    ca: readFileSync(file('ca.pem')),
    otherCaFile: file('other-ca.pem'),
    server: pair('server'),
    wrongName: pair('wrong-name'),
    selfSigned: pair('self-signed'),
    client: pair('client'),
    encryptedClientKeyFile: file('client-encrypted.key'),
    strayKeyFile: file('stray.key'),
  };
}
