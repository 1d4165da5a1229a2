import type { IncomingHttpHeaders } from 'node:http';
import { parseJsonObject } from '../schemas/payload-validation';
import {
  parseRelworxHeader,
  relworxTimestampFresh,
  verifyPayloadSignature,
  verifyRelworx,
  verifyStandardWebhook,
  RELWORX_SIGNED_FIELDS,
  type RelworxSignedFields,
} from '../schemas/signatures';
import type { WebhookDefinition } from '../schemas/webhook-catalog';

export type SignatureScheme = 'hmac-sha256' | 'standard-webhooks' | 'relworx';

export type Verification =
  | {
      ok: true;
      scheme: SignatureScheme;
      /** The `webhook-id` of a verified Standard Webhooks request: the sender's idempotency key. */
      webhookId?: string;
      /** The body, when verifying needed it parsed (Relworx signs fields, not bytes). */
      parsed?: Record<string, unknown>;
    }
  | { ok: false; reason: string };

/** A header given exactly once; a repeated signature header is refused rather than guessed at. */
function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Whether any of `names` (lower case) appears more than once in the raw header list. */
export function repeatedHeader(rawHeaders: readonly string[], names: readonly string[]): boolean {
  const seen = new Set<string>();
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!.toLowerCase();
    if (!names.includes(name)) continue;
    if (seen.has(name)) return true;
    seen.add(name);
  }
  return false;
}

const STANDARD_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];

/**
 * Verifies a request with the schemes the endpoint takes: Standard Webhooks when its headers
 * are there, else the endpoint's own header. Over the raw bytes, before any parsing — but for
 * Relworx, whose signature covers three body fields: its header and timestamp are checked
 * first, then the body is parsed only to read those fields.
 */
export function verifyRequest(options: {
  definition: WebhookDefinition;
  headers: IncomingHttpHeaders;
  rawHeaders: readonly string[];
  body: Buffer;
  secrets: readonly string[];
  relworxCallbackUrl: string;
  nowSeconds: number;
}): Verification {
  const { definition, headers, body, secrets, nowSeconds } = options;
  if (repeatedHeader(options.rawHeaders, [...STANDARD_HEADERS, definition.signatureHeader])) {
    return { ok: false, reason: 'repeated_signature_header' };
  }

  const webhookSignature = single(headers, 'webhook-signature');
  if (webhookSignature !== undefined) {
    const id = single(headers, 'webhook-id') ?? '';
    const timestamp = single(headers, 'webhook-timestamp') ?? '';
    const verdict = verifyStandardWebhook({ id, timestamp, signature: webhookSignature }, body, secrets, nowSeconds);
    return verdict.ok ? { ok: true, scheme: 'standard-webhooks', webhookId: id } : { ok: false, reason: verdict.reason };
  }

  const signature = single(headers, definition.signatureHeader);
  if (signature === undefined) return { ok: false, reason: 'missing' };

  if (definition.type !== 'relworx_payment') {
    return verifyPayloadSignature(body, signature, secrets) ? { ok: true, scheme: 'hmac-sha256' } : { ok: false, reason: 'no_match' };
  }

  const header = parseRelworxHeader(signature);
  if (!header) return { ok: false, reason: 'malformed' };
  if (!relworxTimestampFresh(header, nowSeconds)) return { ok: false, reason: 'timestamp_out_of_tolerance' };
  const parsed = parseJsonObject(body);
  if (!parsed) return { ok: false, reason: 'unreadable_body' };
  const fields = {} as RelworxSignedFields;
  for (const key of RELWORX_SIGNED_FIELDS) {
    const value = parsed[key];
    if (typeof value !== 'string') return { ok: false, reason: 'unsigned_fields' };
    fields[key] = value;
  }
  return verifyRelworx(options.relworxCallbackUrl, header, fields, secrets)
    ? { ok: true, scheme: 'relworx', parsed }
    : { ok: false, reason: 'no_match' };
}
