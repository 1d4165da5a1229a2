import type { Knex } from 'knex';
import { claimEvents, deliveryOf, eventIdOf, isRelworx, rolesInChunk, storedIdentities, tradeIdOf, tradeReferenceOf, typeOf } from './claim-events';
import type { DecodedEvent } from './decode-event';
import type { TraceHeaders } from '../platform/trace-context';
import type { RejectionReason } from './errors';
import { arrays } from './sql-arrays';
import {
  ATTEMPT_STATUSES,
  MONEY_RECORDED_RANK,
  attemptRank,
  effectOf,
  type Effect,
  type Notification,
  type StaleReason,
  type TradeRow,
  type TradeState,
  type TransactionChange,
} from './trade-effects';

export type Outcome = 'applied' | 'stale' | 'rejected' | 'duplicate';

export interface ApplyResult {
  readonly outcome: Outcome;
  readonly eventId: string;
  readonly webhookType: string;
  /** The trade's id as decimal text (a bigint). */
  readonly tradeId?: string;
  /** A stable code: why the event was rejected, or why a stale one changed nothing. */
  readonly reason?: RejectionReason | StaleReason;
  readonly detail?: string;
  /**
   * The log line for an applied change (`Buy trade 123 completed via webhook`), worded as the
   * service this one replaced worded it, because operators search for that text.
   */
  readonly message?: string;
  /** An applied change's notification, as written to the outbox (committed with the change). */
  readonly notification?: OutboxEntry;
  /**
   * A rejection its DLQ copy already holds: a replay from the DLQ of money the trade cannot take,
   * rejected again for the same reason and detail. Copying it again would show the same money
   * twice to whoever refunds it.
   */
  readonly alreadyDeadLettered?: boolean;
}

/** Rejections whose money is recorded and whose fix is outside the processor: a replay changes them only once the trade changed. */
const MONEY_NOT_TAKEN: ReadonlySet<string> = new Set<RejectionReason>(['payment_after_terminal', 'duplicate_payment']);

export interface OutboxEntry {
  readonly id: string;
  readonly messageKey: string;
  readonly payload: Notification;
  /** The trace context of the event that wrote it (see EventSource.trace), for the notification's headers. */
  readonly traceparent?: string;
  readonly tracestate?: string;
}

/**
 * The lock, after the claim: every trade the chunk touches, locked in id order (one order for
 * every transaction: fewer deadlocks), with the mobile-money attempts of those a Relworx
 * callback touches.
 */
async function lockTrades(trx: Knex.Transaction, events: DecodedEvent[]): Promise<{ byId: Map<string, TradeState>; byReference: Map<string, TradeState> }> {
  const ids = new Set<string>();
  const references = new Set<string>();
  for (const event of events) {
    const id = tradeIdOf(event);
    const reference = tradeReferenceOf(event);
    if (id !== null) ids.add(id);
    if (reference !== null) references.add(reference);
  }
  const { rows } = await trx.raw<{ rows: TradeRow[] }>(
    `select id, reference, user_id, trade_type, status, crypto_amount, crypto_currency, fiat_amount, fiat_currency
     from trades where id = any(?::bigint[]) or reference = any(?::text[]) order by id for update`,
    arrays([...ids], [...references]),
  );
  const byId = new Map<string, TradeState>();
  const byReference = new Map<string, TradeState>();
  for (const row of rows) {
    const state: TradeState = { row, changed: false, patches: [], completedAt: null, failedAt: null, payments: new Map() };
    byId.set(row.id, state);
    byReference.set(row.reference, state);
  }
  const paying = [...references].flatMap((reference) => byReference.get(reference)?.row.id ?? []);
  if (paying.length > 0) {
    const attempts = await trx.raw<{ rows: Array<{ trade_id: string; provider_reference: string; status: string }> }>(
      `select trade_id, provider_reference, status from transactions
       where kind = 'mobile_money' and trade_id = any(?::bigint[]) and provider_reference is not null order by id`,
      arrays(paying),
    );
    for (const attempt of attempts.rows) byId.get(attempt.trade_id)!.payments.set(attempt.provider_reference, attempt.status);
  }
  return { byId, byReference };
}

