import type { Knex } from 'knex';

export interface DemoTrade {
  id: number;
  reference: string;
  trade_type: 'buy' | 'sell';
  user_id: number;
  crypto_amount: string;
  fiat_amount: string;
  fiat_currency: string;
}

/** A few trades to send webhooks for (development only): fresh each run, so each is pending. */
export async function insertDemoTrades(db: Knex): Promise<DemoTrade[]> {
  const run = Date.now().toString(36).toUpperCase();
  const trades = [
    { reference: `DEMO-BUY-${run}`, user_id: 1001, trade_type: 'buy', status: 'processing', crypto_amount: '0.001', crypto_currency: 'BTC', fiat_amount: '350000', fiat_currency: 'UGX' },
    { reference: `DEMO-SELL-${run}`, user_id: 1002, trade_type: 'sell', status: 'processing', crypto_amount: '0.002', crypto_currency: 'BTC', fiat_amount: '100.0', fiat_currency: 'USD' },
    { reference: `DEMO-MOMO-${run}`, user_id: 1003, trade_type: 'buy', status: 'pending', crypto_amount: '0.0005', crypto_currency: 'BTC', fiat_amount: '50000', fiat_currency: 'UGX' },
  ];
  const rows = await db('trades').insert(trades).returning(['id', 'reference', 'trade_type', 'user_id', 'crypto_amount', 'fiat_amount', 'fiat_currency']);
  return rows.map((row) => ({ ...row, id: Number(row.id), user_id: Number(row.user_id) })) as DemoTrade[];
}
