import type { DecodedEvent } from './decode-event';
import { normalizeDecimal } from './decimal-compare';
import type { RejectionReason } from './errors';
import { canTransition, isTerminal, type TradeStatus } from './trade-status';

export type AcceptedEvent = Extract<DecodedEvent, { ok: true }>;

/** A trade row as PostgreSQL returns it: bigints and numerics as exact text. */
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
  /** Metadata patches in order (JSON text, exact numbers), merged with jsonb `||` in that order. */
  patches: string[];
  completedAt: number | null;
  failedAt: number | null;
  /** The trade's mobile-money attempts, by internal reference: the status each recorded. */
  payments: Map<string, string>;
}

/**
 * The statuses the processor gives a mobile-money attempt's row, in the only order a row moves
 * through them. `failed`: the attempt failed. `unverified`: Relworx reported money received, but
 * not for the trade's amount and currency, or not for a buy trade (the amount is not signed);
 * the row keeps what it claimed. `unapplied`: money was received that the trade did not take (it
 * was finished, or already paid), for an operator to refund or reopen the trade for.
 * `completed`: the payment the trade took, at most one per trade. A status the processor does not
 * write (one an operator set) ranks above them all, so such a row is never changed.
 */
export const ATTEMPT_STATUSES = ['failed', 'unverified', 'unapplied', 'completed'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export function attemptRank(status: string | undefined): number {
  if (status === undefined) return -1;
  const rank = ATTEMPT_STATUSES.indexOf(status as AttemptStatus);
  return rank === -1 ? ATTEMPT_STATUSES.length : rank;
}

/** From this rank on a row records money: a later report of the same rank does not change it. */
export const MONEY_RECORDED_RANK = attemptRank('unapplied');

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

/** One notification of trade-notifications. Ids are decimal text: JSON would round bigints. */
export interface Notification {
  event_id: string;
  user_id: string;
  trade_id: string;
  status: string;
  trade_type: string;
  crypto_amount: string | null;
  crypto_currency: string | null;
  fiat_amount: string | null;
  fiat_currency: string | null;
  occurred_at: number;
}

/** Why an event was recorded without changing its trade. */
export type StaleReason = 'transition_not_allowed' | 'payment_already_received';

/**
 * What one event does. `transaction` is written whatever the outcome: a payment attempt is
 * recorded even when its event is stale or rejected, so that no money goes unrecorded.
 */
export type Effect =
  | { outcome: 'rejected'; reason: RejectionReason; detail: string; tradeId?: string; transaction?: TransactionChange }
  | { outcome: 'stale'; reason: StaleReason; detail: string; tradeId: string; transaction?: TransactionChange }
  | { outcome: 'applied'; tradeId: string; status: TradeStatus; transaction?: TransactionChange; notification: Notification; message: string };

/** Which trade type each webhook may change; trade_status applies to both. */
const TRADE_TYPE_OF: Record<string, 'buy' | 'sell' | undefined> = {
  buy_completion: 'buy',
  sell_completion: 'sell',
  relworx_payment: 'buy',
};

/** The amount each completion reports, checked against the one agreed on the trade. */
const REPORTED_AMOUNT_OF: Record<string, 'crypto_amount' | 'fiat_amount' | undefined> = {
  buy_completion: 'crypto_amount',
  sell_completion: 'fiat_amount',
};

/**
 * The log message of an applied change, word for word as the service this one replaced wrote
 * it, because operators search for that text: the only processor message with a value (the
 * trade id) in it, which is also logged as a field.
 */
function appliedChangeMessage(webhookType: string, trade: TradeRow, status: TradeStatus): string {
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

function completionTransaction(event: AcceptedEvent, trade: TradeRow, status: TradeStatus): TransactionChange | undefined {
  const { payload, envelope } = event;
  switch (envelope.webhook_type) {
    case 'buy_completion':
      return { trade_id: trade.id, kind: 'crypto_transfer', status, transaction_hash: payload.transaction_hash, amount: trade.crypto_amount, currency: trade.crypto_currency };
    case 'sell_completion':
      return { trade_id: trade.id, kind: 'fiat_payment', status, payment_reference: payload.payment_reference, amount: trade.fiat_amount, currency: trade.fiat_currency };
    default:
      return undefined;
  }
}

/**
 * One Relworx attempt's own record, keyed by its internal reference; the chunk's later events see
 * it (a row only moves up in rank, in memory as in the table).
 */
function paymentAttempt(event: AcceptedEvent, state: TradeState, status: AttemptStatus): TransactionChange {
  const { payload } = event;
  const trade = state.row;
  const reference = payload.internal_reference!;
  if (attemptRank(status) > attemptRank(state.payments.get(reference))) state.payments.set(reference, status);
  return {
    trade_id: trade.id,
    kind: 'mobile_money',
    status,
    provider: payload.provider,
    provider_reference: reference,
    customer_reference: payload.customer_reference,
    msisdn: payload.msisdn,
    amount: payload.amount,
    currency: currencyOf(payload.currency, trade, status),
    metadata: JSON.stringify({ charge: payload.charge, message: payload.message, completed_at: payload.completed_at }),
  };
}

/** ISO 4217 codes: `ugx` and ` UGX` name the same currency as `UGX`. */
const isoCode = (currency: string): string => currency.trim().toUpperCase();

/** An unverified attempt keeps the currency it claimed, as evidence; one that matched is in the trade's. */
function currencyOf(claimed: string | null | undefined, trade: TradeRow, status: AttemptStatus): string | null | undefined {
  if (status === 'unverified') return claimed;
  if (status === 'failed') return claimed ?? trade.fiat_currency;
  return trade.fiat_currency;
}

/** Applies `status` to the trade (mutating `state`) and describes the change. */
function apply(event: AcceptedEvent, state: TradeState, status: TradeStatus, transaction: TransactionChange | undefined): Effect {
  const { envelope, payload } = event;
  const trade = state.row;
  trade.status = status;
  if (payload.metadata != null) state.patches.push(payload.metadata);
  state.patches.push(metadataPatch(event));
  if (status === 'completed') state.completedAt = envelope.received_at;
  if (status === 'failed') state.failedAt = envelope.received_at;
  state.changed = true;
  return {
    outcome: 'applied',
    tradeId: trade.id,
    status,
    transaction,
    notification: {
      event_id: envelope.event_id,
      user_id: trade.user_id,
      trade_id: trade.id,
      status,
      trade_type: trade.trade_type,
      crypto_amount: trade.crypto_amount === null ? null : normalizeDecimal(trade.crypto_amount),
      crypto_currency: trade.crypto_currency,
      fiat_amount: trade.fiat_amount === null ? null : normalizeDecimal(trade.fiat_amount),
      fiat_currency: trade.fiat_currency,
      occurred_at: envelope.received_at,
    },
    message: appliedChangeMessage(envelope.webhook_type, trade, status),
  };
}

/** Why a Relworx `success` cannot be trusted as the trade's payment, if it cannot: its amount is not signed. */
function paymentMismatch(event: AcceptedEvent, trade: TradeRow): string | undefined {
  const { amount, currency } = event.payload;
  if (amount == null) return `Relworx success for trade ${trade.id} carries no amount`;
  if (currency == null) return `Relworx success for trade ${trade.id} carries no currency`;
  if (trade.fiat_amount === null || trade.fiat_currency === null) return `trade ${trade.id} has no fiat amount and currency to check the Relworx payment against`;
  if (normalizeDecimal(amount) !== normalizeDecimal(trade.fiat_amount)) return `Relworx amount ${amount} differs from trade amount ${normalizeDecimal(trade.fiat_amount)}`;
  if (isoCode(currency) !== isoCode(trade.fiat_currency)) return `Relworx currency ${currency} differs from trade currency ${trade.fiat_currency}`;
  return undefined;
}

/**
 * The money rules of a Relworx callback. Every attempt is recorded under its internal
 * reference; a success is never dropped (applied, or recorded and rejected for an operator to
 * refund); a failure never fails a trade that was paid. Only the attempt the trade took is its
 * payment: money it did not take is `unapplied`, and never makes another payment a second one.
 * An `unverified` attempt does: Relworx signed that it received money for the trade, of an
 * amount that could not be checked, and the trade must not take a second payment unseen.
 */
function relworxEffect(event: AcceptedEvent, state: TradeState): Effect {
  const trade = state.row;
  const reference = event.payload.internal_reference!;
  /** An attempt recorded with `status`, other than `except`. */
  const recorded = (status: AttemptStatus, except?: string) => [...state.payments].find(([attempt, recorded]) => recorded === status && attempt !== except)?.[0];
  if (event.payload.status === 'success') {
    // The same attempt again under another event id (another signature scheme, a resend): its
    // money is recorded and the trade was told; whatever this copy claims changes nothing.
    const settled = state.payments.get(reference);
    if (settled === 'completed') {
      const detail = `internal reference ${reference} is already recorded as the payment of trade ${trade.id}; this report of it changes nothing`;
      return { outcome: 'stale', reason: 'payment_already_received', detail, tradeId: trade.id };
    }
    // An operator settled this attempt's money (refunded it, say): a replay must not make it the trade's payment.
    if (attemptRank(settled) === ATTEMPT_STATUSES.length) {
      const detail = `internal reference ${reference} of trade ${trade.id} is recorded as ${settled}; this report of it changes nothing`;
      return { outcome: 'stale', reason: 'payment_already_received', detail, tradeId: trade.id };
    }
    const mismatch = paymentMismatch(event, trade);
    if (mismatch) return { outcome: 'rejected', reason: 'amount_mismatch', detail: mismatch, tradeId: trade.id, transaction: paymentAttempt(event, state, 'unverified') };
    const earlier = recorded('completed', reference);
    if (earlier !== undefined) {
      const detail = `trade ${trade.id} was already paid by internal reference ${earlier}; ${reference} is a second payment: refund it`;
      return { outcome: 'rejected', reason: 'duplicate_payment', detail, tradeId: trade.id, transaction: paymentAttempt(event, state, 'unapplied') };
    }
    if (isTerminal(trade.status)) {
      const action = trade.status === 'completed' ? 'reconcile it with the trade' : 'refund or reopen';
      const detail = `money was received for trade ${trade.id} which is ${trade.status}: ${action}`;
      return { outcome: 'rejected', reason: 'payment_after_terminal', detail, tradeId: trade.id, transaction: paymentAttempt(event, state, 'unapplied') };
    }
    const unverified = recorded('unverified', reference);
    if (unverified !== undefined) {
      const detail = `trade ${trade.id} has a payment under internal reference ${unverified} whose amount could not be verified; ${reference} is a second payment: refund one of them`;
      return { outcome: 'rejected', reason: 'duplicate_payment', detail, tradeId: trade.id, transaction: paymentAttempt(event, state, 'unapplied') };
    }
    return apply(event, state, 'processing', paymentAttempt(event, state, 'completed'));
  }
  const paid = recorded('completed');
  // The attempt that brought the money keeps its record even if a failure is reported for it later.
  const transaction = paymentAttempt(event, state, 'failed');
  if (paid !== undefined) {
    const detail = `trade ${trade.id} was paid by internal reference ${paid}; the failed attempt ${reference} does not fail it`;
    return { outcome: 'stale', reason: 'payment_already_received', detail, tradeId: trade.id, transaction };
  }
  if (!canTransition(trade.status, 'failed')) {
    return { outcome: 'stale', reason: 'transition_not_allowed', detail: `trade is ${trade.status}; failed not applied`, tradeId: trade.id, transaction };
  }
  return apply(event, state, 'failed', transaction);
}

/**
 * What one event does to its trade, as the earlier events of the same transaction left it,
 * after the claim and the lock: the type and amount checks, the transition, and the trade's new
 * state. Mutates `state` when the event changes it. Pure: the SQL is the caller's.
 */
export function effectOf(event: AcceptedEvent, state: TradeState | undefined): Effect {
  const { envelope, payload } = event;
  if (!state) {
    const detail = envelope.webhook_type === 'relworx_payment' ? `no trade with reference ${payload.customer_reference}` : `no trade ${payload.trade_id}`;
    return { outcome: 'rejected', reason: 'trade_not_found', detail };
  }
  const trade = state.row;
  const requiredType = TRADE_TYPE_OF[envelope.webhook_type];
  if (requiredType && trade.trade_type !== requiredType) {
    const detail = `${envelope.webhook_type} webhook for ${trade.trade_type} trade ${trade.id}`;
    // Relworx signed that money was received for this trade's reference: recorded, never only dead-lettered.
    const received = envelope.webhook_type === 'relworx_payment' && payload.status === 'success';
    return { outcome: 'rejected', reason: 'type_mismatch', detail, tradeId: trade.id, transaction: received ? paymentAttempt(event, state, 'unverified') : undefined };
  }
  if (envelope.webhook_type === 'relworx_payment') return relworxEffect(event, state);

  const amountField = REPORTED_AMOUNT_OF[envelope.webhook_type];
  const reported = amountField ? payload[amountField] ?? null : null;
  const agreed = amountField ? trade[amountField] : null;
  if (reported !== null && agreed !== null && normalizeDecimal(reported) !== normalizeDecimal(agreed)) {
    const detail = `${envelope.webhook_type} reports ${amountField} ${reported}; trade ${trade.id} agreed ${normalizeDecimal(agreed)}`;
    return { outcome: 'rejected', reason: 'amount_mismatch', detail, tradeId: trade.id };
  }
  const status = payload.status as TradeStatus;
  if (!canTransition(trade.status, status)) {
    return { outcome: 'stale', reason: 'transition_not_allowed', detail: `trade is ${trade.status}; ${status} not applied`, tradeId: trade.id };
  }
  // A trade with no agreed amount takes the one its completion reports.
  if (amountField && reported !== null && agreed === null) trade[amountField] = reported;
  return apply(event, state, status, completionTransaction(event, trade, status));
}
