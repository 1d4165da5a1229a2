import type { Knex } from 'knex';
import type { DecodedEvent } from './decode-event';
import type { RejectionReason } from './errors';
import { effectOf, mergedPatch, type Effect, type Notification, type TradeRow, type TradeState, type TransactionChange } from './trade-effects';

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
  /** An applied change's notification, as written to the outbox (committed with the change). */
  readonly notification?: OutboxEntry;
}

export interface OutboxEntry {
  readonly id: string;
  readonly messageKey: string;
  readonly payload: Notification;
}

/** Column arrays bound as PostgreSQL arrays (`unnest(?::text[], ...)`): knex's types do not know nullable arrays. */
const arrays = (...columns: unknown[][]): Knex.RawBinding[] => columns as unknown as Knex.RawBinding[];

const eventIdOf = (event: DecodedEvent): string => (event.ok ? event.envelope.event_id : event.eventId);
const typeOf = (event: DecodedEvent): string => (event.ok ? event.envelope.webhook_type : event.webhookType);

interface Claim {
  inserted: boolean;
  previous: string;
}

/**
 * Step 1 for the whole chunk in one statement: the primary key is the dedupe. New events insert
 * their row; a repeated one adds to the existing row's delivery count (taking its row lock, so
 * a concurrent twin waits for the first to commit) and says what happened to it before.
 */
async function claim(trx: Knex.Transaction, events: DecodedEvent[], deliveries: Map<string, number>): Promise<Map<string, Claim>> {
  const columns = {
    event_id: [] as string[],
    webhook_type: [] as string[],
    trade_id: [] as Array<number | null>,
    trade_reference: [] as Array<string | null>,
    body: [] as string[],
    topic: [] as string[],
    partition: [] as number[],
    offset: [] as string[],
    received_at: [] as Array<number | null>,
    deliveries: [] as number[],
  };
  for (const event of events) {
    const relworx = event.ok && event.envelope.webhook_type === 'relworx_payment';
    columns.event_id.push(eventIdOf(event));
    columns.webhook_type.push(typeOf(event));
    columns.trade_id.push(event.ok && !relworx ? (event.payload.trade_id as number) : null);
    columns.trade_reference.push(relworx ? (event.payload.customer_reference as string) : null);
    columns.body.push(event.ok ? event.envelope.body : event.body);
    columns.topic.push(event.source.topic);
    columns.partition.push(event.source.partition);
    columns.offset.push(event.source.offset);
    columns.received_at.push(event.ok ? event.envelope.received_at : (event.envelope?.received_at ?? null));
    columns.deliveries.push(deliveries.get(eventIdOf(event))!);
  }
  const { rows } = await trx.raw<{ rows: Array<{ event_id: string; outcome: string; inserted: boolean }> }>(
    `insert into webhook_events (event_id, webhook_type, trade_id, trade_reference, outcome, body, topic, partition, "offset", received_at, deliveries)
     select e.event_id, e.webhook_type, e.trade_id, e.trade_reference, 'applied', e.body, e.topic, e.partition, e.offset,
            to_timestamp(e.received_at / 1000), e.deliveries
     from unnest(?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::int[], ?::bigint[], ?::double precision[], ?::int[])
       as e(event_id, webhook_type, trade_id, trade_reference, body, topic, partition, "offset", received_at, deliveries)
     on conflict (event_id) do update
       set deliveries = webhook_events.deliveries + excluded.deliveries, last_seen_at = now()
     returning event_id, outcome, (xmax = 0) as inserted`,
    arrays(...Object.values(columns)),
  );
  return new Map(rows.map((row) => [row.event_id, { inserted: row.inserted, previous: row.outcome }]));
}

/** Step 2: every trade the chunk touches, locked in id order (one order for every transaction: fewer deadlocks). */
async function lockTrades(trx: Knex.Transaction, events: DecodedEvent[]): Promise<{ byId: Map<string, TradeState>; byReference: Map<string, TradeState> }> {
  const ids = new Set<number>();
  const references = new Set<string>();
  for (const event of events) {
    if (!event.ok) continue;
    if (event.envelope.webhook_type === 'relworx_payment') references.add(event.payload.customer_reference as string);
    else ids.add(event.payload.trade_id as number);
  }
  const { rows } = await trx.raw<{ rows: TradeRow[] }>(
    `select id, reference, user_id, trade_type, status, crypto_amount, crypto_currency, fiat_amount, fiat_currency
     from trades where id = any(?::bigint[]) or reference = any(?::text[]) order by id for update`,
    arrays([...ids], [...references]),
  );
  const byId = new Map<string, TradeState>();
  const byReference = new Map<string, TradeState>();
  for (const row of rows) {
    const state: TradeState = { row, changed: false, patches: [], completedAt: null, failedAt: null };
    byId.set(row.id, state);
    byReference.set(row.reference, state);
  }
  return { byId, byReference };
}

