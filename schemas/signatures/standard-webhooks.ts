import { createHmac } from 'node:crypto';
import { equalBytes } from './secret-keys';

/** Standard Webhooks (standardwebhooks.com): the tolerance both ways for `webhook-timestamp`. */
export const STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 300;

const WHSEC_PREFIX = 'whsec_';

/** A `whsec_<base64>` secret is its decoded bytes, as the spec says; any other is its UTF-8 bytes. */
export function standardWebhookKey(secret: string): Buffer {
  return secret.startsWith(WHSEC_PREFIX) ? Buffer.from(secret.slice(WHSEC_PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
}

function digest(id: string, timestamp: string, body: Buffer | string, key: Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The `webhook-signature` header value: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`. */
export function signStandardWebhook(id: string, timestamp: number | string, body: Buffer | string, secret: string): string {
  return `v1,${digest(id, String(timestamp), body, standardWebhookKey(secret)).toString('base64')}`;
}

export interface StandardWebhookHeaders {
  readonly id: string;
  readonly timestamp: string;
  readonly signature: string;
}

export type StandardWebhookVerdict = { ok: true } | { ok: false; reason: 'malformed' | 'timestamp_too_old' | 'timestamp_too_new' | 'no_match' };

/**
 * Verifies the headers against the raw body. The header may carry several space-separated
 * signatures (`v1,<a> v1,<b>`) while a sender rotates; any `v1` one under any secret passes.
 */
export function verifyStandardWebhook(
  headers: StandardWebhookHeaders,
  body: Buffer,
  secrets: readonly string[],
  nowSeconds: number,
): StandardWebhookVerdict {
  if (!/^\d{1,12}$/.test(headers.timestamp) || headers.id.length === 0 || headers.id.length > 256) {
    return { ok: false, reason: 'malformed' };
  }
  const timestamp = Number(headers.timestamp);
  if (timestamp < nowSeconds - STANDARD_WEBHOOKS_TOLERANCE_SECONDS) return { ok: false, reason: 'timestamp_too_old' };
  if (timestamp > nowSeconds + STANDARD_WEBHOOKS_TOLERANCE_SECONDS) return { ok: false, reason: 'timestamp_too_new' };
  const given = headers.signature
    .split(' ')
    .filter((part) => part.startsWith('v1,'))
    .map((part) => Buffer.from(part.slice(3), 'base64'));
  if (given.length === 0) return { ok: false, reason: 'malformed' };
  let matched = false;
  for (const secret of secrets) {
    const expected = digest(headers.id, headers.timestamp, body, standardWebhookKey(secret));
    for (const signature of given) {
      if (equalBytes(expected, signature)) matched = true;
    }
  }
  return matched ? { ok: true } : { ok: false, reason: 'no_match' };
}
