import { createHmac } from 'node:crypto';
import { equalBytes, hexDigest } from './secret-keys';

/**
 * The per-type scheme (`X-Buy-Webhook-Signature` and its siblings): lowercase hex
 * HMAC-SHA256 of the raw body bytes, keyed with the secret's UTF-8 bytes.
 */
export function signPayload(body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * True when `header` is the signature of `body` under any of `secrets`. A `sha256=` prefix
 * is tolerated; hex is compared as the bytes it encodes, so its case does not matter.
 */
export function verifyPayloadSignature(body: Buffer, header: string, secrets: readonly string[]): boolean {
  const given = hexDigest(header.startsWith('sha256=') ? header.slice('sha256='.length) : header);
  if (!given) return false;
  let matched = false;
  // Every secret is tried, so the time taken does not say which one matched.
  for (const secret of secrets) {
    if (equalBytes(createHmac('sha256', secret).update(body).digest(), given)) matched = true;
  }
  return matched;
}
