import { X509Certificate, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, writeKeystore, writeTruststore } from './certificates';
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

export interface KafkaCertificateOptions {
  /**
   * IP addresses and DNS names the broker certificate is valid for (subjectAltName): what
   * clients and brokers connect to.
   */
  readonly hosts: readonly string[];
  /** The keytool of a JDK, which writes the truststore in a form Java trusts. */
  readonly keytool: string;
  readonly days?: number;
  /** The cluster runs, its brokers holding the set in `dir`: kept even when it is about to expire. */
  readonly inUse?: boolean;
}

/**
 * A kept set this close to its end is made anew at the next start: a cluster's data outlives a
 * stop, and a broker whose certificate expired could not even reach its controller.
 */
export const RENEW_BEFORE_MS = 24 * 60 * 60 * 1000;

/** Whether a certificate of the set in `dir` ends within `withinMs` (or cannot be read). */
function expiring(dir: string, withinMs: number): boolean {
  const { caFile, brokerCertFile, clientCertFile } = certificateFiles(dir);
  return [caFile, brokerCertFile, clientCertFile].some((file) => {
    try {
      return Date.parse(new X509Certificate(readFileSync(file)).validTo) - Date.now() <= withinMs;
    } catch {
      return true;
    }
  });
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

/**
 * Writes the CA, the broker and client certificates and the broker's stores into `dir`, once:
 * they are made in a scratch folder that becomes `dir` only when complete, and a `dir` that
 * exists is kept (a restarted cluster keeps trusting the clients it trusted) until it is about
 * to expire. A set made anew is a new CA: clients read it from the same file at their start.
 */
export function generateKafkaCertificates(dir: string, options: KafkaCertificateOptions): KafkaCertificates {
  const days = options.days ?? 30;
  if (!options.inUse && existsSync(dir) && expiring(dir, RENEW_BEFORE_MS)) rmSync(dir, { recursive: true, force: true });
  cached(dir, (scratch) => {
    chmodSync(scratch, 0o700);
    const files = certificateFiles(scratch);
    const ca = createCertificateAuthority(scratch, 'ca', { commonName: 'trade-webhooks Kafka CA', days });
    // The same certificate serves the brokers' listeners and their own connections to each other.
    const broker = issueCertificate(ca, scratch, 'broker', { uses: ['server', 'client'], hosts: options.hosts, days });
    issueCertificate(ca, scratch, 'client', { uses: ['client'], commonName: 'trade-webhooks-client', days });
    writeFileSync(files.storePasswordFile, randomBytes(18).toString('hex'), { mode: 0o600 });
    writeKeystore(files.keystore, { certificate: broker, ca, alias: 'broker', passwordFile: files.storePasswordFile });
    writeTruststore(files.truststore, { ca, alias: 'trade-webhooks-ca', passwordFile: files.storePasswordFile, keytool: options.keytool });
    // The broker's key lives on in its keystore only; nothing more is ever signed with the CA's.
    rmSync(broker.keyFile);
    rmSync(ca.keyFile);
  });
  return certificateFiles(dir);
}
