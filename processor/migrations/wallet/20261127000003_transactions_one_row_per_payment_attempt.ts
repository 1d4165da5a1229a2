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
 * The earlier schema holds one mobile-money row per trade. A trade with several attempts keeps
 * records of money in them (a payment, money to refund): going down refuses rather than delete
 * any, and names the trades for an operator to settle first.
 */
export async function down(knex: Knex): Promise<void> {
  const { rows } = await knex.raw<{ rows: Array<{ trade_id: string }> }>(
    `select trade_id from transactions where kind = 'mobile_money' group by trade_id having count(*) > 1 order by trade_id`,
  );
  if (rows.length > 0) {
    const trades = rows.slice(0, 20).map((row) => row.trade_id).join(', ');
    throw new Error(
      `Cannot undo the migration to one transactions row per mobile-money attempt: ${rows.length} trade(s) have several attempts ` +
        `(trade ${trades}${rows.length > 20 ? ', …' : ''}), and the earlier schema holds one per trade. Deleting attempts would delete ` +
        'records of money; settle those trades first.',
    );
  }
  await knex.raw('drop index transactions_one_per_payment_attempt');
  await knex.raw('drop index transactions_one_per_trade_and_kind');
  await knex.raw('alter table transactions add constraint transactions_trade_id_kind_unique unique (trade_id, kind)');
}
