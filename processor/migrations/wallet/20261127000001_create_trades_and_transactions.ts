import type { Knex } from 'knex';

/**
 * The wallet service's tables, as far as webhooks touch them. A deployment whose wallet
 * service already owns them runs only the webhooks migrations (MIGRATE_WALLET_TABLES=false).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('trades', (table) => {
    table.bigIncrements('id').primary();
    table.text('reference').notNullable().unique();
    table.bigInteger('user_id').notNullable();
    table.text('trade_type').notNullable().checkIn(['buy', 'sell'], 'trades_trade_type_check');
    table
      .text('status')
      .notNullable()
      .defaultTo('pending')
      .checkIn(['pending', 'processing', 'completed', 'failed', 'cancelled'], 'trades_status_check');
    table.decimal('crypto_amount', 38, 18);
    table.text('crypto_currency');
    table.decimal('fiat_amount', 38, 18);
    table.text('fiat_currency');
    table.jsonb('metadata').notNullable().defaultTo('{}');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('completed_at', { useTz: true });
    table.timestamp('failed_at', { useTz: true });
    table.index(['user_id']);
  });

  await knex.schema.createTable('transactions', (table) => {
    table.bigIncrements('id').primary();
    table.bigInteger('trade_id').notNullable().references('id').inTable('trades').onDelete('CASCADE');
    // One row per kind of money movement of a trade: the crypto transfer, the fiat payout,
    // the mobile-money collection.
    table.text('kind').notNullable().checkIn(['crypto_transfer', 'fiat_payment', 'mobile_money'], 'transactions_kind_check');
    table.text('status').notNullable().defaultTo('pending');
    table.text('transaction_hash');
    table.text('payment_reference');
    table.text('provider');
    table.text('provider_reference');
    table.text('customer_reference');
    table.text('msisdn');
    table.decimal('amount', 38, 18);
    table.text('currency');
    table.jsonb('metadata').notNullable().defaultTo('{}');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.unique(['trade_id', 'kind']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('transactions');
  await knex.schema.dropTable('trades');
}