/** Metadata patches are merged with jsonb `||` one after the other, so every key is kept as sent (`__proto__` too). */
async function updateTrades(trx: Knex.Transaction, states: TradeState[]): Promise<void> {
  if (states.length === 0) return;
  await trx.raw(
    `update trades t set
       status = v.status,
       crypto_amount = v.crypto_amount,
       fiat_amount = v.fiat_amount,
       metadata = (
         with recursive merged(step, metadata) as (
           select 0, coalesce(t.metadata, '{}'::jsonb)
           union all
           select step + 1, metadata || (v.patches -> step) from merged where step < jsonb_array_length(v.patches)
         )
         select metadata from merged order by step desc limit 1
       ),
       completed_at = coalesce(to_timestamp(v.completed_at / 1000), t.completed_at),
       failed_at = coalesce(to_timestamp(v.failed_at / 1000), t.failed_at),
       updated_at = now()
     from unnest(?::bigint[], ?::text[], ?::numeric[], ?::numeric[], ?::jsonb[], ?::double precision[], ?::double precision[])
       as v(id, status, crypto_amount, fiat_amount, patches, completed_at, failed_at)
     where t.id = v.id`,
    arrays(
      states.map((state) => state.row.id),
      states.map((state) => state.row.status),
      states.map((state) => state.row.crypto_amount),
      states.map((state) => state.row.fiat_amount),
      // The patches are JSON texts already: joined as a JSON array, their numbers stay exact.
      states.map((state) => `[${state.patches.join(',')}]`),
      states.map((state) => state.completedAt),
      states.map((state) => state.failedAt),
    ),
  );
}

const TRANSACTION_COLUMNS = ['transaction_hash', 'payment_reference', 'provider', 'provider_reference', 'customer_reference', 'msisdn', 'amount', 'currency'] as const;

/** `attemptRank` in SQL, so that the table applies the same order as the chunk in memory. */
const sqlAttemptRank = (status: string): string =>
  `(case ${status} ${ATTEMPT_STATUSES.map((name, rank) => `when '${name}' then ${rank}`).join(' ')} else ${ATTEMPT_STATUSES.length} end)`;

/**
 * The transactions of the chunk, in two upserts whatever its size: the crypto transfer and the
 * fiat payout are one row per trade, each mobile-money attempt is a row of its own (its
 * internal reference). Changes to the same row were merged first (a statement may touch a row
 * once). An attempt's row only moves up in rank (`ATTEMPT_STATUSES`): a row that records money
 * changes only to a higher rank (money the trade did not take becomes its payment when it is
 * reopened), never by a report of the same or a lower one. An attempt recorded again unchanged
 * (a rejected event replayed) is not written at all.
 */
async function upsertTransactions(trx: Knex.Transaction, changes: TransactionChange[]): Promise<void> {
  const merged = new Map<string, TransactionChange>();
  for (const change of changes) {
    const key = JSON.stringify(change.kind === 'mobile_money' ? [change.trade_id, change.kind, change.provider_reference] : [change.trade_id, change.kind]);
    const previous = merged.get(key);
    if (previous?.kind === 'mobile_money') {
      const [before, after] = [attemptRank(previous.status), attemptRank(change.status)];
      if (after < before || (after === before && before >= MONEY_RECORDED_RANK)) continue;
    }
    const defined = Object.fromEntries(Object.entries(change).filter(([, value]) => value !== null && value !== undefined));
    merged.set(key, previous ? { ...previous, ...defined } : change);
  }
  const rows = [...merged.values()];
  const perTrade = rows.filter((row) => row.kind !== 'mobile_money');
  const attempts = rows.filter((row) => row.kind === 'mobile_money');
  const insert = (batch: TransactionChange[]) => {
    const column = (name: keyof TransactionChange) => batch.map((row) => row[name] ?? null);
    return {
      sql: `insert into transactions (trade_id, kind, status, ${TRANSACTION_COLUMNS.join(', ')}, metadata)
            select v.trade_id, v.kind, v.status, ${TRANSACTION_COLUMNS.map((name) => `v.${name}`).join(', ')}, coalesce(v.metadata, '{}'::jsonb)
            from unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::numeric[], ?::text[], ?::jsonb[])
              as v(trade_id, kind, status, ${TRANSACTION_COLUMNS.join(', ')}, metadata)`,
      bindings: arrays(column('trade_id'), column('kind'), column('status'), ...TRANSACTION_COLUMNS.map(column), column('metadata')),
    };
  };
  const kept = TRANSACTION_COLUMNS.map((name) => `coalesce(excluded.${name}, transactions.${name})`);
  const update = `status = excluded.status,
         ${TRANSACTION_COLUMNS.map((name, index) => `${name} = ${kept[index]}`).join(',\n         ')},
         metadata = transactions.metadata || excluded.metadata,
         updated_at = now()`;
  if (perTrade.length > 0) {
    const { sql, bindings } = insert(perTrade);
    await trx.raw(`${sql} on conflict (trade_id, kind) where kind <> 'mobile_money' do update set ${update}`, bindings);
  }
  if (attempts.length > 0) {
    const { sql, bindings } = insert(attempts);
    const [before, after] = [sqlAttemptRank('transactions.status'), sqlAttemptRank('excluded.status')];
    await trx.raw(
      `${sql}
       on conflict (trade_id, provider_reference) where kind = 'mobile_money' do update set ${update}
       where ${after} > ${before}
          or (${after} = ${before} and ${before} < ${MONEY_RECORDED_RANK}
              and (${kept.join(', ')}, transactions.metadata || excluded.metadata)
                is distinct from (${TRANSACTION_COLUMNS.map((name) => `transactions.${name}`).join(', ')}, transactions.metadata))`,
      bindings,
    );
  }
}

