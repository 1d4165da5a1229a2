import { LosslessNumber, stringify } from 'lossless-json';

/**
 * Test payload builders, one per webhook type, producing valid bodies with a timestamp.
 * Amounts may be given as strings to keep every digit: they are written as JSON numbers with
 * exactly that text (a JS number would round 0.123456789012345678).
 */
export type Amount = number | string;

function amount(value: Amount | undefined): LosslessNumber | number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (!/^\d+(\.\d+)?$/.test(value)) throw new RangeError(`an amount must be a non-negative decimal, got "${value}"`);
  return new LosslessNumber(value);
}

function withoutUndefined<T extends Record<string, unknown>>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

const now = (): string => new Date().toISOString();

/** What every completion carries around its own amount and reference, in the order a sender writes them. */
function completion<Fields extends Record<string, unknown>>(
  webhookType: 'buy_completion' | 'sell_completion',
  options: { tradeId: number; status?: 'completed' | 'failed'; timestamp?: string },
  fields: Fields,
) {
  return withoutUndefined({
    trade_id: options.tradeId,
    status: options.status ?? 'completed',
    ...fields,
    timestamp: options.timestamp ?? now(),
    webhook_type: webhookType,
  });
}

export function buyCompletion(options: { tradeId: number; cryptoAmount?: Amount; transactionHash?: string; status?: 'completed' | 'failed'; timestamp?: string }) {
  return completion('buy_completion', options, { crypto_amount: amount(options.cryptoAmount), transaction_hash: options.transactionHash });
}

export function sellCompletion(options: { tradeId: number; fiatAmount?: Amount; paymentReference?: string; status?: 'completed' | 'failed'; timestamp?: string }) {
  return completion('sell_completion', options, { fiat_amount: amount(options.fiatAmount), payment_reference: options.paymentReference });
}

export function tradeStatus(options: {
  tradeId: number;
  status: 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled';
  metadata?: Record<string, unknown>;
  timestamp?: string;
}) {
  return withoutUndefined({
    trade_id: options.tradeId,
    status: options.status,
    metadata: options.metadata,
    timestamp: options.timestamp ?? now(),
    webhook_type: 'trade_status',
  });
}

export function relworxPayment(options: {
  customerReference: string;
  internalReference: string;
  status?: 'success' | 'failed';
  amount?: Amount;
  currency?: string;
  msisdn?: string;
  provider?: string;
  message?: string;
}) {
  return withoutUndefined({
    status: options.status ?? 'success',
    customer_reference: options.customerReference,
    internal_reference: options.internalReference,
    msisdn: options.msisdn,
    amount: amount(options.amount),
    currency: options.currency,
    provider: options.provider,
    message: options.message,
    completed_at: now(),
    webhook_type: 'relworx_payment',
  });
}

/** The exact bytes to sign and send. Serialize once: a second serialization may differ. */
export function serializePayload(payload: unknown): string {
  const text = stringify(payload);
  if (text === undefined) throw new TypeError('payload cannot be serialized');
  return text;
}
