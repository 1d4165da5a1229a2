import { timingSafeEqual } from 'node:crypto';

/**
 * A secret variable may hold several comma-separated secrets, so a secret can be rotated
 * without downtime: add the new one, move the senders, drop the old one.
 */
export function splitSecrets(variable: string): string[] {
  return variable
    .split(',')
    .map((secret) => secret.trim())
    .filter((secret) => secret.length > 0);
}

/** Equal in constant time for equal lengths; lengths are not secret (a digest's is fixed). */
export function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/** The 32 bytes of a hex SHA-256 digest, or undefined when the text is not one. */
export function hexDigest(text: string): Buffer | undefined {
  return HEX_SHA256.test(text) ? Buffer.from(text, 'hex') : undefined;
}
