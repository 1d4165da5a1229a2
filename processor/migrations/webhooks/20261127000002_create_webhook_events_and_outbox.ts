import type { Knex } from 'knex';

/** The processor's own tables: the audit and dedupe log of webhook events, and the notification outbox. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_events', (table) => {
    // The primary key is the dedupe: a second delivery conflicts here, never on a prior read.
    table.text('event_id').primary();
    table.text('webhook_type').notNullable();
    table.bigInteger('trade_id');
    table.text('trade_reference');
    table.text('outcome').notNullable().checkIn(['applied', 'stale', 'rejected'], 'webhook_events_outcome_check');
    table.text('reason');
    table.integer('deliveries').notNullable().defaultTo(1);
    table.text('body').notNullable();
    table.text('topic');
    table.integer('partition');
    table.bigInteger('offset');
    table.timestamp('received_at', { useTz: true });
    table.timestamp('processed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('last_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['trade_id', 'processed_at']);
    table.index(['outcome', 'processed_at']);
  });

  await knex.schema.createTable('outbox', (table) => {
    table.bigIncrements('id').primary();
    table.text('event_id').notNullable().unique();
    table.text('topic').notNullable();
    table.text('message_key').notNullable();
    table.jsonb('payload').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('sent_at', { useTz: true });
  });
  // The relay only ever looks for unsent rows; keep that index as small as the backlog.
  await knex.raw('create index outbox_unsent on ?? (id) where sent_at is null', ['outbox']);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('outbox');
  await knex.schema.dropTable('webhook_events');
}
