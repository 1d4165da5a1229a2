import type { Knex } from 'knex';
import { signPayload } from '../../schemas/signatures';
import { envelopeFor, eventWriter } from '../support/events';
import { insertTrade, migratedDatabase, createTestTopics, startTestProcessor, testKafka, type TestProcessor, type TestTopics } from '../support/processor';
import { startTestReceiver, TEST_SECRETS } from '../support/receiver';
import { readTopic } from '../support/topic-reader';
import { waitFor } from '../support/wait-for';
import { uniqueName } from '../support/names';

const kafka = testKafka();

async function outcomes(db: Knex, count: number): Promise<Array<Record<string, any>>> {
  return waitFor(`${count} webhook_events rows`, async () => {
    const rows = await db('webhook_events').orderBy('offset');
    return rows.length >= count ? rows : undefined;
  });
}

describe('processor: duplicates', () => {
  let db: Knex;
  let schema: string;
  let topics: TestTopics;
  let processor: TestProcessor;
  beforeAll(async () => {
    ({ db, schema } = await migratedDatabase());
    topics = await createTestTopics();
    processor = await startTestProcessor({ topics, db, schema });
  });

  it('applies a webhook delivered twice once, and counts the second delivery on its row', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    const receiver = await startTestReceiver({ topic: topics.events });
    const body = JSON.stringify({ trade_id: trade.id, status: 'completed', transaction_hash: '0xdup' });
    const headers = { 'content-type': 'application/json', 'x-buy-webhook-signature': signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET) };
    const first = await fetch(`${receiver.url}/api/webhooks/buy-complete`, { method: 'POST', body, headers });
    const second = await fetch(`${receiver.url}/api/webhooks/buy-complete`, { method: 'POST', body, headers });
    expect([first.status, second.status]).toEqual([202, 202]);
    const { event_id } = (await first.json()) as { event_id: string };

    const row = await waitFor('the second delivery counted', async () => {
      const found = await db('webhook_events').where({ event_id }).first();
      return found?.deliveries === 2 ? found : undefined;
    });
    expect(row.outcome).toBe('applied');
    expect(await db('outbox').where({ event_id })).toHaveLength(1);
    expect(await db('transactions').where({ trade_id: trade.id })).toHaveLength(1);
    const notifications = await readTopic(kafka, topics.notifications, { quietMs: 1500 });
    expect(notifications.filter((message) => message.value.event_id === event_id)).toHaveLength(1);
    expect(await processor.metrics.registry.getSingleMetricAsString('webhook_events_processed_total')).toMatch(
      /webhook_events_processed_total\{webhook_type="buy_completion",outcome="duplicate"\} 1/,
    );
  });

  it('has no effect when the whole topic is replayed by another consumer group', async () => {
    const before = await db('outbox').count<{ count: string }[]>('* as count');
    const replay = await startTestProcessor({ topics: { ...topics, group: uniqueName('replay') }, db, schema });
    await waitFor('the replay to read every event', async () => {
      const text = await replay.metrics.registry.getSingleMetricAsString('webhook_events_processed_total');
      return /outcome="duplicate"\} 2/.test(text) ? true : undefined;
    });
    expect(await db('outbox').count<{ count: string }[]>('* as count')).toEqual(before);
    expect(await replay.metrics.registry.getSingleMetricAsString('webhook_events_processed_total')).not.toMatch(/outcome="applied"/);
  });
});

