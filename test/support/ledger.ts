import type { Knex } from 'knex';
import type { Kafka } from 'kafkajs';
import { tradeChangeCount, tradeChangesInOrder, transactionRowChangesPerTrade } from './change-log';
import { testAdmin } from './kafka';
import type { TestTopics } from './processor';
import { readTopic } from './topic-reader';

/**
 * What one event does to its trade when it is applied, as anyone reading the wallet tables
 * would see it. Every part given must hold once the trade's stream is applied.
 */
export interface VisibleEffect {
  /** The trade's final status. */
  readonly status?: string;
  /** A top-level metadata key that only this event writes, and the text it holds. */
  readonly metadata?: { readonly key: string; readonly value: string };
  /** A row of the trade's `transactions` whose `column` holds `value`. */
  readonly transaction?: { readonly kind: string; readonly column: 'transaction_hash' | 'payment_reference' | 'provider_reference'; readonly value: string };
}

/** An event a sender sent, named by the sender (its key stays the same across retries and copies). */
export interface SentEvent {
  readonly key: string;
  readonly tradeId: number;
  readonly effect: VisibleEffect;
}

/** The final answer the sender got: its status (0: none at all) and, on a 2xx, the event id the receiver gave. */
export interface Answer {
  readonly status: number;
  readonly eventId?: string;
}

/**
 * What the senders were told, reconciled with what the system did, each figure measured
 * outside the processor: "applied" from the trades and transactions as they are, "double-applied"
 * from a change log that triggers of the test's own write, "redelivered" from the delivery counts
 * against the records in the topic.
 */
export interface LedgerSummary {
  scenario: string;
  sent: number;
  accepted: number;
  refused5xx: number;
  /** Senders that never got an answer (the connection failed on every attempt). */
  noAnswer: number;
  refused4xx: number;
  /** Accepted events whose effect the trades and transactions show. */
  applied: number;
  /** Accepted events whose notification is on the notifications topic. */
  notified: number;
  /** Records of webhook-events the processor applied or deduplicated more than once (a crash before the offset commit). */
  redelivered: number;
  /** Deliveries the dedupe absorbed: a sender's retry or copy, or a redelivery. */
  duplicatesSuppressed: number;
  deadLettered: number;
  /** Changes of a trade by one database transaction, from the change log: an event applied is one change at most. */
  tradeChanges: number;
  /** Accepted events whose effect is missing, or whose notification never arrived. */
  lost: number;
  /** Trades the change log shows changed by an event again, or more often than their events can change them. */
  doubleApplied: number;
}

interface TradeRow {
  id: string;
  status: string;
  metadata: Record<string, unknown>;
}

interface TransactionRow {
  trade_id: string;
  row: Record<string, unknown>;
}

export class Ledger {
  private readonly events = new Map<string, SentEvent & { status: number; eventId?: string; accepted: boolean }>();

  constructor(readonly scenario: string) {}

  /**
   * The final answer a sender got for an event (after its own retries). The same event sent
   * again keeps its first acknowledgement: once a sender was told 2xx, the event must apply.
   */
  record(event: SentEvent, answer: Answer): void {
    const accepted = answer.status >= 200 && answer.status < 300;
    const previous = this.events.get(event.key);
    if (previous?.accepted && !accepted) return;
    this.events.set(event.key, { ...event, status: answer.status, eventId: answer.eventId ?? previous?.eventId, accepted });
  }

  /** Events with a final answer so far. */
  answered(): number {
    return this.events.size;
  }

  acceptedEventIds(): string[] {
    return [...this.events.values()].filter((event) => event.accepted).map((event) => event.eventId!);
  }

