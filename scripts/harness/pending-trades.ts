import type { Knex } from 'knex';

/**
 * `count` buy trades awaiting completion, with ids 1..count in a fresh schema, for load: the
 * benchmarks and the fault suite complete them. References are `<prefix>-<n>`; the trades
 * belong to `users` users in turn.
 */
export async function insertPendingBuyTrades(db: Knex, options: { count: number; referencePrefix: string; users: number }): Promise<void> {
  const rows = Array.from({ length: options.count }, (_, index) => ({
    reference: `${options.referencePrefix}-${index + 1}`,
    user_id: 1 + (index % options.users),
    trade_type: 'buy',
    status: 'processing',
    crypto_amount: '0.001',
    crypto_currency: 'BTC',
    fiat_amount: '350000',
    fiat_currency: 'UGX',
  }));
  for (let start = 0; start < rows.length; start += 5000) await db('trades').insert(rows.slice(start, start + 5000));
}
