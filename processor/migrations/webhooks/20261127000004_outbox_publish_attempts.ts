import type { Knex } from 'knex';

/**
 * A row that cannot be published (its notification does not encode, or the broker refuses
 * it) is retried with backoff instead of at every sweep, and says why it is stuck.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (table) => {
    table.integer('attempts').notNullable().defaultTo(0);
    table.text('last_error');
    table.timestamp('next_attempt_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (table) => {
    table.dropColumn('next_attempt_at');
    table.dropColumn('last_error');
    table.dropColumn('attempts');
  });
}
