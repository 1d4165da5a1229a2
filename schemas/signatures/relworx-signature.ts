import { createHmac } from 'node:crypto';
import { hexDigest, matchSecret, type SecretMatch } from './secret-keys';

export const RELWORX_TOLERANCE_SECONDS = 300;

/** The three body fields Relworx signs, in the sorted order it signs them. */
export const RELWORX_SIGNED_FIELDS = ['customer_reference', 'internal_reference', 'status'] as const;

export type RelworxSignedFields = Record<(typeof RELWORX_SIGNED_FIELDS)[number], string>;

/**
 * Relworx signs `<callback URL><t>` followed by each signed key and its value, with no
 * separators: not the body bytes. The amount is not covered.
 */
function signedText(callbackUrl: string, timestamp: string, fields: RelworxSignedFields): string {
  let text = `${callbackUrl}${timestamp}`;
  for (const key of RELWORX_SIGNED_FIELDS) text += `${key}${fields[key]}`;
  return text;
}

/** The hex `v` of `Relworx-Signature: t=<timestamp>,v=<v>`. */
export function signRelworx(callbackUrl: string, timestamp: number | string, fields: RelworxSignedFields, secret: string): string {
  return createHmac('sha256', secret).update(signedText(callbackUrl, String(timestamp), fields)).digest('hex');
}

export function relworxSignatureHeader(timestamp: number | string, signature: string): string {
  return `t=${timestamp},v=${signature}`;
}

export interface RelworxHeader {
  readonly timestamp: string;
  readonly signature: Buffer;
}

/** `t=<unix seconds>,v=<hex>` in either order, or undefined when malformed. */
export function parseRelworxHeader(header: string): RelworxHeader | undefined {
  let timestamp: string | undefined;
  let signature: Buffer | undefined;
  for (const part of header.split(',')) {
    const [key, value = ''] = part.trim().split('=', 2);
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = value;
    else if (key === 'v') signature = hexDigest(value);
    else return undefined;
  }
  return timestamp !== undefined && signature !== undefined ? { timestamp, signature } : undefined;
}

export function relworxTimestampFresh(header: RelworxHeader, nowSeconds: number): boolean {
  return Math.abs(Number(header.timestamp) - nowSeconds) <= RELWORX_TOLERANCE_SECONDS;
}

export function verifyRelworx(
  callbackUrl: string,
  header: RelworxHeader,
  fields: RelworxSignedFields,
  secrets: readonly string[],
): SecretMatch | undefined {
  const text = signedText(callbackUrl, header.timestamp, fields);
  return matchSecret(secrets, [header.signature], (secret) => createHmac('sha256', secret).update(text).digest());
}
