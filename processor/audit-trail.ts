import type { Knex } from 'knex';

export interface AuditRow {
  event_id: string;
  webhook_type: string;
  trade_id: string | null;
  outcome: string;
  /** A stable code (`amount_mismatch`); the explanation is `reason_detail`. */
  reason: string | null;
  reason_detail: string | null;
  deliveries: number;
  /**
   * The Kafka record the outcome was decided from: the first delivery processed, or the one that
   * was processed after earlier copies were rejected. The receiver's 202 receipt names the same
   * record for that delivery; a repeat's receipt names its own record, counted in `deliveries`.
   * The offset stays text (int64).
   */
  topic: string | null;
  partition: number | null;
  offset: string | null;
  received_at: Date | null;
  processed_at: Date;
  last_seen_at: Date;
}

/**
 * "What happened to my webhook?": a trade's events (found by trade id, or for Relworx by the
 * trade's reference, which is all a rejected callback has) or one event, oldest first.
 */
export async function auditTrail(db: Knex, filter: { tradeId?: string; eventId?: string }): Promise<AuditRow[]> {
  const query = db('webhook_events').select(
    'event_id',
    'webhook_type',
    'trade_id',
    'outcome',
    'reason',
    'reason_detail',
    'deliveries',
    'topic',
    'partition',
    'offset',
    'received_at',
    'processed_at',
    'last_seen_at',
  );
  if (filter.eventId !== undefined) query.where({ event_id: filter.eventId });
  if (filter.tradeId !== undefined) {
    const tradeId = filter.tradeId;
    query.where((where) =>
      where.where({ trade_id: tradeId }).orWhereIn('trade_reference', db('trades').select('reference').where({ id: tradeId })),
    );
  }
  return (await query.orderBy([{ column: 'received_at', order: 'asc' }, { column: 'processed_at', order: 'asc' }])) as AuditRow[];
}

export function formatAuditTrail(rows: AuditRow[]): string {
  if (rows.length === 0) return 'No webhook events found.';
  const header = ['received_at', 'webhook_type', 'outcome', 'deliveries', 'processed_at', 'event_id', 'topic', 'partition', 'offset', 'reason', 'detail'];
  const lines = rows.map((row) => [
    row.received_at?.toISOString() ?? '-',
    row.webhook_type,
    row.outcome,
    String(row.deliveries),
    row.processed_at.toISOString(),
    row.event_id,
    row.topic ?? '-',
    row.partition === null ? '-' : String(row.partition),
    row.offset ?? '-',
    row.reason ?? '',
    row.reason_detail ?? '',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [format(header), ...lines.map(format)].join('\n');
}
