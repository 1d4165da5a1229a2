import { parse as parseLossless, stringify as stringifyLossless } from 'lossless-json';
import type { DecodedEvent } from './decode-event';
import { normalizeDecimal } from './decimal-compare';
import type { RejectionReason } from './errors';
import { canTransition, type TradeStatus } from './trade-status';

export type AcceptedEvent = Extract<DecodedEvent, { ok: true }>;

export interface TradeRow {
  id: string;
  reference: string;
  user_id: string;
  trade_type: 'buy' | 'sell';
  status: TradeStatus;
  crypto_amount: string | null;
  crypto_currency: string | null;
  fiat_amount: string | null;
  fiat_currency: string | null;
}

/** A trade as the events of one transaction leave it, and what changed. */
export interface TradeState {
  row: TradeRow;
  changed: boolean;
  /** Metadata patches in order (JSON text, exact numbers); jsonb `||` merges them the same way. */
  patches: string[];
  completedAt: number | null;
  failedAt: number | null;
}

export type TransactionKind = 'crypto_transfer' | 'fiat_payment' | 'mobile_money';

export interface TransactionChange {
  trade_id: string;
  kind: TransactionKind;
  status: string;
  transaction_hash?: string | null;
  payment_reference?: string | null;
  provider?: string | null;
  provider_reference?: string | null;
  customer_reference?: string | null;
  msisdn?: string | null;
  amount?: string | null;
  currency?: string | null;
  metadata?: string | null;
}

export interface Notification {
  event_id: string;
  user_id: number;
  trade_id: number;
  status: string;
  trade_type: string;
  crypto_amount: string | null;
  crypto_currency: string | null;
  fiat_amount: string | null;
  fiat_currency: string | null;
  occurred_at: number;
}

export type Effect =
  | { outcome: 'rejected'; reason: RejectionReason; detail: string; tradeId?: number }
  | { outcome: 'stale'; tradeId: number; reason: string }
  | { outcome: 'applied'; tradeId: number; status: TradeStatus; transaction?: TransactionChange; notification: Notification; message: string };

/** Which trade type each webhook may change; trade_status applies to both. */
const TRADE_TYPE_OF: Record<string, 'buy' | 'sell' | undefined> = {
  buy_completion: 'buy',
  sell_completion: 'sell',
  relworx_payment: 'buy',
};

function nextStatus(event: AcceptedEvent): TradeStatus {
  const { envelope, payload } = event;
  if (envelope.webhook_type === 'relworx_payment') return payload.status === 'success' ? 'processing' : 'failed';
  return payload.status as TradeStatus;
}

function seedMessage(webhookType: string, trade: TradeRow, status: TradeStatus): string {
  if (webhookType === 'relworx_payment') {
    return status === 'failed' ? `Relworx payment failed for trade ${trade.id}` : `Relworx payment received for trade ${trade.id}`;
  }
  if (webhookType === 'trade_status') return `Trade ${trade.id} status updated to ${status} via webhook`;
  const kind = trade.trade_type === 'buy' ? 'Buy' : 'Sell';
  return `${kind} trade ${trade.id} ${status} via webhook`;
}

/** What the webhook adds to the trade's metadata: where the change came from, and its references. */
function metadataPatch(event: AcceptedEvent): string {
  const { envelope, payload } = event;
  const patch: Record<string, unknown> = {
    last_webhook: { event_id: envelope.event_id, webhook_type: envelope.webhook_type, status: payload.status, received_at: new Date(envelope.received_at).toISOString() },
  };
  if (payload.transaction_hash) patch.transaction_hash = payload.transaction_hash;
  if (payload.payment_reference) patch.payment_reference = payload.payment_reference;
  if (envelope.webhook_type === 'relworx_payment') {
    patch.relworx = { internal_reference: payload.internal_reference, provider: payload.provider, msisdn: payload.msisdn };
  }
  return JSON.stringify(patch);
}

