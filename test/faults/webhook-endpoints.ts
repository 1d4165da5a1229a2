import { relworxSignatureHeader, signPayload, signRelworx, signStandardWebhook } from '../../sender';
import { webhookByName, type WebhookDefinition } from '../../schemas/webhook-catalog';
import { TEST_RELWORX_CALLBACK_URL, TEST_SECRETS } from '../support/receiver';

/**
 * The four webhook endpoints as a sender sees them: a valid body of each, field by field, what
 * each field must be, how to sign a body, and the answers the receiver documents. Written out
 * from receiver/openapi.yaml, not taken from the receiver's code, so that a receiver that
 * drifts from what it documents fails here.
 */

/** The receiver's default MAX_BODY_BYTES (64 KiB). */
export const MAX_BODY = 65_536;

/** The receiver's default RELWORX_MAX_BODY_BYTES (8 KiB): Relworx callbacks are small, and read before they are verified. */
export const RELWORX_MAX_BODY = 8_192;

/** A status and the exact JSON body that goes with it. */
export interface Answer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

export const INVALID_SIGNATURE: Answer = { status: 401, body: { success: false, error: 'Invalid signature' } };
export const INVALID_JSON: Answer = { status: 400, body: { success: false, error: 'Invalid JSON' } };
export const INVALID_STATUS: Answer = { status: 400, body: { success: false, error: 'Invalid status' } };
export const INVALID_WEBHOOK_TYPE: Answer = { status: 400, body: { success: false, error: 'Invalid webhook_type' } };
export const PAYLOAD_TOO_LARGE: Answer = { status: 413, body: { success: false, error: 'Payload too large' } };
export const UNSUPPORTED_MEDIA_TYPE: Answer = { status: 415, body: { success: false, error: 'Content-Type must be application/json' } };
export const METHOD_NOT_ALLOWED: Answer = { status: 405, body: { success: false, error: 'Method not allowed' } };
export const NOT_FOUND: Answer = { status: 404, body: { success: false, error: 'Not found' } };
export const missingFields = (field: string): Answer => ({ status: 400, body: { success: false, error: 'Missing required fields', fields: [field] } });

export type FieldKind = 'id' | 'status' | 'string' | 'amount' | 'timestamp' | 'object' | 'webhook_type';

export interface FieldRule {
  readonly kind: FieldKind;
  /** Missing (or null) is refused: required, or required by the body's status. */
  readonly required: boolean;
  /** One of the three fields Relworx signs: without a string there, there is no valid signature. */
  readonly signed?: boolean;
}

/** One endpoint: a valid body as raw JSON text per field, and what each field must be. */
export interface Endpoint {
  readonly definition: WebhookDefinition;
  readonly secret: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly rules: Readonly<Record<string, FieldRule>>;
  readonly statuses: readonly string[];
}

const TIMESTAMP = '"2026-01-01T00:00:00Z"';
const optional = (kind: FieldKind): FieldRule => ({ kind, required: false });
const required = (kind: FieldKind): FieldRule => ({ kind, required: true });

export const ENDPOINTS: readonly Endpoint[] = [
  {
    definition: webhookByName('buy-complete')!,
    secret: TEST_SECRETS.BUY_WEBHOOK_SECRET,
    fields: { trade_id: '42', status: '"completed"', transaction_hash: '"0xabc"', crypto_amount: '0.001', timestamp: TIMESTAMP, webhook_type: '"buy_completion"' },
    // transaction_hash: required because the body's status is `completed`.
    rules: { trade_id: required('id'), status: required('status'), transaction_hash: required('string'), crypto_amount: optional('amount'), timestamp: optional('timestamp'), webhook_type: optional('webhook_type') },
    statuses: ['completed', 'failed'],
  },
  {
    definition: webhookByName('sell-complete')!,
    secret: TEST_SECRETS.SELL_WEBHOOK_SECRET,
    fields: { trade_id: '42', status: '"completed"', payment_reference: '"PAY-42"', fiat_amount: '100.5', timestamp: TIMESTAMP, webhook_type: '"sell_completion"' },
    rules: { trade_id: required('id'), status: required('status'), payment_reference: required('string'), fiat_amount: optional('amount'), timestamp: optional('timestamp'), webhook_type: optional('webhook_type') },
    statuses: ['completed', 'failed'],
  },
  {
    definition: webhookByName('trade-status')!,
    secret: TEST_SECRETS.TRADE_WEBHOOK_SECRET,
    fields: { trade_id: '42', status: '"processing"', metadata: '{"stage":"crypto_transfer"}', timestamp: TIMESTAMP, webhook_type: '"trade_status"' },
    rules: { trade_id: required('id'), status: required('status'), metadata: optional('object'), timestamp: optional('timestamp'), webhook_type: optional('webhook_type') },
    statuses: ['pending', 'processing', 'completed', 'failed', 'cancelled'],
  },
  {
    definition: webhookByName('relworx')!,
    secret: TEST_SECRETS.RELWORX_WEBHOOK_SECRET,
    fields: {
      status: '"success"',
      customer_reference: '"FAULT-42"',
      internal_reference: '"RWX-42"',
      msisdn: '"256700000000"',
      amount: '350000',
      currency: '"UGX"',
      provider: '"MTN_UGANDA"',
      charge: '0',
      message: '"Payment received"',
      completed_at: TIMESTAMP,
      webhook_type: '"relworx_payment"',
    },
    rules: {
      status: { kind: 'status', required: true, signed: true },
      customer_reference: { kind: 'string', required: true, signed: true },
      internal_reference: { kind: 'string', required: true, signed: true },
      msisdn: optional('string'),
      amount: optional('amount'),
      currency: optional('string'),
      provider: optional('string'),
      charge: optional('amount'),
      message: optional('string'),
      completed_at: optional('string'),
      webhook_type: optional('webhook_type'),
    },
    statuses: ['success', 'failed'],
  },
];

