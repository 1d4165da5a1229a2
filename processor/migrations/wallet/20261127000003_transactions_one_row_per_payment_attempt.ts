import type { Knex } from 'knex';

/**
 * A mobile-money payment may take several attempts, and each keeps its own record, keyed by
 * its internal reference: a failed attempt must not overwrite the one that brought the money,
 * and a second payment must show as a second row. The crypto transfer and the fiat payout stay
 * one row per trade.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table transactions drop constraint transactions_trade_id_kind_unique');
  await knex.raw(`create unique index transactions_one_per_trade_and_kind on transactions (trade_id, kind) where kind <> 'mobile_money'`);
  await knex.raw(`create unique index transactions_one_per_payment_attempt on transactions (trade_id, provider_reference) where kind = 'mobile_money'`);
}

/**
 * The earlier schema holds one mobile-money row per trade: the completed attempt is the one
 * kept (it records the money), else the latest; the other attempts' rows are deleted.
 */
export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    delete from transactions where id in (
      select id from (
        select id, row_number() over (partition by trade_id order by (status = 'completed') desc, id desc) as rank
        from transactions where kind = 'mobile_money'
      ) attempts where rank > 1
    )`);
  await knex.raw('drop index transactions_one_per_payment_attempt');
  await knex.raw('drop index transactions_one_per_trade_and_kind');
  await knex.raw('alter table transactions add constraint transactions_trade_id_kind_unique unique (trade_id, kind)');
}
