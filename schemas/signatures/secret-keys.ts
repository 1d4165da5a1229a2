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

/** Which of the secrets a verified signature was made with: its position in the list, from 0. */
export interface SecretMatch {
  readonly secret: number;
}

/**
 * The first of `secrets` whose digest equals one of `given`. Every secret is tried and every
 * comparison made whatever matched before, so the time taken does not say which one matched.
 * A secret whose digest is undefined (no usable key) matches nothing.
 */
export function matchSecret(secrets: readonly string[], given: readonly Buffer[], digestOf: (secret: string) => Buffer | undefined): SecretMatch | undefined {
  let matched = -1;
  secrets.forEach((secret, position) => {
    const expected = digestOf(secret);
    if (!expected) return;
    for (const signature of given) {
      if (equalBytes(expected, signature) && matched === -1) matched = position;
    }
  });
  return matched === -1 ? undefined : { secret: matched };
}

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/** The 32 bytes of a hex SHA-256 digest, or undefined when the text is not one. */
export function hexDigest(text: string): Buffer | undefined {
  return HEX_SHA256.test(text) ? Buffer.from(text, 'hex') : undefined;
}
