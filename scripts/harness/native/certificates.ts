import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

/** A certificate authority made for one run: its certificate (PEM) and key, as files. */
export interface CertificateAuthority {
  readonly certFile: string;
  readonly keyFile: string;
}

/** A certificate and its private key (PEM files) issued by a run's own authority. */
export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

// Two days: long enough for any run, short enough that a leaked test key is worthless soon after.
const DAYS = '2';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed CA in `dir` as `<name>.pem` and `<name>.key` (P-256: fast to make, accepted everywhere). */
export function createCertificateAuthority(dir: string, name: string): CertificateAuthority {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  openssl(
    [
      'req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-keyout', keyFile, '-out', certFile, '-days', DAYS, '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return { certFile, keyFile };
}

/**
 * A server certificate in `dir` for every name in `hosts` (IP addresses and DNS names, as
 * subjectAltName entries: TLS clients check the host name against those, not the CN).
 */
export function issueServerCertificate(ca: CertificateAuthority, dir: string, name: string, hosts: readonly string[]): IssuedCertificate {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  const requestFile = join(dir, `${name}.csr`);
  const extensionsFile = join(dir, `${name}.ext`);
  const altNames = hosts.map((host) => (isIP(host) ? `IP:${host}` : `DNS:${host}`)).join(',');
  writeFileSync(extensionsFile, [`subjectAltName=${altNames}`, 'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', ''].join('\n'));
  openssl(['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', keyFile, '-out', requestFile, '-subj', `/CN=${hosts[0] ?? name}`], dir);
  openssl(
    ['x509', '-req', '-in', requestFile, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-out', certFile, '-days', DAYS, '-extfile', extensionsFile],
    dir,
  );
  return { certFile, keyFile };
}
