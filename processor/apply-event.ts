import type { Knex } from 'knex';
import type { WebhookPayload } from '../schemas/payload-validation';
import type { DecodedEvent, EventSource, WebhookEventEnvelope } from './decode-event';
import { normalizeDecimal } from './decimal-compare';
import type { RejectionReason } from './errors';
import { canTransition, type TradeStatus } from './trade-status';

export type Outcome = 'applied' | 'stale' | 'rejected' | 'duplicate';

export interface ApplyResult {
  readonly outcome: Outcome;
  readonly eventId: string;
  readonly webhookType: string;
  readonly tradeId?: number;
  readonly reason?: RejectionReason;
  readonly detail?: string;
  /** The seed's log line for an applied change (`Buy trade 123 completed via webhook`). */
  readonly message?: string;
}

interface TradeRow {
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

type AcceptedEvent = Extract<DecodedEvent, { ok: true }>;

/**
 * Step 1: the primary key is the dedupe. A new event inserts its row; a repeated one updates
 * the existing row's delivery count (taking its row lock, so a concurrent twin waits for the
 * first to commit) and tells us what happened to it before.
 */
async function claimEvent(
  trx: Knex.Transaction,
  row: { eventId: string; webhookType: string; tradeId: number | null; tradeReference: string | null; body: string; source: EventSource; receivedAt: number | null },
): Promise<{ inserted: boolean; previous: string }> {
  const { rows } = await trx.raw<{ rows: Array<{ outcome: string; inserted: boolean }> }>(
    `insert into webhook_events (event_id, webhook_type, trade_id, trade_reference, outcome, body, topic, partition, "offset", received_at)
     values (?, ?, ?, ?, 'applied', ?, ?, ?, ?, to_timestamp(?::double precision / 1000))
     on conflict (event_id) do update set deliveries = webhook_events.deliveries + 1, last_seen_at = now()
     returning outcome, (xmax = 0) as inserted`,
    [row.eventId, row.webhookType, row.tradeId, row.tradeReference, row.body, row.source.topic, row.source.partition, row.source.offset, row.receivedAt],
  );
  return { inserted: rows[0]!.inserted, previous: rows[0]!.outcome };
}

async function settleEvent(trx: Knex.Transaction, eventId: string, outcome: Exclude<Outcome, 'duplicate'>, fields: { reason?: string; tradeId?: number }): Promise<void> {
  await trx.raw(
    `update webhook_events set outcome = ?, reason = ?, trade_id = coalesce(?, trade_id), processed_at = now() where event_id = ?`,
    [outcome, fields.reason ?? null, fields.tradeId ?? null, eventId],
  );
}

/** Records an event that could not be read or validated. A replay of a rejected one updates its row. */
export async function recordRejection(trx: Knex.Transaction, event: Extract<DecodedEvent, { ok: false }>): Promise<ApplyResult> {
  const claim = await claimEvent(trx, {
    eventId: event.eventId,
    webhookType: event.webhookType,
    tradeId: null,
    tradeReference: null,
    body: event.body,
    source: event.source,
    receivedAt: event.envelope?.received_at ?? null,
  });
  if (!claim.inserted && claim.previous !== 'rejected') return { outcome: 'duplicate', eventId: event.eventId, webhookType: event.webhookType };
  const reason = `${event.reason}: ${event.detail}`;
  await settleEvent(trx, event.eventId, 'rejected', { reason });
  return { outcome: 'rejected', eventId: event.eventId, webhookType: event.webhookType, reason: event.reason, detail: event.detail };
}

const TRADE_TYPE_OF: Record<string, 'buy' | 'sell' | undefined> = {
  buy_completion: 'buy',
  sell_completion: 'sell',
  relworx_payment: 'buy',
  trade_status: undefined,
};

function nextStatus(webhookType: string, payload: WebhookPayload): TradeStatus {
  if (webhookType === 'relworx_payment') return payload.status === 'success' ? 'processing' : 'failed';
  return payload.status as TradeStatus;
}

function capitalized(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function seedMessage(webhookType: string, trade: TradeRow, status: TradeStatus): string {
  if (webhookType === 'relworx_payment') {
    return status === 'failed' ? `Relworx payment failed for trade ${trade.id}` : `Relworx payment received for trade ${trade.id}`;
  }
  if (webhookType === 'trade_status') return `Trade ${trade.id} status updated to ${status} via webhook`;
  return `${capitalized(trade.trade_type)} trade ${trade.id} ${status} via webhook`;
}

/** What the webhook adds to the trade's metadata: where the change came from, and its references. */
function metadataPatch(event: AcceptedEvent): Record<string, unknown> {
  const { envelope, payload } = event;
  const patch: Record<string, unknown> = {
    last_webhook: { event_id: envelope.event_id, webhook_type: envelope.webhook_type, status: payload.status, received_at: new Date(envelope.received_at).toISOString() },
  };
  if (payload.transaction_hash) patch.transaction_hash = payload.transaction_hash;
  if (payload.payment_reference) patch.payment_reference = payload.payment_reference;
  if (envelope.webhook_type === 'relworx_payment') patch.relworx = { internal_reference: payload.internal_reference, provider: payload.provider, msisdn: payload.msisdn };
  return patch;
}

async function updateTransaction(trx: Knex.Transaction, event: AcceptedEvent, trade: TradeRow, status: TradeStatus): Promise<void> {
  const { payload, envelope } = event;
  const transactionStatus = status === 'processing' ? 'completed' : status;
  const base = { trade_id: trade.id, status: transactionStatus };
  let row: Record<string, Knex.Value | undefined>;
  switch (envelope.webhook_type) {
    case 'buy_completion':
      row = { ...base, kind: 'crypto_transfer', transaction_hash: payload.transaction_hash, amount: payload.crypto_amount ?? trade.crypto_amount, currency: trade.crypto_currency };
      break;
    case 'sell_completion':
      row = { ...base, kind: 'fiat_payment', payment_reference: payload.payment_reference, amount: payload.fiat_amount ?? trade.fiat_amount, currency: trade.fiat_currency };
      break;
    case 'relworx_payment':
      row = {
        ...base,
        kind: 'mobile_money',
        status: payload.status === 'success' ? 'completed' : 'failed',
        provider: payload.provider,
        provider_reference: payload.internal_reference,
        customer_reference: payload.customer_reference,
        msisdn: payload.msisdn,
        amount: payload.amount,
        currency: payload.currency ?? trade.fiat_currency,
        metadata: JSON.stringify({ charge: payload.charge, message: payload.message, completed_at: payload.completed_at }),
      };
      break;
    default:
      return;
  }
  const columns = Object.keys(row).filter((column) => row[column] !== undefined && row[column] !== null);
  const updates = columns.filter((column) => column !== 'trade_id' && column !== 'kind');
  await trx.raw(
    `insert into transactions (${columns.map(() => '??').join(', ')}) values (${columns.map(() => '?').join(', ')})
     on conflict (trade_id, kind) do update set ${updates.map(() => '?? = excluded.??').join(', ')}, updated_at = now()`,
    [...columns, ...columns.map((column) => row[column] as Knex.Value), ...updates.flatMap((column) => [column, column])],
  );
}

/** A numeric(38,18) as the shortest exact text: `0.001000000000000000` → `0.001`. */
function amountText(value: string | null): string | null {
  return value === null ? null : normalizeDecimal(value);
}

/**
 * Steps 2–5 of the design for one event, inside the caller's transaction: lock the trade, check
 * type and transition, update the trade and its transaction, write the notification to the outbox.
 */
export async function applyEvent(trx: Knex.Transaction, event: AcceptedEvent, notificationsTopic: string): Promise<ApplyResult> {
  const { envelope, payload } = event;
  const isRelworx = envelope.webhook_type === 'relworx_payment';
  const tradeId = isRelworx ? null : (payload.trade_id as number);
  const reference = isRelworx ? (payload.customer_reference as string) : null;
  const base = { eventId: envelope.event_id, webhookType: envelope.webhook_type };

  const claim = await claimEvent(trx, {
    eventId: envelope.event_id,
    webhookType: envelope.webhook_type,
    tradeId,
    tradeReference: reference,
    body: envelope.body,
    source: event.source,
    receivedAt: envelope.received_at,
  });
  if (!claim.inserted && claim.previous !== 'rejected') return { ...base, outcome: 'duplicate', tradeId: tradeId ?? undefined };

  const reject = async (reason: RejectionReason, detail: string, id?: number): Promise<ApplyResult> => {
    await settleEvent(trx, envelope.event_id, 'rejected', { reason: `${reason}: ${detail}`, tradeId: id });
    return { ...base, outcome: 'rejected', reason, detail, tradeId: id };
  };

  const { rows } = await trx.raw<{ rows: TradeRow[] }>(
    `select id, reference, user_id, trade_type, status, crypto_amount, crypto_currency, fiat_amount, fiat_currency
     from trades where ${isRelworx ? 'reference' : 'id'} = ? for update`,
    [isRelworx ? reference : tradeId],
  );
  const trade = rows[0];
  if (!trade) return reject('trade_not_found', isRelworx ? `no trade with reference ${reference}` : `no trade ${tradeId}`);
  const id = Number(trade.id);

  const requiredType = TRADE_TYPE_OF[envelope.webhook_type];
  if (requiredType && trade.trade_type !== requiredType) {
    return reject('type_mismatch', `${envelope.webhook_type} webhook for ${trade.trade_type} trade ${trade.id}`, id);
  }
  if (isRelworx && payload.amount !== null && trade.fiat_amount !== null && normalizeDecimal(payload.amount as string) !== normalizeDecimal(trade.fiat_amount)) {
    return reject('amount_mismatch', `Relworx amount ${payload.amount} differs from trade amount ${normalizeDecimal(trade.fiat_amount)}`, id);
  }
  if (isRelworx && payload.currency !== null && trade.fiat_currency !== null && payload.currency !== trade.fiat_currency) {
    return reject('amount_mismatch', `Relworx currency ${payload.currency} differs from trade currency ${trade.fiat_currency}`, id);
  }

  const status = nextStatus(envelope.webhook_type, payload);
  if (!canTransition(trade.status, status)) {
    await settleEvent(trx, envelope.event_id, 'stale', { reason: `trade is ${trade.status}; ${status} not applied`, tradeId: id });
    return { ...base, outcome: 'stale', tradeId: id };
  }

  const { rows: updated } = await trx.raw<{ rows: TradeRow[] }>(
    `update trades set
       status = ?,
       metadata = metadata || ?::jsonb || ?::jsonb,
       crypto_amount = coalesce(?::numeric, crypto_amount),
       fiat_amount = coalesce(?::numeric, fiat_amount),
       completed_at = case when ? = 'completed' then to_timestamp(?::double precision / 1000) else completed_at end,
       failed_at = case when ? = 'failed' then to_timestamp(?::double precision / 1000) else failed_at end,
       updated_at = now()
     where id = ?
     returning id, reference, user_id, trade_type, status, crypto_amount, crypto_currency, fiat_amount, fiat_currency`,
    [
      status,
      (payload.metadata as string | null) ?? '{}',
      JSON.stringify(metadataPatch(event)),
      isRelworx ? null : payload.crypto_amount ?? null,
      isRelworx ? null : payload.fiat_amount ?? null,
      status,
      envelope.received_at,
      status,
      envelope.received_at,
      trade.id,
    ],
  );
  const after = updated[0]!;
  await updateTransaction(trx, event, after, status);

  const notification = {
    event_id: envelope.event_id,
    user_id: Number(after.user_id),
    trade_id: id,
    status: after.status,
    trade_type: after.trade_type,
    crypto_amount: amountText(after.crypto_amount),
    crypto_currency: after.crypto_currency,
    fiat_amount: amountText(after.fiat_amount),
    fiat_currency: after.fiat_currency,
    occurred_at: envelope.received_at,
  };
  await trx.raw(`insert into outbox (event_id, topic, message_key, payload) values (?, ?, ?, ?::jsonb) on conflict (event_id) do nothing`, [
    envelope.event_id,
    notificationsTopic,
    String(after.user_id),
    JSON.stringify(notification),
  ]);
  if (!claim.inserted || isRelworx) await settleEvent(trx, envelope.event_id, 'applied', { tradeId: id });
  return { ...base, outcome: 'applied', tradeId: id, message: seedMessage(envelope.webhook_type, after, status) };
}

export type { WebhookEventEnvelope };
