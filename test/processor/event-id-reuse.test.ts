import type { Knex } from 'knex';
import { envelopeFor, eventWriter } from '../support/events';
import { createTestTopics, insertTrade, migratedDatabase, startTestProcessor, testKafka, type TestProcessor, type TestTopics } from '../support/processor';
import { readTopic } from '../support/topic-reader';
import { waitFor } from '../support/wait-for';

const kafka = testKafka();

describe('processor: one event id, two events', () => {
  let db: Knex;
  let topics: TestTopics;
  let processor: TestProcessor;
  let write: Awaited<ReturnType<typeof eventWriter>>;
  beforeAll(async () => {
    const database = await migratedDatabase();
    db = database.db;
    topics = await createTestTopics(1);
    write = await eventWriter(kafka, topics.events);
    processor = await startTestProcessor({ topics, db, schema: database.schema });
  });

  /** The dead-lettered copy of `eventId` once it is there (the topic may hold others before it). */
  async function deadLetterOf(eventId: string, count: number) {
    const dead = await readTopic(kafka, topics.deadLetters, { count, decode: false });
    return dead.find((message) => message.headers.dlq_event_id === eventId && message.headers.dlq_reason === 'event_id_collision');
  }

  it("an event id reused by another trade is dead-lettered, and the first event's audit row is untouched", async () => {
    const first = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    const second = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    const eventId = 'buy_completion:msg_reused';
    const original = envelopeFor('buy_completion', JSON.stringify({ trade_id: first.id, status: 'completed', transaction_hash: '0xa' }), eventId);
    const reuse = envelopeFor('buy_completion', JSON.stringify({ trade_id: second.id, status: 'failed' }), eventId);
    await write.write([{ key: String(first.id), envelope: original }]);
    const before = await waitFor('the first event applied', () => db('webhook_events').where({ event_id: eventId, outcome: 'applied' }).first());

    await write.write([{ key: String(second.id), envelope: reuse }]);
    const dead = await deadLetterOf(eventId, 1);
    expect(dead?.headers).toEqual(
      expect.objectContaining({ dlq_reason: 'event_id_collision', dlq_detail: `event id ${eventId} is already taken by a buy_completion event of trade ${first.id}` }),
    );
    expect(dead?.raw.value).toEqual(expect.any(Buffer));
    expect(await db('webhook_events').where({ event_id: eventId }).first()).toEqual(before);
    expect((await db('trades').where({ id: second.id }).first()).status).toBe('processing');
    expect(await processor.metrics.registry.getSingleMetricAsString('webhook_events_dead_lettered_total')).toMatch(/reason="event_id_collision"\} 1/);
  });

  it('an event id reused by another webhook type for the same trade is dead-lettered, not counted as a duplicate', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'pending' });
    const eventId = 'msg_shared_by_types';
    const status = envelopeFor('trade_status', JSON.stringify({ trade_id: trade.id, status: 'processing' }), eventId);
    const completion = envelopeFor('buy_completion', JSON.stringify({ trade_id: trade.id, status: 'completed', transaction_hash: '0xb' }), eventId);
    await write.write([
      { key: String(trade.id), envelope: status },
      { key: String(trade.id), envelope: completion },
    ]);

    expect((await deadLetterOf(eventId, 2))?.headers.dlq_detail).toBe(`event id ${eventId} is already taken by a trade_status event of trade ${trade.id}`);
    expect(await db('webhook_events').where({ event_id: eventId }).first()).toEqual(expect.objectContaining({ webhook_type: 'trade_status', deliveries: 1, outcome: 'applied' }));
    expect((await db('trades').where({ id: trade.id }).first()).status).toBe('processing');
  });

  it('a webhook-id reused for another payment of the same trade is dead-lettered, never absorbed as a duplicate', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'pending', fiat_amount: '50000', fiat_currency: 'UGX' });
    const eventId = 'relworx_payment:msg_reused_for_another_payment';
    const payment = (internalReference: string) =>
      envelopeFor('relworx_payment', JSON.stringify({ status: 'success', customer_reference: trade.reference, internal_reference: internalReference, amount: 50000, currency: 'UGX' }), eventId);
    await write.write([{ key: trade.reference, envelope: payment('RWX-FIRST') }]);
    const before = await waitFor('the first payment applied', () => db('webhook_events').where({ event_id: eventId, outcome: 'applied' }).first());

    await write.write([{ key: trade.reference, envelope: payment('RWX-SECOND') }]);
    const dead = await waitFor('the second payment dead-lettered', async () => {
      const messages = await readTopic(kafka, topics.deadLetters, { decode: false, quietMs: 500 });
      return messages.find((message) => message.headers.dlq_event_id === eventId);
    });
    expect(dead.headers).toEqual(expect.objectContaining({ dlq_reason: 'event_id_collision', dlq_detail: expect.stringContaining('with other content') }));
    expect(await db('webhook_events').where({ event_id: eventId }).first()).toEqual(before);
  });
});