async function updateTrades(trx: Knex.Transaction, states: TradeState[]): Promise<void> {
  if (states.length === 0) return;
  await trx.raw(
    `update trades t set
       status = v.status,
       crypto_amount = v.crypto_amount,
       fiat_amount = v.fiat_amount,
       metadata = coalesce(t.metadata, '{}'::jsonb) || v.patch,
       completed_at = coalesce(to_timestamp(v.completed_at / 1000), t.completed_at),
       failed_at = coalesce(to_timestamp(v.failed_at / 1000), t.failed_at),
       updated_at = now()
     from unnest(?::bigint[], ?::text[], ?::numeric[], ?::numeric[], ?::jsonb[], ?::double precision[], ?::double precision[])
       as v(id, status, crypto_amount, fiat_amount, patch, completed_at, failed_at)
     where t.id = v.id`,
    arrays(
      states.map((state) => state.row.id),
      states.map((state) => state.row.status),
      states.map((state) => state.row.crypto_amount),
      states.map((state) => state.row.fiat_amount),
      states.map((state) => mergedPatch(state.patches)),
      states.map((state) => state.completedAt),
      states.map((state) => state.failedAt),
    ),
  );
}

const TRANSACTION_COLUMNS = ['transaction_hash', 'payment_reference', 'provider', 'provider_reference', 'customer_reference', 'msisdn', 'amount', 'currency'] as const;

/** One upsert for the chunk; changes to the same transaction were merged first (a statement may touch a row once). */
async function upsertTransactions(trx: Knex.Transaction, changes: TransactionChange[]): Promise<void> {
  const merged = new Map<string, TransactionChange>();
  for (const change of changes) {
    const key = `${change.trade_id}:${change.kind}`;
    const previous = merged.get(key);
    const defined = Object.fromEntries(Object.entries(change).filter(([, value]) => value !== null && value !== undefined));
    merged.set(key, previous ? { ...previous, ...defined } : change);
  }
  if (merged.size === 0) return;
  const rows = [...merged.values()];
  const column = (name: keyof TransactionChange) => rows.map((row) => (row[name] as string | null | undefined) ?? null);
  await trx.raw(
    `insert into transactions (trade_id, kind, status, ${TRANSACTION_COLUMNS.join(', ')}, metadata)
     select v.trade_id, v.kind, v.status, ${TRANSACTION_COLUMNS.map((name) => `v.${name}`).join(', ')}, coalesce(v.metadata, '{}'::jsonb)
     from unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::numeric[], ?::text[], ?::jsonb[])
       as v(trade_id, kind, status, ${TRANSACTION_COLUMNS.join(', ')}, metadata)
     on conflict (trade_id, kind) do update set
       status = excluded.status,
       ${TRANSACTION_COLUMNS.map((name) => `${name} = coalesce(excluded.${name}, transactions.${name})`).join(',\n       ')},
       metadata = coalesce(transactions.metadata, '{}'::jsonb) || excluded.metadata,
       updated_at = now()`,
    arrays(column('trade_id'), column('kind'), column('status'), ...TRANSACTION_COLUMNS.map(column), column('metadata')),
  );
}

async function insertOutbox(trx: Knex.Transaction, topic: string, notifications: Notification[]): Promise<Map<string, OutboxEntry>> {
  if (notifications.length === 0) return new Map();
  const { rows } = await trx.raw<{ rows: Array<{ id: string; event_id: string }> }>(
    `insert into outbox (event_id, topic, message_key, payload)
     select v.event_id, ?, v.message_key, v.payload from unnest(?::text[], ?::text[], ?::jsonb[]) as v(event_id, message_key, payload)
     on conflict (event_id) do nothing
     returning id, event_id`,
    [topic, ...arrays(notifications.map((n) => n.event_id), notifications.map((n) => String(n.user_id)), notifications.map((n) => JSON.stringify(n)))],
  );
  const byEventId = new Map(notifications.map((notification) => [notification.event_id, notification]));
  return new Map(rows.map((row) => [row.event_id, { id: row.id, messageKey: String(byEventId.get(row.event_id)!.user_id), payload: byEventId.get(row.event_id)! }]));
}