export const RELWORX = ENDPOINTS[3]!;
export const now = (): number => Math.floor(Date.now() / 1000);

/** A body of `endpoint` with one field replaced by raw JSON text, or left out (undefined). */
export function bodyWith(endpoint: Endpoint, field?: string, raw?: string): Buffer {
  const fields: Record<string, string> = { ...endpoint.fields };
  if (field !== undefined && raw === undefined) delete fields[field];
  else if (field !== undefined) fields[field] = raw!;
  return Buffer.from(`{${Object.entries(fields).map(([name, value]) => `"${name}":${value}`).join(',')}}`);
}

export const validBody = (endpoint: Endpoint): Buffer => bodyWith(endpoint);

/** A valid buy completion: for warming the receiver up, never sent signed. */
export const VALID_BUY_BODY = validBody(ENDPOINTS[0]!);

/** `Relworx-Signature` over the body's signed fields as JSON.parse reads them (anything else signed as empty). */
export function relworxHeader(body: Buffer, options: { secret?: string; callbackUrl?: string; timestamp?: number } = {}): string {
  const fields = { customer_reference: '', internal_reference: '', status: '' };
  try {
    const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    for (const key of Object.keys(fields) as Array<keyof typeof fields>) if (typeof parsed[key] === 'string') fields[key] = parsed[key] as string;
  } catch {
    // Not JSON: signed as empty fields; the receiver cannot read the body's fields either.
  }
  const timestamp = options.timestamp ?? now();
  return relworxSignatureHeader(timestamp, signRelworx(options.callbackUrl ?? TEST_RELWORX_CALLBACK_URL, timestamp, fields, options.secret ?? RELWORX.secret));
}

export type Scheme = 'own' | 'standard';

/** The signature headers of `body` under the endpoint's own scheme or Standard Webhooks, with the right secret. */
export function signedWith(endpoint: Endpoint, scheme: Scheme, body: Buffer): Array<[string, string]> {
  if (scheme === 'standard') {
    const timestamp = now();
    return [['webhook-id', 'msg_bad_input'], ['webhook-timestamp', String(timestamp)], ['webhook-signature', signStandardWebhook('msg_bad_input', timestamp, body, endpoint.secret)]];
  }
  const value = endpoint === RELWORX ? relworxHeader(body) : signPayload(body, endpoint.secret);
  return [[endpoint.definition.signatureHeader, value]];
}

export const JSON_TYPE: Array<[string, string]> = [['content-type', 'application/json']];

/** Standard Webhooks headers for `body` with one part chosen by the case; the others valid. */
export function standardHeaders(target: Endpoint, body: Buffer, parts: { id?: string | null; timestamp?: string | null; signature?: string }): Array<[string, string]> {
  const id = parts.id === undefined ? 'msg_bad_input' : parts.id;
  const timestamp = parts.timestamp === undefined ? String(now()) : parts.timestamp;
  const headers: Array<[string, string]> = [...JSON_TYPE];
  if (id !== null) headers.push(['webhook-id', id]);
  if (timestamp !== null) headers.push(['webhook-timestamp', timestamp]);
  headers.push(['webhook-signature', parts.signature ?? signStandardWebhook(id ?? '', timestamp ?? '', body, target.secret)]);
  return headers;
}
