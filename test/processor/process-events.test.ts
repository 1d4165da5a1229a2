import type { Knex } from 'knex';
import type { KafkaMessage } from 'kafkajs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import type { WebhookEventRecord } from '../../schemas/webhook-event';
import { createRegistry, registerValueSchema } from '../../platform/schema-registry';
import { classifyFailure } from '../../processor/errors';
import { createProcessorMetrics } from '../../processor/metrics';
import { createEventApplier } from '../../processor/process-events';
import { serviceEndpoints } from '../setup/service-endpoints';
import { envelopeFor } from '../support/events';
import { uniqueName } from '../support/names';
import { insertTrade, migratedDatabase } from '../support/processor';

const SOURCE = { topic: 'webhook-events', partition: 0 };

describe('createEventApplier', () => {
  let db: Knex;
  let registry: SchemaRegistry;
  let schemaId: number;
  let offset = 0;
  beforeAll(async () => {
    ({ db } = await migratedDatabase());
    registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
    schemaId = await registerValueSchema(registry, uniqueName('events'), WEBHOOK_EVENT_SCHEMA_FILE);
  });

  /** Records as the consumer hands them over: Confluent wire format, one offset each. */
  async function records(envelopes: WebhookEventRecord[]): Promise<KafkaMessage[]> {
    return Promise.all(
      envelopes.map(async (envelope) => ({ key: null, value: await registry.encode(schemaId, envelope), timestamp: '0', attributes: 0, offset: String((offset += 1)), headers: {} })),
    );
  }

  async function buyTrade(): Promise<number> {
    return (await insertTrade(db, { trade_type: 'buy', status: 'processing' })).id;
  }

  const completion = (tradeId: number) => envelopeFor('buy_completion', JSON.stringify({ trade_id: tradeId, status: 'completed', transaction_hash: `0x${tradeId}` }));

  it('applies a chunk in one transaction and pairs each result with its record', async () => {
    const metrics = createProcessorMetrics();
    const applier = createEventApplier({ db, registry, notificationsTopic: 'notifications', metrics, eventsPerTransaction: 500, transactionsInFlight: 1 });
    const messages = await records([completion(await buyTrade()), completion(await buyTrade()), completion(await buyTrade())]);

    const processed = await applier.apply(messages, SOURCE);
    expect(processed.map(({ message, result }) => [message, result.outcome])).toEqual(messages.map((message) => [message, 'applied']));
    const perTransaction = (await metrics.eventsPerTransaction.get()).values;
    expect(perTransaction.filter((value) => value.metricName !== 'webhook_events_per_transaction_bucket').map(({ metricName, value }) => [metricName, value])).toEqual([
      ['webhook_events_per_transaction_sum', 3],
      ['webhook_events_per_transaction_count', 1],
    ]);
  });

  it("applies the neighbours of an event whose data the database refuses, and rejects that one alone under the refusal's code", async () => {
    const metrics = createProcessorMetrics();
    const applier = createEventApplier({ db, registry, notificationsTopic: 'notifications', metrics, eventsPerTransaction: 500, transactionsInFlight: 1 });
    const [first, second, third] = [await buyTrade(), await buyTrade(), await buyTrade()];
    // jsonb holds no \u0000: PostgreSQL refuses this metadata with SQLSTATE 22P05.
    const refused = envelopeFor('trade_status', `{"trade_id":${second},"status":"completed","metadata":{"note":"\\u0000"}}`);
    const processed = await applier.apply(await records([completion(first!), refused, completion(third!)]), SOURCE);

    expect(processed.map(({ result }) => [result.outcome, result.reason])).toEqual([
      ['applied', undefined],
      ['rejected', 'db_data_exception'],
      ['applied', undefined],
    ]);
    expect(processed[1]!.result.detail).toMatch(/^the database refused it \(SQLSTATE 22P05\): /);
    expect((await db('trades').whereIn('id', [first, second, third]).orderBy('id')).map((trade) => trade.status)).toEqual(['completed', 'processing', 'completed']);
    expect(await db('webhook_events').where({ event_id: refused.event_id }).first()).toEqual(expect.objectContaining({ outcome: 'rejected', reason: 'db_data_exception' }));
    expect((await metrics.failures.get()).values.map(({ labels, value }) => [labels, value])).toEqual([[{ code: 'db_data_exception', decision: 'dead_letter' }, 1]]);
  });

  it('throws a failure it must not dead-letter, with nothing of the chunk written', async () => {
    const applier = createEventApplier({ db, registry, notificationsTopic: 'notifications', metrics: createProcessorMetrics(), eventsPerTransaction: 500, transactionsInFlight: 1 });
    const tradeId = await buyTrade();
    const [known] = await records([completion(tradeId)]);
    // A schema id no registry issued: fetching it fails for the caller to retry.
    const unknown = Buffer.from(known!.value!);
    unknown.writeInt32BE(2_000_000_000, 1);

    const error = await applier.apply([known!, { ...known!, value: unknown, offset: String((offset += 1)) }], SOURCE).catch((failure: unknown) => failure);
    expect(classifyFailure(error)).toEqual(expect.objectContaining({ code: 'schema_unknown', decision: 'retry' }));
    expect(await db('webhook_events').where({ trade_id: tradeId })).toEqual([]);
    expect((await db('trades').where({ id: tradeId }).first()).status).toBe('processing');
  });
});
