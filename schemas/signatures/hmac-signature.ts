import { createHmac } from 'node:crypto';
import { hexDigest, matchSecret, type SecretMatch } from './secret-keys';

/**
 * The per-type scheme (`X-Buy-Webhook-Signature` and its siblings): lowercase hex
 * HMAC-SHA256 of the raw body bytes, keyed with the secret's UTF-8 bytes.
 */
export function signPayload(body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * The secret `header` is the signature of `body` under, if any of `secrets`. A `sha256=` prefix
 * is tolerated; hex is compared as the bytes it encodes, so its case does not matter.
 */
export function verifyPayloadSignature(body: Buffer, header: string, secrets: readonly string[]): SecretMatch | undefined {
  const given = hexDigest(header.startsWith('sha256=') ? header.slice('sha256='.length) : header);
  if (!given) return undefined;
  return matchSecret(secrets, [given], (secret) => createHmac('sha256', secret).update(body).digest());
}
