import type { Knex } from 'knex';
import { migrationConfig } from '../../processor/migrations';
import { testDatabase } from '../support/database';

/** A database at the schema of the first release: the two migrations databases in the field ran first. */
async function firstRelease(): Promise<{ db: Knex; config: Knex.MigratorConfig }> {
  const { db, schema } = await testDatabase();
  const config = { ...migrationConfig({ walletTables: true }), schemaName: schema };
  await db.migrate.up(config);
  await db.migrate.up(config);
  const [, pending] = (await db.migrate.list(config)) as [unknown, Array<{ file: string }>];
  expect(pending.length).toBeGreaterThan(0);
  return { db, config };
}

/** Rolls back one migration at a time until the one whose name holds `name` is undone. */
async function downTo(db: Knex, config: Knex.MigratorConfig, name: string): Promise<void> {
  while (((await db.migrate.list(config)) as [Array<{ name: string }>, unknown])[0].some((migration) => migration.name.includes(name))) {
    await db.migrate.down(config);
  }
}

async function insertTrade(db: Knex, reference: string): Promise<string> {
  const [row] = await db('trades').insert({ reference, user_id: 1, trade_type: 'buy', status: 'failed' }).returning('id');
  return String(row.id);
}

describe('migrations after the first release', () => {
  it('move the detail of reasons written before into reason_detail, and join them again on the way down', async () => {
    const { db, config } = await firstRelease();
    const row = { webhook_type: 'buy_completion', body: '{}', deliveries: 1 };
    await db('webhook_events').insert([
      { ...row, event_id: 'rejected', outcome: 'rejected', reason: 'trade_not_found: no trade 5' },
      { ...row, event_id: 'stale', outcome: 'stale', reason: 'trade is completed; processing not applied' },
      { ...row, event_id: 'applied', outcome: 'applied', reason: null },
    ]);

    await db.migrate.latest(config);
    const reasons = async () => (await db('webhook_events').orderBy('event_id')).map((event) => [event.event_id, event.reason, event.reason_detail]);
    expect(await reasons()).toEqual([
      ['applied', null, null],
      ['rejected', 'trade_not_found', 'no trade 5'],
      ['stale', 'transition_not_allowed', 'trade is completed; processing not applied'],
    ]);

    await downTo(db, config, 'reason_detail');
    expect((await db('webhook_events').orderBy('event_id')).map((event) => [event.event_id, event.reason])).toEqual([
      ['applied', null],
      ['rejected', 'trade_not_found: no trade 5'],
      ['stale', 'trade is completed; processing not applied'],
    ]);
  });

  it('keep a row per mobile-money attempt and one per trade for the other kinds, and go down to one row per kind when each trade has one attempt', async () => {
    const { db, config } = await firstRelease();
    await db.migrate.latest(config);
    const tradeId = await insertTrade(db, 'T-1');
    const attempt = (reference: string, status: string) => ({ trade_id: tradeId, kind: 'mobile_money', provider_reference: reference, status });

    await db('transactions').insert([attempt('RWX-1', 'failed'), attempt('RWX-2', 'completed'), attempt('RWX-3', 'failed')]);
    await expect(db('transactions').insert(attempt('RWX-2', 'completed'))).rejects.toThrow(/transactions_one_per_payment_attempt/);
    await db('transactions').insert({ trade_id: tradeId, kind: 'crypto_transfer', status: 'pending' });
    await expect(db('transactions').insert({ trade_id: tradeId, kind: 'crypto_transfer', status: 'pending' })).rejects.toThrow(/transactions_one_per_trade_and_kind/);

    await db('transactions').where({ trade_id: tradeId }).whereIn('provider_reference', ['RWX-1', 'RWX-3']).delete();
    await downTo(db, config, 'one_row_per_payment_attempt');
    expect((await db('transactions').orderBy('id')).map((row) => [row.kind, row.provider_reference, row.status])).toEqual([
      ['mobile_money', 'RWX-2', 'completed'],
      ['crypto_transfer', null, 'pending'],
    ]);
    await expect(db('transactions').insert(attempt('RWX-4', 'failed'))).rejects.toThrow(/transactions_trade_id_kind_unique/);
  });

  it('refuse to go down while a trade has several mobile-money attempts, naming the trade and deleting none', async () => {
    const { db, config } = await firstRelease();
    await db.migrate.latest(config);
    const tradeId = await insertTrade(db, 'T-2');
    const attempt = (reference: string, status: string) => ({ trade_id: tradeId, kind: 'mobile_money', provider_reference: reference, status });
    await db('transactions').insert([attempt('RWX-1', 'unapplied'), attempt('RWX-2', 'completed')]);
    const before = await db('transactions').orderBy('id');

    await expect(downTo(db, config, 'one_row_per_payment_attempt')).rejects.toThrow(
      new RegExp(`1 trade\\(s\\) have several attempts \\(trade ${tradeId}\\).*records of money`),
    );
    expect(await db('transactions').orderBy('id')).toEqual(before);
    await expect(db('transactions').insert(attempt('RWX-1', 'failed'))).rejects.toThrow(/transactions_one_per_payment_attempt/);
  });

  it('convert only sentences to codes on the way up: a code stays, and a payment already received comes back from a round trip', async () => {
    const { db, config } = await firstRelease();
    await db.migrate.latest(config);
    const row = { webhook_type: 'relworx_payment', body: '{}', deliveries: 1, outcome: 'stale' };
    await db('webhook_events').insert([
      { ...row, event_id: 'paid', reason: 'payment_already_received', reason_detail: 'trade 5 was paid by internal reference R1; the failed attempt R2 does not fail it' },
      { ...row, event_id: 'copy', reason: 'payment_already_received', reason_detail: 'internal reference R1 is already recorded as the payment of trade 5; this report of it changes nothing' },
      { ...row, event_id: 'late', reason: 'transition_not_allowed', reason_detail: 'trade is completed; failed not applied' },
      { ...row, event_id: 'code', reason: 'transition_not_allowed', reason_detail: null },
    ]);
    const reasons = async () => (await db('webhook_events').orderBy('event_id')).map((event) => [event.event_id, event.reason, event.reason_detail]);
    const before = await reasons();

    await downTo(db, config, 'reason_detail');
    await db.migrate.latest(config);
    expect(await reasons()).toEqual(before);
  });

  it('index the ages the retention job looks rows up by, outside a transaction, and drop the indexes again', async () => {
    const { db, config } = await firstRelease();
    const schema = (config as { schemaName: string }).schemaName;
    const indexes = async () =>
      (await db('pg_indexes').where({ schemaname: schema }).whereIn('indexname', ['outbox_sent_at', 'webhook_events_last_seen_at']).orderBy('indexname')).map(
        (row: { indexname: string; indexdef: string }) => row.indexdef.replace(`${schema}.`, ''),
      );

    await db.migrate.latest(config);
    expect(await indexes()).toEqual([
      'CREATE INDEX outbox_sent_at ON outbox USING btree (sent_at) WHERE (sent_at IS NOT NULL)',
      "CREATE INDEX webhook_events_last_seen_at ON webhook_events USING btree (last_seen_at) WHERE (outcome = ANY (ARRAY['applied'::text, 'stale'::text]))",
    ]);

    await downTo(db, config, 'retention_indexes');
    expect(await indexes()).toEqual([]);
  });

  it('give the outbox a trace context, null for the rows written before, and take it away again', async () => {
    const { db, config } = await firstRelease();
    await db.migrate.latest(config);
    await downTo(db, config, 'outbox_trace_context');
    await db('outbox').insert({ event_id: 'before', topic: 't', message_key: 'k', payload: '{}' });

    await db.migrate.latest(config);
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await db('outbox').insert({ event_id: 'after', topic: 't', message_key: 'k', payload: '{}', traceparent, tracestate: 'congo=t61rcWkgMzE' });
    expect((await db('outbox').orderBy('event_id')).map((row) => [row.event_id, row.traceparent, row.tracestate])).toEqual([
      ['after', traceparent, 'congo=t61rcWkgMzE'],
      ['before', null, null],
    ]);
    // Bounded as the headers they come from are.
    await expect(db('outbox').insert({ event_id: 'long-parent', topic: 't', message_key: 'k', payload: '{}', traceparent: `${traceparent}-${'a'.repeat(201)}` })).rejects.toThrow(/outbox_traceparent_length/);
    await expect(db('outbox').insert({ event_id: 'long-state', topic: 't', message_key: 'k', payload: '{}', traceparent, tracestate: `a=${'b'.repeat(511)}` })).rejects.toThrow(/outbox_tracestate_length/);

    await downTo(db, config, 'outbox_trace_context');
    expect(await db('outbox').orderBy('event_id').first()).not.toHaveProperty('traceparent');
  });

  it('give the outbox its retry state, and take it away again', async () => {
    const { db, config } = await firstRelease();
    await db.migrate.latest(config);
    await db('outbox').insert({ event_id: 'e', topic: 't', message_key: 'k', payload: '{}' });
    expect(await db('outbox').first()).toEqual(expect.objectContaining({ attempts: 0, last_error: null, next_attempt_at: null }));

    await db.migrate.rollback(config, true);
    const tables = await db('information_schema.tables').where({ table_schema: (config as { schemaName: string }).schemaName }).whereNot('table_name', 'like', 'knex_%');
    expect(tables).toHaveLength(0);
  });
});
