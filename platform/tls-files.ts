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

/**
 * Why a client certificate and its key cannot be used, or undefined when they can: the key
 * cannot be decrypted, is not the certificate's, or either is not PEM. Found by building the TLS
 * context the connections will use, once at start, so the mistake is a configuration problem and
 * not a connection error on every attempt. OpenSSL's reason code is given, never the files' text.
 */
export function keyPairProblem(names: { cert: string; key: string; password: string }, cert: NamedFile, key: NamedFile, passphrase: string | undefined): string | undefined {
  try {
    createSecureContext({ cert: cert.content, key: key.content, passphrase });
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    if (code === 'ERR_OSSL_BAD_DECRYPT') return `${names.key} (${key.path}) cannot be decrypted: ${names.password} is missing or wrong`;
    if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH') return `${names.key} (${key.path}) is not the private key of the certificate in ${names.cert} (${cert.path})`;
    return `${names.cert} (${cert.path}) and ${names.key} (${key.path}) must hold a PEM certificate and its PEM private key (OpenSSL: ${code})`;
  }
}