/** The final outcome of the rows that are not what the claim wrote (an applied event with its trade id). */
async function settle(trx: Knex.Transaction, settled: Array<{ eventId: string; outcome: string; reason: string | null; tradeId: number | null }>): Promise<void> {
  if (settled.length === 0) return;
  await trx.raw(
    `update webhook_events w set outcome = v.outcome, reason = v.reason, trade_id = coalesce(v.trade_id, w.trade_id), processed_at = now()
     from unnest(?::text[], ?::text[], ?::text[], ?::bigint[]) as v(event_id, outcome, reason, trade_id)
     where w.event_id = v.event_id`,
    arrays(settled.map((s) => s.eventId), settled.map((s) => s.outcome), settled.map((s) => s.reason), settled.map((s) => s.tradeId)),
  );
}

/**
 * Applies the events of one partition chunk, in offset order, inside the caller's transaction,
 * with a fixed number of statements whatever the chunk's size: claim, lock, then one write per
 * table. Later events of the chunk see the trade as the earlier ones left it.
 */
export async function applyChunk(trx: Knex.Transaction, events: DecodedEvent[], notificationsTopic: string): Promise<ApplyResult[]> {
  // A chunk may carry the same event twice (a sender's retry): the first is the event, the rest duplicates.
  const deliveries = new Map<string, number>();
  const primary: DecodedEvent[] = [];
  for (const event of events) {
    const id = eventIdOf(event);
    const seen = deliveries.get(id);
    deliveries.set(id, (seen ?? 0) + 1);
    if (seen === undefined) primary.push(event);
  }
  const claims = await claim(trx, primary, deliveries);
  const toProcess = primary.filter((event) => {
    const { inserted, previous } = claims.get(eventIdOf(event))!;
    return inserted || previous === 'rejected';
  });
  const { byId, byReference } = await lockTrades(trx, toProcess);

  const effects = new Map<string, Effect>();
  for (const event of toProcess) {
    let effect: Effect;
    if (!event.ok) effect = { outcome: 'rejected', reason: event.reason, detail: event.detail };
    else {
      const relworx = event.envelope.webhook_type === 'relworx_payment';
      const state = relworx ? byReference.get(event.payload.customer_reference as string) : byId.get(String(event.payload.trade_id));
      effect = effectOf(event, state);
    }
    effects.set(eventIdOf(event), effect);
  }

  const applied = [...effects.values()].filter((effect): effect is Extract<Effect, { outcome: 'applied' }> => effect.outcome === 'applied');
  await updateTrades(trx, [...byId.values()].filter((state) => state.changed));
  await upsertTransactions(trx, applied.flatMap((effect) => (effect.transaction ? [effect.transaction] : [])));
  const outbox = await insertOutbox(trx, notificationsTopic, applied.map((effect) => effect.notification));
  await settle(
    trx,
    toProcess.flatMap((event) => {
      const id = eventIdOf(event);
      const effect = effects.get(id)!;
      const { inserted } = claims.get(id)!;
      const relworx = event.ok && event.envelope.webhook_type === 'relworx_payment';
      if (effect.outcome === 'applied' && inserted && !relworx) return [];
      const reason = effect.outcome === 'rejected' ? `${effect.reason}: ${effect.detail}` : effect.outcome === 'stale' ? effect.reason : null;
      return [{ eventId: id, outcome: effect.outcome, reason, tradeId: effect.tradeId ?? null }];
    }),
  );

  const seen = new Set<string>();
  return events.map((event) => {
    const eventId = eventIdOf(event);
    const base = { eventId, webhookType: typeOf(event) };
    const effect = effects.get(eventId);
    if (seen.has(eventId) || !effect) {
      seen.add(eventId);
      return { ...base, outcome: 'duplicate' as const, tradeId: event.ok ? ((event.payload.trade_id as number | null) ?? undefined) : undefined };
    }
    seen.add(eventId);
    switch (effect.outcome) {
      case 'rejected':
        return { ...base, outcome: 'rejected' as const, reason: effect.reason, detail: effect.detail, tradeId: effect.tradeId };
      case 'stale':
        return { ...base, outcome: 'stale' as const, tradeId: effect.tradeId };
      case 'applied':
        return { ...base, outcome: 'applied' as const, tradeId: effect.tradeId, message: effect.message, notification: outbox.get(eventId) };
    }
  });
}