async function insertOutbox(trx: Knex.Transaction, topic: string, notifications: Notification[], traces: ReadonlyMap<string, TraceHeaders | undefined>): Promise<Map<string, OutboxEntry>> {
  if (notifications.length === 0) return new Map();
  const traceOf = (eventId: string): TraceHeaders => traces.get(eventId) ?? {};
  const { rows } = await trx.raw<{ rows: Array<{ id: string; event_id: string }> }>(
    `insert into outbox (event_id, topic, message_key, payload, traceparent, tracestate)
     select v.event_id, ?, v.message_key, v.payload, v.traceparent, v.tracestate
     from unnest(?::text[], ?::text[], ?::jsonb[], ?::text[], ?::text[]) as v(event_id, message_key, payload, traceparent, tracestate)
     on conflict (event_id) do nothing
     returning id, event_id`,
    [
      topic,
      ...arrays(
        notifications.map((n) => n.event_id),
        notifications.map((n) => n.user_id),
        notifications.map((n) => JSON.stringify(n)),
        notifications.map((n) => traceOf(n.event_id).traceparent ?? null),
        notifications.map((n) => traceOf(n.event_id).tracestate ?? null),
      ),
    ],
  );
  const byEventId = new Map(notifications.map((notification) => [notification.event_id, notification]));
  return new Map(rows.map((row) => [row.event_id, { id: row.id, messageKey: byEventId.get(row.event_id)!.user_id, payload: byEventId.get(row.event_id)!, ...traceOf(row.event_id) }]));
}

interface Settled {
  event: DecodedEvent;
  outcome: string;
  reason: string | null;
  detail: string | null;
  tradeId: string | null;
}

/**
 * The final outcome of the rows that are not what the claim wrote. A row describes the delivery
 * that decided its outcome: when a copy rejected earlier (a forged amount, a body that could not
 * be read) is followed by one that is processed, the row takes that one's body, source and trade.
 */
async function settle(trx: Knex.Transaction, settled: Settled[]): Promise<void> {
  if (settled.length === 0) return;
  const deliveries = settled.map(({ event }) => deliveryOf(event));
  await trx.raw(
    `update webhook_events w set outcome = v.outcome, reason = v.reason, reason_detail = v.detail,
       trade_id = coalesce(v.trade_id, w.trade_id), trade_reference = coalesce(v.trade_reference, w.trade_reference),
       body = v.body, topic = v.topic, partition = v.partition, "offset" = v.offset, received_at = to_timestamp(v.received_at / 1000), processed_at = now()
     from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::int[], ?::bigint[], ?::double precision[])
       as v(event_id, outcome, reason, detail, trade_id, trade_reference, body, topic, partition, "offset", received_at)
     where w.event_id = v.event_id`,
    arrays(
      settled.map((s) => eventIdOf(s.event)),
      settled.map((s) => s.outcome),
      settled.map((s) => s.reason),
      settled.map((s) => s.detail),
      settled.map((s) => s.tradeId ?? tradeIdOf(s.event)),
      settled.map((s) => tradeReferenceOf(s.event)),
      ...(['body', 'topic', 'partition', 'offset', 'receivedAt'] as const).map((field) => deliveries.map((delivery) => delivery[field])),
    ),
  );
}

