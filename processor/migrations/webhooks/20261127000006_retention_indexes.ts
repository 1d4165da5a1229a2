import type { Knex } from 'knex';

/**
 * The retention job finds expired rows by age, a batch at a time: without an index each batch
 * would scan the table, and a run over a large table would cost the square of its size. Each
 * index holds only the rows the job may delete: sent outbox rows, and applied or stale
 * webhook_events rows (rejected ones are kept for the operator). Built concurrently so that a
 * deployment's migration does not block the processor's writes while a large table is indexed
 * (which is why this migration runs outside a transaction).
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index concurrently if not exists outbox_sent_at on outbox (sent_at) where sent_at is not null');
  await knex.raw("create index concurrently if not exists webhook_events_last_seen_at on webhook_events (last_seen_at) where outcome in ('applied', 'stale')");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index concurrently if exists webhook_events_last_seen_at');
  await knex.raw('drop index concurrently if exists outbox_sent_at');
}
