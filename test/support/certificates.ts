import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup';

/** PEM text, and the file that holds it for clients that take a path. */
export interface Pem {
  readonly pem: string;
  readonly file: string;
}

/** A certificate authority made for one test file, and a server certificate it signed. */
export interface TestCertificates {
  readonly ca: Pem;
  readonly server: { readonly cert: Pem; readonly key: Pem };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function pem(dir: string, name: string): Pem {
  const file = join(dir, name);
  return { pem: readFileSync(file, 'utf8'), file };
}

/**
 * A CA and a certificate it signed for a server named `serverNames` (subjectAltName entries;
 * 127.0.0.1 and localhost unless given), made with openssl (P-256 keys, valid for a day) in a
 * folder deleted after the file's tests. Each call makes a CA of its own, so a second call is a
 * CA the first one's server is unknown to.
 */
export function testCertificates(name = 'trade-webhooks tests', serverNames: readonly string[] = ['IP:127.0.0.1', 'DNS:localhost']): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'trade-webhooks-certs-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, ['req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', `/CN=${name} CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(dir, ['req', ...key, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=${serverNames.join(',')}\nextendedKeyUsage=serverAuth\n`);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'server.ext']);
  return { ca: pem(dir, 'ca.pem'), server: { cert: pem(dir, 'server.pem'), key: pem(dir, 'server.key') } };
}
