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
import type { SignatureScheme } from '../schemas/webhook-event';

export type Verification =
  | {
      ok: true;
      scheme: SignatureScheme;
      /** The position, from 0, of the secret that verified it: shows when a rotated-out one is still used. */
      secret: number;
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

/**
 * Standard Webhooks' headers, and the same three under Svix's names (Svix's scheme is Standard
 * Webhooks). A request is verified with one whole set, never a mix: the `svix-` set when it has
 * a `svix-signature`, as Svix's own library reads `svix-` before `webhook-`, else the `webhook-`
 * set. A request that carries both is decided by its `svix-` set alone.
 */
const STANDARD_HEADER_SETS = [
  { id: 'svix-id', timestamp: 'svix-timestamp', signature: 'svix-signature' },
  { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' },
] as const;

const STANDARD_HEADERS = STANDARD_HEADER_SETS.flatMap((set) => [set.id, set.timestamp, set.signature]);

// As the exact parser decodes: invalid UTF-8 and a leading byte-order mark are not JSON text.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The three fields Relworx signs, read with the native parser, which costs a fraction of the
 * exact one (that keeps every number as its text): an unsigned body must be cheap to refuse.
 */
function relworxFields(body: Buffer): RelworxSignedFields | 'unreadable_body' | 'unsigned_fields' {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(body));
  } catch {
    return 'unreadable_body';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'unreadable_body';
  const fields = {} as RelworxSignedFields;
  for (const key of RELWORX_SIGNED_FIELDS) {
    const field = (value as Record<string, unknown>)[key];
    if (typeof field !== 'string') return 'unsigned_fields';
    fields[key] = field;
  }
  return fields;
}

/**
 * Verifies a request with the schemes the endpoint takes: Standard Webhooks when its headers
 * (or Svix's names for them) are there, else the endpoint's own header. Over the raw bytes,
 * before any parsing — but for Relworx, whose signature covers three body fields: its header
 * and timestamp are checked first, then the body is parsed only to read those fields, and
 * only a verified body is parsed exactly (numbers as their text, as the rest of the receiver
 * needs it). The two parses must agree on the signed fields: where they could differ (a key
 * given twice, which the native parser settles by the last value and the exact one refuses)
 * the body means two things, and the one verified may not be the one acted on.
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

  const standard = STANDARD_HEADER_SETS.find((set) => single(headers, set.signature) !== undefined);
  if (standard) {
    const id = single(headers, standard.id) ?? '';
    const timestamp = single(headers, standard.timestamp) ?? '';
    const verdict = verifyStandardWebhook({ id, timestamp, signature: single(headers, standard.signature)! }, body, secrets, nowSeconds);
    return verdict.ok ? { ok: true, scheme: 'standard-webhooks', secret: verdict.secret, webhookId: id } : { ok: false, reason: verdict.reason };
  }

  const signature = single(headers, definition.signatureHeader);
  if (signature === undefined) return { ok: false, reason: 'missing' };

  if (definition.type !== 'relworx_payment') {
    const match = verifyPayloadSignature(body, signature, secrets);
    return match ? { ok: true, scheme: 'hmac-sha256', secret: match.secret } : { ok: false, reason: 'no_match' };
  }

  const header = parseRelworxHeader(signature);
  if (!header) return { ok: false, reason: 'malformed' };
  if (!relworxTimestampFresh(header, nowSeconds)) return { ok: false, reason: 'timestamp_out_of_tolerance' };
  const fields = relworxFields(body);
  if (typeof fields === 'string') return { ok: false, reason: fields };
  const match = verifyRelworx(options.relworxCallbackUrl, header, fields, secrets);
  if (!match) return { ok: false, reason: 'no_match' };
  const parsed = parseJsonObject(body);
  if (!parsed || RELWORX_SIGNED_FIELDS.some((key) => parsed[key] !== fields[key])) return { ok: false, reason: 'ambiguous_body' };
  return { ok: true, scheme: 'relworx', secret: match.secret, parsed };
}
