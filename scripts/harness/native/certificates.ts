import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';

/**
 * The harness's one certificate maker: a CA made for a run, the server and client certificates
 * it signs, and the PKCS12 stores a Java server reads them from. Everything is made with
 * openssl (keytool for a truststore), so no certificate is ever checked in.
 */

/** A certificate authority made for one run: its certificate (PEM) and key, as files. */
export interface CertificateAuthority {
  readonly certFile: string;
  readonly keyFile: string;
}

/** A certificate and its unencrypted private key (PEM files) issued by a run's own authority. */
export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

/** What a certificate may authenticate (extendedKeyUsage): a TLS server, a TLS client, or both. */
export type CertificateUse = 'server' | 'client';

export interface IssueOptions {
  readonly uses: readonly CertificateUse[];
  /**
   * IP addresses and DNS names it is valid for, as subjectAltName entries: TLS clients check the
   * host they connect to against those, not the CN. A server certificate needs at least one.
   */
  readonly hosts?: readonly string[];
  /** Default: the first host, else the certificate's file name. */
  readonly commonName?: string;
  readonly days?: number;
}

// Two days unless asked: long enough for any test run, short enough that a leaked test key is worthless soon after.
const DEFAULT_DAYS = 2;

const EXTENDED_KEY_USAGE: Readonly<Record<CertificateUse, string>> = { server: 'serverAuth', client: 'clientAuth' };

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const { code, stderr } = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (code === 'ENOENT') throw new Error('Making certificates needs openssl on PATH.');
    throw new Error(`openssl ${args[0]} failed: ${stderr?.toString().trim()}`);
  }
}

/**
 * An OpenSSL request configuration of its own, so neither the subject nor the extensions depend
 * on the machine's openssl.cnf.
 */
function requestConfig(commonName: string, extensions: Readonly<Record<string, string>>): string {
  const lines = Object.entries(extensions).map(([name, value]) => `${name} = ${value}`);
  return ['[req]', 'distinguished_name = dn', 'x509_extensions = ext', 'prompt = no', '[dn]', `CN = ${commonName}`, '[ext]', ...lines, ''].join('\n');
}

/** A random positive serial: certificates of one CA must not share one, and no serial file is kept. */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

// EC P-256: fast to make, accepted by Node, Java and PostgreSQL alike.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Servers refuse a key that others can read (PostgreSQL does), and it is a credential. */
function ownerOnly(keyFile: string): void {
  chmodSync(keyFile, 0o600);
}

/** A self-signed CA in `dir` as `<name>.pem` and `<name>.key`. */
export function createCertificateAuthority(dir: string, name: string, options: { commonName?: string; days?: number } = {}): CertificateAuthority {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  const config = join(dir, `${name}.cnf`);
  writeFileSync(
    config,
    requestConfig(options.commonName ?? name, {
      basicConstraints: 'critical,CA:TRUE',
      keyUsage: 'critical,keyCertSign,cRLSign',
      subjectKeyIdentifier: 'hash',
    }),
  );
  try {
    openssl(['req', '-x509', '-config', config, ...NEW_KEY, '-keyout', keyFile, '-out', certFile, '-days', String(options.days ?? DEFAULT_DAYS)], dir);
  } finally {
    rmSync(config, { force: true });
  }
  ownerOnly(keyFile);
  return { certFile, keyFile };
}

/** A certificate signed by `ca`, in `dir` as `<name>.pem` and `<name>.key`, for `options.uses`. */
export function issueCertificate(ca: CertificateAuthority, dir: string, name: string, options: IssueOptions): IssuedCertificate {
  const hosts = options.hosts ?? [];
  if (options.uses.length === 0) throw new RangeError(`certificate ${name}: say what it is for (server, client)`);
  if (options.uses.includes('server') && hosts.length === 0) throw new RangeError(`server certificate ${name}: name the hosts it serves`);
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  const config = join(dir, `${name}.cnf`);
  const requestFile = join(dir, `${name}.csr`);
  const extensionsFile = join(dir, `${name}.ext`);
  const extensions: Record<string, string> = {
    basicConstraints: 'critical,CA:FALSE',
    keyUsage: 'critical,digitalSignature',
    extendedKeyUsage: options.uses.map((use) => EXTENDED_KEY_USAGE[use]).join(','),
    ...(hosts.length > 0 && { subjectAltName: hosts.map((host) => (isIP(host) ? `IP:${host}` : `DNS:${host}`)).join(',') }),
    subjectKeyIdentifier: 'hash',
    authorityKeyIdentifier: 'keyid',
  };
  writeFileSync(config, requestConfig(options.commonName ?? hosts[0] ?? name, {}));
  writeFileSync(extensionsFile, Object.entries(extensions).map(([extension, value]) => `${extension} = ${value}\n`).join(''));
  try {
    openssl(['req', '-new', '-config', config, ...NEW_KEY, '-keyout', keyFile, '-out', requestFile], dir);
    openssl(
      ['x509', '-req', '-in', requestFile, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', serial(), '-out', certFile, '-days', String(options.days ?? DEFAULT_DAYS), '-extfile', extensionsFile],
      dir,
    );
  } finally {
    for (const file of [config, requestFile, extensionsFile]) rmSync(file, { force: true });
  }
  ownerOnly(keyFile);
  return { certFile, keyFile };
}

/** A certificate for a TLS server named by `hosts` (IP addresses and DNS names). */
export function issueServerCertificate(ca: CertificateAuthority, dir: string, name: string, hosts: readonly string[]): IssuedCertificate {
  return issueCertificate(ca, dir, name, { uses: ['server'], hosts });
}

/**
 * A PKCS12 keystore at `file`: `certificate`'s key under `alias`, with the chain up to `ca`,
 * locked with the password in `passwordFile` (never on a command line: other users of the
 * machine can read those).
 */
export function writeKeystore(file: string, options: { certificate: IssuedCertificate; ca: CertificateAuthority; alias: string; passwordFile: string }): void {
  const { certificate, ca, alias, passwordFile } = options;
  openssl(['pkcs12', '-export', '-in', certificate.certFile, '-inkey', certificate.keyFile, '-certfile', ca.certFile, '-name', alias, '-out', file, '-passout', `file:${passwordFile}`], dirname(file));
  ownerOnly(file);
}

/**
 * A PKCS12 truststore at `file` holding `ca` as a trusted certificate under `alias`. keytool,
 * not openssl: OpenSSL 3.0 cannot mark a PKCS12 certificate as trusted for Java.
 */
export function writeTruststore(file: string, options: { ca: CertificateAuthority; alias: string; passwordFile: string; keytool: string }): void {
  const { ca, alias, passwordFile, keytool } = options;
  try {
    execFileSync(keytool, ['-importcert', '-noprompt', '-alias', alias, '-file', ca.certFile, '-keystore', file, '-storetype', 'PKCS12', '-storepass:file', passwordFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    const { stderr } = error as { stderr?: Buffer };
    throw new Error(`keytool -importcert failed: ${stderr?.toString().trim() || (error as Error).message}`);
  }
}
