import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { NamedFile } from './environment';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Why a CA bundle cannot be used, or undefined when it can. Node takes a `ca` without a single
 * certificate in it without complaint, and then trusts nothing: every broker would be refused
 * as untrusted, far from the mistake.
 */
export function caBundleProblem(variable: string, file: NamedFile): string | undefined {
  const blocks = file.content.toString('utf8').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return `${variable} (${file.path}) holds no PEM certificate (-----BEGIN CERTIFICATE-----)`;
  const unreadable = blocks.findIndex((block) => {
    try {
      new X509Certificate(block);
      return false;
    } catch {
      return true;
    }
  });
  return unreadable === -1 ? undefined : `${variable} (${file.path}): certificate ${unreadable + 1} of ${blocks.length} is not a valid X.509 certificate`;
}

/** PKCS#8's encrypted form, and the older PEM encryption header of PKCS#1 and SEC1 keys. */
const ENCRYPTED_KEY = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/;

/**
 * Why a client certificate and its key cannot be used, or undefined when they can: the key is
 * encrypted and no password was given, cannot be decrypted with it, is not the certificate's,
 * or either is not PEM. Found by building the TLS context the connections will use, once at
 * start, so the mistake is a configuration problem and not a connection error on every attempt.
 * OpenSSL's reason code is given, never the files' text.
 */
export function keyPairProblem(names: { cert: string; key: string; password: string }, cert: NamedFile, key: NamedFile, passphrase: string | undefined): string | undefined {
  // Told apart before OpenSSL tries: which of its decoders reports the failure of an encrypted
  // key without a password is not something to depend on.
  const encrypted = ENCRYPTED_KEY.test(key.content.toString('latin1'));
  if (encrypted && passphrase === undefined) return `${names.key} (${key.path}) is encrypted: set ${names.password} (or ${names.password}_FILE)`;
  try {
    createSecureContext({ cert: cert.content, key: key.content, passphrase });
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH') return `${names.key} (${key.path}) is not the private key of the certificate in ${names.cert} (${cert.path})`;
    if (encrypted) return `${names.key} (${key.path}) cannot be decrypted with ${names.password} (OpenSSL: ${code})`;
    return `${names.cert} (${cert.path}) and ${names.key} (${key.path}) must hold a PEM certificate and its PEM private key (OpenSSL: ${code})`;
  }
}