function transactionChange(event: AcceptedEvent, trade: TradeRow, status: TradeStatus): TransactionChange | undefined {
  const { payload, envelope } = event;
  switch (envelope.webhook_type) {
    case 'buy_completion':
      return { trade_id: trade.id, kind: 'crypto_transfer', status, transaction_hash: payload.transaction_hash as string | null, amount: trade.crypto_amount, currency: trade.crypto_currency };
    case 'sell_completion':
      return { trade_id: trade.id, kind: 'fiat_payment', status, payment_reference: payload.payment_reference as string | null, amount: trade.fiat_amount, currency: trade.fiat_currency };
    case 'relworx_payment':
      return {
        trade_id: trade.id,
        kind: 'mobile_money',
        status: payload.status === 'success' ? 'completed' : 'failed',
        provider: payload.provider as string | null,
        provider_reference: payload.internal_reference as string,
        customer_reference: payload.customer_reference as string,
        msisdn: payload.msisdn as string | null,
        amount: payload.amount as string | null,
        currency: (payload.currency as string | null) ?? trade.fiat_currency,
        metadata: JSON.stringify({ charge: payload.charge, message: payload.message, completed_at: payload.completed_at }),
      };
    default:
      return undefined;
  }
}

const amountText = (value: string | null): string | null => (value === null ? null : normalizeDecimal(value));

/**
 * Steps 3–5 of the design for one event against the trade as the earlier events of the same
 * transaction left it: type and amount checks, the transition, and the trade's new state.
 * Mutates `state` when the event applies. Pure: the SQL is the caller's.
 */
export function effectOf(event: AcceptedEvent, state: TradeState | undefined): Effect {
  const { envelope, payload } = event;
  const isRelworx = envelope.webhook_type === 'relworx_payment';
  if (!state) {
    return { outcome: 'rejected', reason: 'trade_not_found', detail: isRelworx ? `no trade with reference ${payload.customer_reference}` : `no trade ${payload.trade_id}` };
  }
  const trade = state.row;
  const tradeId = Number(trade.id);
  const requiredType = TRADE_TYPE_OF[envelope.webhook_type];
  if (requiredType && trade.trade_type !== requiredType) {
    return { outcome: 'rejected', reason: 'type_mismatch', detail: `${envelope.webhook_type} webhook for ${trade.trade_type} trade ${trade.id}`, tradeId };
  }
  if (isRelworx && payload.amount !== null && trade.fiat_amount !== null && normalizeDecimal(payload.amount as string) !== normalizeDecimal(trade.fiat_amount)) {
    return { outcome: 'rejected', reason: 'amount_mismatch', detail: `Relworx amount ${payload.amount} differs from trade amount ${normalizeDecimal(trade.fiat_amount)}`, tradeId };
  }
  if (isRelworx && payload.currency !== null && trade.fiat_currency !== null && payload.currency !== trade.fiat_currency) {
    return { outcome: 'rejected', reason: 'amount_mismatch', detail: `Relworx currency ${payload.currency} differs from trade currency ${trade.fiat_currency}`, tradeId };
  }
  const status = nextStatus(event);
  if (!canTransition(trade.status, status)) return { outcome: 'stale', tradeId, reason: `trade is ${trade.status}; ${status} not applied` };

  trade.status = status;
  if (!isRelworx && payload.crypto_amount != null) trade.crypto_amount = payload.crypto_amount as string;
  if (!isRelworx && payload.fiat_amount != null) trade.fiat_amount = payload.fiat_amount as string;
  if (payload.metadata != null) state.patches.push(payload.metadata as string);
  state.patches.push(metadataPatch(event));
  if (status === 'completed') state.completedAt = envelope.received_at;
  if (status === 'failed') state.failedAt = envelope.received_at;
  state.changed = true;
  return {
    outcome: 'applied',
    tradeId,
    status,
    transaction: transactionChange(event, trade, status),
    notification: {
      event_id: envelope.event_id,
      user_id: Number(trade.user_id),
      trade_id: tradeId,
      status,
      trade_type: trade.trade_type,
      crypto_amount: amountText(trade.crypto_amount),
      crypto_currency: trade.crypto_currency,
      fiat_amount: amountText(trade.fiat_amount),
      fiat_currency: trade.fiat_currency,
      occurred_at: envelope.received_at,
    },
    message: seedMessage(envelope.webhook_type, trade, status),
  };
}

/** The patches merged as jsonb `||` would merge them one after the other (top-level keys, last wins). */
export function mergedPatch(patches: readonly string[]): string {
  const merged: Record<string, unknown> = {};
  for (const patch of patches) Object.assign(merged, parseLossless(patch) as Record<string, unknown>);
  return stringifyLossless(merged)!;
}