  async reconcile(options: { db: Knex; kafka: Kafka; topics: TestTopics }): Promise<LedgerSummary> {
    const { db, kafka, topics } = options;
    const sent = [...this.events.values()];
    const accepted = sent.filter((event) => event.accepted);
    const missingId = accepted.find((event) => !event.eventId);
    if (missingId) throw new Error(`event ${missingId.key} was accepted without an event id in the answer`);
    const tradeIds = [...new Set(sent.map((event) => String(event.tradeId)))];

    const trades = new Map(
      (await db('trades').whereIn('id', tradeIds).select<TradeRow[]>('id', 'status', 'metadata')).map((row) => [String(row.id), row]),
    );
    const transactions = (
      await db.raw<{ rows: TransactionRow[] }>('select trade_id, to_jsonb(t) as row from transactions t where trade_id = any(?::bigint[])', [tradeIds])
    ).rows;
    const effectVisible = (event: SentEvent): boolean => {
      const trade = trades.get(String(event.tradeId));
      if (!trade) return false;
      const { status, metadata, transaction } = event.effect;
      if (status !== undefined && trade.status !== status) return false;
      if (metadata !== undefined && String(trade.metadata?.[metadata.key]) !== metadata.value) return false;
      if (
        transaction !== undefined &&
        !transactions.some((row) => String(row.trade_id) === String(event.tradeId) && row.row.kind === transaction.kind && row.row[transaction.column] === transaction.value)
      ) {
        return false;
      }
      return true;
    };

    const notifications = await readTopic(kafka, topics.notifications, { quietMs: 3000, decode: false, timeoutMs: 120_000 });
    const notified = new Set(notifications.map((message) => message.headers.event_id));
    const admin = await testAdmin(kafka);
    const records = async (topic: string): Promise<number> =>
      (await admin.fetchTopicOffsets(topic)).reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
    const { rows: [counted] } = await db.raw<{ rows: Array<{ deliveries: string; events: string }> }>(
      'select coalesce(sum(deliveries), 0) as deliveries, count(*) as events from webhook_events',
    );
    const deliveries = Number(counted!.deliveries);

    const doubleApplied = await this.doubleAppliedTrades(db, sent);
    const applied = accepted.filter(effectVisible);
    return {
      scenario: this.scenario,
      sent: sent.length,
      accepted: accepted.length,
      refused5xx: sent.filter((event) => event.status >= 500).length,
      noAnswer: sent.filter((event) => event.status === 0).length,
      refused4xx: sent.filter((event) => event.status >= 400 && event.status < 500).length,
      applied: applied.length,
      notified: accepted.filter((event) => notified.has(event.eventId!)).length,
      redelivered: deliveries - (await records(topics.events)),
      duplicatesSuppressed: deliveries - Number(counted!.events),
      deadLettered: await records(topics.deadLetters),
      tradeChanges: await tradeChangeCount(db),
      lost: accepted.filter((event) => !effectVisible(event) || !notified.has(event.eventId!)).length,
      doubleApplied: doubleApplied.size,
    };
  }

  /**
   * Trades the change log shows changed more than their events could change them. A trade's
   * events are applied in the order they were sent (each was sent once the previous one had its
   * answer, so Kafka holds them in that order), each in one database transaction that leaves the
   * id of the last event it applied as the trade's last webhook. So the events that the
   * transactions changing a trade leave behind must move strictly forward in that order: one
   * that repeats or goes back is an event applied again. Two counts back this up: no more
   * transactions changing a trade than events sent for it (sent, not accepted: an unanswered
   * request may still have reached Kafka), and no more changing its transactions rows than its
   * events carry transactions.
   */
  private async doubleAppliedTrades(db: Knex, sent: ReadonlyArray<SentEvent & { eventId?: string }>): Promise<Set<string>> {
    const perTrade = new Map<string, { events: number; transactions: number }>();
    const positions = new Map<string, number>();
    for (const event of sent) {
      const counts = perTrade.get(String(event.tradeId)) ?? { events: 0, transactions: 0 };
      if (event.eventId !== undefined) positions.set(event.eventId, counts.events);
      counts.events += 1;
      if (event.effect.transaction) counts.transactions += 1;
      perTrade.set(String(event.tradeId), counts);
    }
    const doubled = new Set<string>();
    const tradeChanges = await tradeChangesInOrder(db);
    let trade: string | undefined;
    let changes = 0;
    let reached = -1;
    for (const row of tradeChanges) {
      if (String(row.trade_id) !== trade) {
        trade = String(row.trade_id);
        changes = 0;
        reached = -1;
      }
      changes += 1;
      if (changes > (perTrade.get(trade)?.events ?? 0)) doubled.add(trade);
      // An event the ledger has no id for (its sender never got an answer) cannot be placed.
      const position = row.event_id === null ? undefined : positions.get(row.event_id);
      if (position === undefined) continue;
      if (position <= reached) doubled.add(trade);
      reached = position;
    }
    for (const [tradeId, transactions] of await transactionRowChangesPerTrade(db)) {
      if (transactions > (perTrade.get(tradeId)?.transactions ?? 0)) doubled.add(tradeId);
    }
    return doubled;
  }
}

export function printLedger(summary: LedgerSummary): void {
  const { scenario, ...figures } = summary;
  process.stdout.write(`\nLedger — ${scenario}\n${Object.entries(figures).map(([name, value]) => `  ${name.padEnd(22)} ${value}`).join('\n')}\n`);
}
