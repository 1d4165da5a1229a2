import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueServerCertificate } from '../../scripts/harness/native/certificates';
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

const pem = (file: string): Pem => ({ pem: readFileSync(file, 'utf8'), file });

/**
 * A CA and a certificate it signed for a server named by `hosts` (127.0.0.1 and localhost
 * unless given), in a folder deleted after the file's tests. Each call makes a CA of its own,
 * so a second call is a CA the first one's server is unknown to.
 */
export function testCertificates(name = 'trade-webhooks-tests', hosts: readonly string[] = ['127.0.0.1', 'localhost']): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'trade-webhooks-certs-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const ca = createCertificateAuthority(dir, `${name}-ca`);
  const server = issueServerCertificate(ca, dir, 'server', hosts);
  return { ca: pem(ca.certFile), server: { cert: pem(server.certFile), key: pem(server.keyFile) } };
}
