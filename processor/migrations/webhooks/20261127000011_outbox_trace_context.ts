import type { Knex } from 'knex';

/**
 * The trace context of the event that wrote a notification (W3C `traceparent` / `tracestate`),
 * kept with the row: the relay publishes it later, maybe in another process, and the
 * notification's headers must still continue the event's trace. Null when the event carried none.
 * Bounded as the processor reads them (MAX_TRACEPARENT_LENGTH, MAX_TRACESTATE_LENGTH).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (table) => {
    table.text('traceparent');
    table.text('tracestate');
  });
  await knex.raw('alter table outbox add constraint outbox_traceparent_length check (char_length(traceparent) <= 256), add constraint outbox_tracestate_length check (char_length(tracestate) <= 512)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (table) => {
    table.dropColumn('tracestate');
    table.dropColumn('traceparent');
  });
}