describe('processor: stale updates and rejections', () => {
  let db: Knex;
  let topics: TestTopics;
  let write: Awaited<ReturnType<typeof eventWriter>>;
  beforeAll(async () => {
    const database = await migratedDatabase();
    db = database.db;
    // One partition: the events below queue behind each other, so "the partition keeps moving" is visible.
    topics = await createTestTopics(1);
    write = await eventWriter(kafka, topics.events);
    await startTestProcessor({ topics, db, schema: database.schema });
  });

  it('records processing after completed as stale and leaves the trade unchanged', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'completed' });
    const before = await db('trades').where({ id: trade.id }).first();
    const body = JSON.stringify({ trade_id: trade.id, status: 'processing', metadata: { stage: 'late' } });
    const envelope = envelopeFor('trade_status', body);
    await write.write([{ key: String(trade.id), envelope }]);

    const row = await waitFor('the stale event', () => db('webhook_events').where({ event_id: envelope.event_id }).first());
    expect(row).toEqual(expect.objectContaining({ outcome: 'stale', reason: 'transition_not_allowed', reason_detail: 'trade is completed; processing not applied' }));
    expect(await db('trades').where({ id: trade.id }).first()).toEqual(before);
    expect(await db('outbox').where({ event_id: envelope.event_id })).toHaveLength(0);
  });

  it('dead-letters permanent failures with their reason and goes on with the partition', async () => {
    const sell = await insertTrade(db, { trade_type: 'sell', status: 'processing' });
    const mobile = await insertTrade(db, { trade_type: 'buy', fiat_amount: '50000', fiat_currency: 'UGX' });
    const good = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    const missing = envelopeFor('buy_completion', JSON.stringify({ trade_id: 999_999_999, status: 'failed' }));
    const wrongType = envelopeFor('buy_completion', JSON.stringify({ trade_id: sell.id, status: 'failed' }));
    const amount = envelopeFor(
      'relworx_payment',
      JSON.stringify({ status: 'success', customer_reference: mobile.reference, internal_reference: 'RWX-1', amount: 49000, currency: 'UGX' }),
    );
    const invalid = envelopeFor('buy_completion', JSON.stringify({ trade_id: good.id, status: 'teleported' }));
    const unknown = { ...envelopeFor('buy_completion', JSON.stringify({ trade_id: good.id })), webhook_type: 'refund' };
    const valid = envelopeFor('buy_completion', JSON.stringify({ trade_id: good.id, status: 'completed', transaction_hash: '0xafter' }));

    await write.writeRaw('garbage', Buffer.from('not an Avro record'));
    await write.write([
      { key: '999999999', envelope: missing },
      { key: String(sell.id), envelope: wrongType },
      { key: mobile.reference, envelope: amount },
      { key: String(good.id), envelope: invalid },
      { key: String(good.id), envelope: unknown },
      { key: String(good.id), envelope: valid },
    ]);

    const applied = await waitFor('the valid event behind the rejected ones', () => db('webhook_events').where({ event_id: valid.event_id, outcome: 'applied' }).first());
    expect(applied).toBeDefined();
    expect((await db('trades').where({ id: good.id }).first()).status).toBe('completed');

    const rejected = await db('webhook_events').where({ outcome: 'rejected' }).orderBy('offset');
    expect(rejected.map((row) => row.reason)).toEqual([
      'undecodable_envelope',
      'trade_not_found',
      'type_mismatch',
      'amount_mismatch',
      'schema_invalid',
      'unknown_webhook_type',
    ]);
    expect((await db('trades').where({ id: mobile.id }).first()).status).toBe('pending');

    const dead = await readTopic(kafka, topics.deadLetters, { count: 6, decode: false });
    expect(dead.length).toBe(6);
    expect(dead.map((message) => [message.headers.dlq_reason, message.headers.dlq_detail])).toEqual(rejected.map((row) => [row.reason, row.reason_detail]));
    expect(dead[1]!.headers).toEqual(
      expect.objectContaining({ dlq_event_id: missing.event_id, dlq_source_topic: topics.events, dlq_source_partition: '0', dlq_source_offset: String(rejected[1]!.offset) }),
    );
  });
});

describe('processor: money that cannot be applied', () => {
  let db: Knex;
  let topics: TestTopics;
  let write: Awaited<ReturnType<typeof eventWriter>>;
  beforeAll(async () => {
    const database = await migratedDatabase();
    db = database.db;
    topics = await createTestTopics(1);
    write = await eventWriter(kafka, topics.events);
    await startTestProcessor({ topics, db, schema: database.schema });
  });

  it('records a payment that arrives after the trade failed and dead-letters it with the action to take', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'failed', fiat_amount: '50000', fiat_currency: 'UGX' });
    const body = JSON.stringify({ status: 'success', customer_reference: trade.reference, internal_reference: 'RWX-LATE', amount: 50000, currency: 'UGX', provider: 'MTN_UGANDA' });
    const late = envelopeFor('relworx_payment', body);
    await write.write([{ key: trade.reference, envelope: late }]);

    const [dead] = await readTopic(kafka, topics.deadLetters, { count: 1, decode: false });
    expect(dead!.headers).toEqual(
      expect.objectContaining({
        dlq_event_id: late.event_id,
        dlq_reason: 'payment_after_terminal',
        dlq_detail: `money was received for trade ${trade.id} which is failed: refund or reopen`,
      }),
    );
    expect(await db('transactions').where({ trade_id: trade.id })).toEqual([
      expect.objectContaining({ kind: 'mobile_money', status: 'unapplied', provider_reference: 'RWX-LATE', amount: '50000.000000000000000000', currency: 'UGX' }),
    ]);
    expect((await db('trades').where({ id: trade.id }).first()).status).toBe('failed');
  });
});
