import { createHmac } from 'node:crypto';
import { matchSecret } from './secret-keys';

/** Standard Webhooks (standardwebhooks.com): the tolerance both ways for `webhook-timestamp`. */
export const STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 300;

/** The spec's signing keys are 24 to 64 random bytes; fewer is not a key we accept. */
export const STANDARD_WEBHOOKS_MIN_KEY_BYTES = 24;

export const WHSEC_PREFIX = 'whsec_';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * A `webhook-id` is the sender's idempotency key (`msg_…`), and it becomes the event id and a
 * Kafka header: printable ASCII without spaces, at most 256 characters, so no id can carry
 * control characters or bytes that read differently as Latin-1 and as UTF-8.
 */
const WEBHOOK_ID = /^[\x21-\x7e]{1,256}$/;

/**
 * The bytes of standard (RFC 4648 §4) padded base64, or undefined for anything else. Node's
 * decoder skips characters outside the alphabet and stops at the first `=`, so a mistyped key
 * would quietly become a shorter one, or an empty one that anybody can sign with. Only text
 * that re-encodes to itself is accepted, which also refuses non-zero trailing bits.
 */
function strictBase64(text: string): Buffer | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * A `whsec_<base64>` secret is its decoded bytes, as the spec says; any other is its UTF-8
 * bytes. Undefined when a `whsec_` secret is not valid base64: such a secret has no key, and
 * nothing may be signed or verified with it.
 */
export function standardWebhookKey(secret: string): Buffer | undefined {
  return secret.startsWith(WHSEC_PREFIX) ? strictBase64(secret.slice(WHSEC_PREFIX.length)) : Buffer.from(secret, 'utf8');
}

function digest(id: string, timestamp: string, body: Buffer | string, key: Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The `webhook-signature` header value: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`. */
export function signStandardWebhook(id: string, timestamp: number | string, body: Buffer | string, secret: string): string {
  const key = standardWebhookKey(secret);
  // Thrown, not signed with a guess: a receiver holding the same secret could not verify it.
  if (!key) throw new RangeError('the whsec_ secret is not valid base64 (standard alphabet, padded)');
  return `v1,${digest(id, String(timestamp), body, key).toString('base64')}`;
}

export interface StandardWebhookHeaders {
  readonly id: string;
  readonly timestamp: string;
  readonly signature: string;
}

/** `secret`: the position, from 0, of the secret that verified it. */
export type StandardWebhookVerdict =
  | { ok: true; secret: number }
  | { ok: false; reason: 'malformed' | 'timestamp_too_old' | 'timestamp_too_new' | 'no_match' };

/**
 * Verifies the headers against the raw body. The header may carry several space-separated
 * signatures (`v1,<a> v1,<b>`) while a sender rotates; any `v1` one under any secret passes.
 * A secret without a usable key is skipped: it never matches anything.
 */
export function verifyStandardWebhook(
  headers: StandardWebhookHeaders,
  body: Buffer,
  secrets: readonly string[],
  nowSeconds: number,
): StandardWebhookVerdict {
  if (!/^\d{1,12}$/.test(headers.timestamp) || !WEBHOOK_ID.test(headers.id)) {
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
  const match = matchSecret(secrets, given, (secret) => {
    const key = standardWebhookKey(secret);
    return key && digest(headers.id, headers.timestamp, body, key);
  });
  return match ? { ok: true, secret: match.secret } : { ok: false, reason: 'no_match' };
}
