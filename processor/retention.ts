import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { RetentionConfig } from './config';

export const DAY_MS = 24 * 60 * 60 * 1000;

export type RetainedTable = 'outbox' | 'webhook_events';

/**
 * Each batch picks at most `limit` expired rows and deletes them, in one statement and so in a
 * transaction of its own: locks are held for one batch, never for the run. SKIP LOCKED passes
 * over a row a processor's transaction holds (a redelivery counting itself on its
 * webhook_events row, the relay marking an outbox row) instead of waiting for it; the next run
 * takes it. Each condition is one the table's index serves, so a batch reads about as many
 * rows as it deletes (migration 20261127000006).
 */
const BATCH_SQL: Record<RetainedTable, string> = {
  // Only a sent row has a sent_at: an unsent row, however old, is never picked.
  outbox: `delete from outbox where id = any(array(
             select id from outbox where sent_at < ? limit ? for update skip locked))`,
  // last_seen_at moves with every redelivery: an event still being delivered keeps its row.
  // A rejected row is never deleted: it is an operator's open item (money taken but not applied
  // among them), and a DLQ replay of it knows by that row that it was dead-lettered already.
  webhook_events: `delete from webhook_events where event_id = any(array(
             select event_id from webhook_events
             where outcome in ('applied', 'stale') and last_seen_at < ? and processed_at < ? limit ? for update skip locked))`,
};

export interface RetentionSummary {
  /** Rows deleted, by table. */
  readonly deleted: Record<RetainedTable, number>;
  /** Statements run; each deleted at most the batch size. */
  readonly batches: number;
  /** The moment before which rows were expired, by table; absent for a table kept for ever. */
  readonly cutoffs: Partial<Record<RetainedTable, Date>>;
  /** Whether it stopped before the end because it was asked to. */
  readonly interrupted: boolean;
}

export interface RetentionOptions {
  readonly db: Knex;
  readonly policy: Pick<RetentionConfig, 'outboxDays' | 'webhookEventsDays' | 'batchRows'>;
  readonly logger: Logger;
  /** `retention_deleted_rows_total{table}`, when the processor runs it. */
  readonly deletedRows?: Counter<'table'>;
  /** Asked between batches: true ends the run there. */
  readonly shouldStop?: () => boolean;
}

async function deleteBatch(db: Knex, table: RetainedTable, cutoff: Date, limit: number): Promise<number> {
  const bindings = table === 'outbox' ? [cutoff, limit] : [cutoff, cutoff, limit];
  const result = await db.raw<{ rowCount: number }>(BATCH_SQL[table], bindings);
  return result.rowCount;
}

/**
 * One run of the retention job: the sent outbox rows, then the webhook_events rows, older than
 * the policy's ages, deleted a batch at a time until a batch finds fewer than a full batch.
 * The cutoffs are taken once, from the database's clock, so a run ends even while rows keep
 * expiring, and the application's clock cannot make a row look older than it is.
 */
export async function runRetention(options: RetentionOptions): Promise<RetentionSummary> {
  const { db, policy, logger, deletedRows, shouldStop = () => false } = options;
  const { rows } = await db.raw<{ rows: Array<{ now: Date }> }>('select now() as now');
  const now = rows[0]!.now.getTime();
  const ages: Array<[RetainedTable, number]> = [
    ['outbox', policy.outboxDays],
    ['webhook_events', policy.webhookEventsDays],
  ];
  const deleted: Record<RetainedTable, number> = { outbox: 0, webhook_events: 0 };
  const cutoffs: Partial<Record<RetainedTable, Date>> = {};
  let batches = 0;
  let interrupted = false;
  for (const [table, days] of ages) {
    if (days === 0) continue;
    const cutoff = new Date(now - days * DAY_MS);
    cutoffs[table] = cutoff;
    for (;;) {
      if (shouldStop()) {
        interrupted = true;
        break;
      }
      const count = await deleteBatch(db, table, cutoff, policy.batchRows);
      batches += 1;
      deleted[table] += count;
      deletedRows?.inc({ table }, count);
      logger.debug({ table, rows: count }, 'Retention batch deleted');
      if (count < policy.batchRows) break;
    }
    if (interrupted) break;
  }
  const summary = { deleted, batches, cutoffs, interrupted };
  logger.info({ deleted, batches, cutoffs, interrupted }, 'Retention run finished');
  return summary;
}
