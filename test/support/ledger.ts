import type { Knex } from 'knex';
import type { Kafka } from 'kafkajs';
import { testAdmin } from './kafka';
import { readTopic } from './topic-reader';

/**
 * What the senders were told, reconciled with what the system did: every event that got a
 * 2xx must be applied exactly once and have a notification; nothing valid is dead-lettered.
 */
export interface LedgerSummary {
  scenario: string;
  sent: number;
  accepted: number;
  refused5xx: number;
  /** Senders that never got an answer (the connection failed on every attempt). */
  noAnswer: number;
  refused4xx: number;
  applied: number;
  notified: number;
  duplicatesSuppressed: number;
  deadLettered: number;
  lost: number;
  doubleApplied: number;
}

export class Ledger {
  private readonly answers = new Map<string, number>();
  private readonly trades = new Map<string, number>();

  constructor(readonly scenario: string) {}

  /** The final answer a sender got for an event (after its own retries), and the trade it changes. */
  record(eventId: string, tradeId: number, status: number): void {
    this.answers.set(eventId, status);
    this.trades.set(eventId, tradeId);
  }

  acceptedEventIds(): string[] {
    return [...this.answers].filter(([, status]) => status >= 200 && status < 300).map(([id]) => id);
  }

  async reconcile(options: { db: Knex; kafka: Kafka; notificationsTopic: string; deadLetterTopic: string }): Promise<LedgerSummary> {
    const { db } = options;
    const accepted = new Set(this.acceptedEventIds());
    const rows = await db('webhook_events').select('event_id', 'outcome', 'deliveries', 'trade_id');
    const appliedIds = new Set(rows.filter((row) => row.outcome === 'applied').map((row) => row.event_id as string));
    const appliedPerTrade = new Map<string, number>();
    for (const row of rows) if (row.outcome === 'applied') appliedPerTrade.set(String(row.trade_id), (appliedPerTrade.get(String(row.trade_id)) ?? 0) + 1);
    const notifications = await readTopic(options.kafka, options.notificationsTopic, { quietMs: 3000, decode: false, timeoutMs: 120_000 });
    const notified = new Set(notifications.map((message) => message.headers.event_id));
    const admin = await testAdmin(options.kafka);
    const dlq = (await admin.fetchTopicOffsets(options.deadLetterTopic)).reduce((sum, partition) => sum + Number(partition.high), 0);
    const statuses = [...this.answers.values()];
    return {
      scenario: this.scenario,
      sent: this.answers.size,
      accepted: accepted.size,
      refused5xx: statuses.filter((status) => status >= 500).length,
      noAnswer: statuses.filter((status) => status === 0).length,
      refused4xx: statuses.filter((status) => status >= 400 && status < 500).length,
      applied: [...accepted].filter((id) => appliedIds.has(id)).length,
      notified: [...accepted].filter((id) => notified.has(id)).length,
      duplicatesSuppressed: rows.reduce((sum, row) => sum + Number(row.deliveries) - 1, 0),
      deadLettered: dlq,
      lost: [...accepted].filter((id) => !appliedIds.has(id) || !notified.has(id)).length,
      doubleApplied: [...appliedPerTrade.values()].filter((count) => count > 1).length,
    };
  }
}

export function printLedger(summary: LedgerSummary): void {
  const { scenario, ...figures } = summary;
  process.stdout.write(`\nLedger — ${scenario}\n${Object.entries(figures).map(([name, value]) => `  ${name.padEnd(22)} ${value}`).join('\n')}\n`);
}
