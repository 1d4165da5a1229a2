import type { Knex } from 'knex';

/**
 * The trace context of the event that wrote a notification (W3C `traceparent` / `tracestate`),
 * kept with the row: the relay publishes it later, maybe in another process, and the
 * notification's headers must still continue the event's trace. Null when the event carried none.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (table) => {
    table.text('traceparent');
    table.text('tracestate');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (table) => {
    table.dropColumn('tracestate');
    table.dropColumn('traceparent');
  });
}