/**
 * Applies the events of one partition chunk, in offset order, inside the caller's transaction,
 * with a fixed number of statements whatever the chunk's size: claim, lock, then one write per
 * table. Later events of the chunk see the trade as earlier ones left it.
 */
export async function applyChunk(trx: Knex.Transaction, events: DecodedEvent[], notificationsTopic: string): Promise<ApplyResult[]> {
  const { roles, deliveries } = rolesInChunk(events, await storedIdentities(trx, events));
  const primary = events.filter((_, index) => roles[index]!.kind === 'primary');
  const claims = await claimEvents(trx, primary, deliveries);
  const claimed = (event: DecodedEvent) => {
    const claim = claims.byId.get(eventIdOf(event));
    return claim !== undefined && (claim.inserted || claim.previous === 'rejected');
  };
  // A repeat of an event is processed again while that event stands rejected, as a later chunk
  // would: a callback rejected for a forged amount must not hide the genuine copy right behind it.
  const processable = events.filter((event, index) => roles[index]!.kind !== 'collision' && claimed(event));
  const { byId, byReference } = await lockTrades(trx, processable);

  const effects: Array<Effect | undefined> = [];
  const latest = new Map<string, { event: DecodedEvent; effect: Effect; primary: boolean }>();
  events.forEach((event, index) => {
    const id = eventIdOf(event);
    const role = roles[index]!.kind;
    const rejectedSoFar = latest.get(id)?.effect.outcome === 'rejected';
    if (role === 'collision' || !claimed(event) || (role === 'duplicate' && !rejectedSoFar)) return;
    let effect: Effect;
    if (!event.ok) effect = { outcome: 'rejected', reason: event.reason, detail: event.detail };
    else effect = effectOf(event, isRelworx(event) ? byReference.get(tradeReferenceOf(event)!) : byId.get(tradeIdOf(event)!));
    effects[index] = effect;
    latest.set(id, { event, effect, primary: role === 'primary' });
  });

  const computed = effects.filter((effect): effect is Effect => effect !== undefined);
  const applied = computed.filter((effect): effect is Extract<Effect, { outcome: 'applied' }> => effect.outcome === 'applied');
  await updateTrades(trx, [...byId.values()].filter((state) => state.changed));
  await upsertTransactions(trx, computed.flatMap((effect) => (effect.transaction ? [effect.transaction] : [])));
  const traces = new Map([...latest].map(([id, { event }]) => [id, event.source.trace]));
  const outbox = await insertOutbox(trx, notificationsTopic, applied.map((effect) => effect.notification), traces);
  await settle(
    trx,
    [...latest].flatMap(([id, { event, effect, primary }]) => {
      if (effect.outcome === 'applied' && claims.byId.get(id)!.inserted && primary && !isRelworx(event)) return [];
      const reason = effect.outcome === 'applied' ? null : effect.reason;
      const detail = effect.outcome === 'applied' ? null : effect.detail;
      return [{ event, outcome: effect.outcome, reason, detail, tradeId: effect.tradeId ?? null }];
    }),
  );

  return events.map((event, index): ApplyResult => {
    const eventId = eventIdOf(event);
    const base = { eventId, webhookType: typeOf(event), tradeId: tradeIdOf(event) ?? undefined };
    const role = roles[index]!;
    const collision = role.kind === 'collision' ? role.detail : claims.collisions.get(eventId);
    if (collision !== undefined) return { ...base, outcome: 'rejected', reason: 'event_id_collision', detail: collision };
    const effect = effects[index];
    if (!effect) return { ...base, outcome: 'duplicate' };
    switch (effect.outcome) {
      case 'rejected': {
        const before = claims.byId.get(eventId)!;
        const alreadyDeadLettered =
          event.source.replayOf === eventId && MONEY_NOT_TAKEN.has(effect.reason) && before.previous === 'rejected' && before.reason === effect.reason && before.detail === effect.detail;
        return { ...base, outcome: 'rejected', reason: effect.reason, detail: effect.detail, tradeId: effect.tradeId ?? base.tradeId, ...(alreadyDeadLettered ? { alreadyDeadLettered } : {}) };
      }
      case 'stale':
        return { ...base, outcome: 'stale', reason: effect.reason, detail: effect.detail, tradeId: effect.tradeId };
      case 'applied':
        return { ...base, outcome: 'applied', tradeId: effect.tradeId, message: effect.message, notification: outbox.get(eventId) };
    }
  });
}
