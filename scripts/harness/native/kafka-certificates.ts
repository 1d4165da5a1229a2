import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cached } from './maven';

/**
 * The TLS material of a secured cluster, made for the run: a CA of its own, one broker
 * certificate every node presents (to clients, to each other and to the controller), and a
 * client certificate for mutual TLS. Brokers read PKCS12 stores; clients read PEM.
 */
export interface KafkaCertificates {
  /** The CA certificate (PEM): what clients trust. */
  readonly caFile: string;
  /** The broker certificate (PEM), also inside `keystore`. */
  readonly brokerCertFile: string;
  /** PKCS12: the broker key and its chain. */
  readonly keystore: string;
  /** PKCS12: the CA, as a trusted certificate. */
  readonly truststore: string;
  /** The stores' password, in a file the broker properties are written from. */
  readonly storePasswordFile: string;
  /** The client certificate and its unencrypted key (PEM), signed by the CA. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

export interface CertificateOptions {
  /** Names the broker certificate is valid for (subjectAltName): what clients and brokers connect to. */
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** The keytool of a JDK, which writes the truststore in a form Java trusts. */
  readonly keytool: string;
  readonly days?: number;
}

/** The files `generateKafkaCertificates` writes into its folder. */
export function certificateFiles(dir: string): KafkaCertificates {
  return {
    caFile: join(dir, 'ca.pem'),
    brokerCertFile: join(dir, 'broker.pem'),
    keystore: join(dir, 'broker.p12'),
    truststore: join(dir, 'truststore.p12'),
    storePasswordFile: join(dir, 'store.password'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
  };
}

/** An OpenSSL request configuration: the subject and the extensions of one certificate. */
function requestConfig(commonName: string, extensions: Record<string, string>): string {
  const lines = Object.entries(extensions).map(([name, value]) => `${name} = ${value}`);
  return ['[req]', 'distinguished_name = dn', 'x509_extensions = ext', 'prompt = no', '[dn]', `CN = ${commonName}`, '[ext]', ...lines, ''].join('\n');
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const { code, stderr } = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (code === 'ENOENT') throw new Error('Generating the Kafka certificates needs openssl on PATH.');
    throw new Error(`openssl ${args[0]} failed: ${stderr?.toString().trim()}`);
  }
}

/**
 * A key (EC P-256: fast to make, accepted by Java and Node alike) and a certificate for it,
 * self-signed, or signed by the CA in `dir` when `signed`.
 */
function certificate(dir: string, name: string, commonName: string, extensions: Record<string, string>, days: number, signed: boolean): void {
  const config = join(dir, `${name}.cnf`);
  writeFileSync(config, requestConfig(commonName, extensions));
  openssl([
    'req', '-x509', '-config', config,
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`), '-days', String(days),
    ...(signed ? ['-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key')] : []),
  ]);
  rmSync(config);
  chmodSync(join(dir, `${name}.key`), 0o600);
}

/**
 * Writes the CA, the broker and client certificates and the broker's stores into `dir`, once:
 * they are made in a scratch folder that becomes `dir` only when complete, and a `dir` that
 * exists is kept (a restarted cluster keeps trusting the clients it trusted).
 */
export function generateKafkaCertificates(dir: string, options: CertificateOptions): KafkaCertificates {
  const days = options.days ?? 30;
  cached(dir, (scratch) => {
    chmodSync(scratch, 0o700);
    const files = certificateFiles(scratch);
    certificate(scratch, 'ca', 'trade-webhooks Kafka CA', {
      basicConstraints: 'critical,CA:TRUE',
      keyUsage: 'critical,keyCertSign,cRLSign',
      subjectKeyIdentifier: 'hash',
    }, days, false);
    const altNames = [...options.dnsNames.map((name) => `DNS:${name}`), ...options.ipAddresses.map((address) => `IP:${address}`)];
    certificate(scratch, 'broker', options.dnsNames[0] ?? options.ipAddresses[0]!, {
      basicConstraints: 'critical,CA:FALSE',
      keyUsage: 'critical,digitalSignature',
      // The same certificate serves the brokers' listeners and their own connections to each other.
      extendedKeyUsage: 'serverAuth,clientAuth',
      subjectAltName: altNames.join(','),
      subjectKeyIdentifier: 'hash',
      authorityKeyIdentifier: 'keyid',
    }, days, true);
    certificate(scratch, 'client', 'trade-webhooks-client', {
      basicConstraints: 'critical,CA:FALSE',
      keyUsage: 'critical,digitalSignature',
      extendedKeyUsage: 'clientAuth',
      subjectKeyIdentifier: 'hash',
      authorityKeyIdentifier: 'keyid',
    }, days, true);
    // Never on a command line: other users of the machine can read those.
    writeFileSync(files.storePasswordFile, randomBytes(18).toString('hex'), { mode: 0o600 });
    openssl([
      'pkcs12', '-export', '-in', files.brokerCertFile, '-inkey', join(scratch, 'broker.key'), '-certfile', files.caFile,
      '-name', 'broker', '-out', files.keystore, '-passout', `file:${files.storePasswordFile}`,
    ]);
    // keytool, not openssl: OpenSSL 3.0 cannot mark a PKCS12 certificate as trusted for Java.
    execFileSync(options.keytool, [
      '-importcert', '-noprompt', '-alias', 'trade-webhooks-ca', '-file', files.caFile,
      '-keystore', files.truststore, '-storetype', 'PKCS12', '-storepass:file', files.storePasswordFile,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    // The broker's key lives on in its keystore only; nothing more is ever signed with the CA's.
    rmSync(join(scratch, 'broker.key'));
    rmSync(join(scratch, 'ca.key'));
  });
  return certificateFiles(dir);
}

/** The keytool beside a JDK's java. */
export function keytoolOf(javaPath: string): string {
  return join(dirname(javaPath), 'keytool');
}
