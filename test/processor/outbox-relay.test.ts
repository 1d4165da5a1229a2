import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import { SpanStatusCode } from '@opentelemetry/api';
import * as kafkajs from 'kafkajs';
import { Kafka, KafkaJSNonRetriableError, logLevel, type Producer } from 'kafkajs';
import { createProcessorMetrics, type ProcessorMetrics } from '../../processor/metrics';
import { createOutboxRelay, type OutboxRelay } from '../../processor/outbox-relay';
import { createPartitionedSender } from '../../platform/partitioned-send';
import { createReplaceableProducer } from '../../platform/replaceable-producer';
import { createRegistry } from '../../platform/schema-registry';
import { createLogger } from '../../platform/logger';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from '../support/cleanup';
import { createTestTopic, testAdmin, testKafka } from '../support/kafka';
import { startKafkaProxy } from '../support/kafka-proxy';
import { migratedDatabase } from '../support/processor';
import { CapturedLogs } from '../support/receiver';
import { readTopic } from '../support/topic-reader';
import { recordSpans } from '../support/tracing';
import { waitFor } from '../support/wait-for';
import { withholdingPartition } from '../support/withheld-partition';

const kafka = testKafka();

/**
 * What producer.send rejects with while the broker is down (kafkajs 2.2): its retrier wraps the
 * lost connection as the cause of a non-retriable error. kafkajs exports the class at run time only.
 */
function brokerDown(): Error {
  const { KafkaJSConnectionClosedError } = kafkajs as unknown as Record<string, new (message: string, details: object) => Error>;
  const closed = new KafkaJSConnectionClosedError!('Closed connection', { host: '127.0.0.1', port: 9092 });
  return Reflect.construct(KafkaJSNonRetriableError, [closed, { cause: closed }]);
}

function notification(eventId: string, overrides: Record<string, unknown> = {}) {
  return {
    event_id: eventId,
    user_id: '1234567890123456789',
    trade_id: '9007199254740993',
    status: 'completed',
    trade_type: 'buy',
    crypto_amount: '0.001',
    crypto_currency: 'BTC',
    fiat_amount: null,
    fiat_currency: null,
    occurred_at: Date.parse('2026-01-01T00:00:00Z'),
    ...overrides,
  };
}

interface RelayUnderTest {
  relay: OutboxRelay;
  topic: string;
  logs: CapturedLogs;
  metrics: ProcessorMetrics;
  /** Sweep claims (`select … for update skip locked`) run so far on `db`. */
  sweeps(): number;
}

/** A relay on a topic of its own, with a real producer, registry and database. */
async function relayOn(
  db: Knex,
  options: { batchSize: number; partitions?: number; graceMs?: number; producer?: (real: Producer) => Producer; producerKafka?: Kafka },
): Promise<RelayUnderTest> {
  const topic = await createTestTopic(await testAdmin(kafka), { prefix: 'notifications', partitions: options.partitions });
  const registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
  // Each producer the relay is given, the first and every replacement, goes through the seam.
  const producer = createReplaceableProducer(() => {
    const real = (options.producerKafka ?? kafka).producer({ idempotent: true, maxInFlightRequests: 1 });
    return options.producer?.(real) ?? real;
  });
  await producer.connect();
  onCleanup(() => producer.disconnect());
  let sweeps = 0;
  db.on('query', (query: { sql: string }) => {
    if (/from outbox[\s\S]*for update skip locked/.test(query.sql)) sweeps += 1;
  });
  const logs = new CapturedLogs();
  const metrics = createProcessorMetrics();
  const relay = createOutboxRelay({
    db,
    producer,
    registry,
    notifications: createPartitionedSender({ kafka, topic }),
    batchSize: options.batchSize,
    pollMs: 100,
    graceMs: options.graceMs ?? 0,
    logger: createLogger({ level: 'info', name: 'relay' }, logs),
    metrics,
  });
  onCleanup(() => relay.stop());
  return { relay, topic, logs, metrics, sweeps: () => sweeps };
}

async function insertRows(db: Knex, topic: string, payloads: Array<ReturnType<typeof notification>>): Promise<void> {
  await db('outbox').insert(payloads.map((payload) => ({ event_id: payload.event_id, topic, message_key: String(payload.user_id), payload: JSON.stringify(payload) })));
}

describe('outbox relay: a row that cannot be published', () => {
  it('neither stops nor spins the sweep: the rows behind it are published, and it is retried with growing backoff', async () => {
    const { db } = await migratedDatabase();
    const under = await relayOn(db, { batchSize: 1 });
    // The poison row first, in a batch of one: it is all the sweep sees until it backs off.
    await insertRows(db, under.topic, [notification('poison', { user_id: 'not-a-number' }), ...[1, 2, 3, 4, 5].map((n) => notification(`valid-${n}`))]);

    await under.relay.start();
    await waitFor('the valid rows sent', async () => ((await db('outbox').whereNull('sent_at').count<{ count: string }[]>('* as count'))[0]!.count === '1' ? true : undefined), 10_000);
    const sweepsBefore = under.sweeps();
    await sleep(3000);
    const sweepsOver3s = under.sweeps() - sweepsBefore;

    const published = await readTopic(kafka, under.topic, { count: 5 });
    expect(published.map((message) => message.value.event_id)).toEqual(['valid-1', 'valid-2', 'valid-3', 'valid-4', 'valid-5']);
    // One claim a poll (every 100 ms) and a few retries of the poison row, not a loop.
    expect(sweepsOver3s).toBeLessThan(60);
    const poison = await db('outbox').where({ event_id: 'poison' }).first();
    expect(poison.sent_at).toBeNull();
    // Backoff 1 s, 2 s, 4 s: in the 3–5 s since the start, two to four attempts.
    expect(poison.attempts).toBeGreaterThanOrEqual(2);
    expect(poison.attempts).toBeLessThanOrEqual(4);
    expect(poison.next_attempt_at.getTime()).toBeGreaterThan(Date.now());
    expect(poison.last_error).toMatch(/not-a-number/);
    const logged = under.logs.lines.filter((line) => line.event_id === 'poison');
    expect(logged.at(-1)).toEqual(expect.objectContaining({ outbox_id: poison.id, attempts: poison.attempts, last_error: poison.last_error }));
    expect(await under.metrics.registry.getSingleMetricAsString('outbox_relay_errors_total')).toMatch(new RegExp(`outbox_relay_errors_total ${poison.attempts}$`, 'm'));
  });

  it('publishes the other rows of a batch the broker refuses because of one of them', async () => {
    const { db } = await migratedDatabase();
    const under = await relayOn(db, { batchSize: 10 });
    // Over the broker's default 1 MB message limit: it encodes, but the broker refuses it.
    const oversized = notification('oversized', { status: 'x'.repeat(2 * 1024 * 1024) });
    await insertRows(db, under.topic, [notification('before'), oversized, notification('after')]);

    await under.relay.start();
    await waitFor('the other rows sent', async () => ((await db('outbox').whereIn('event_id', ['before', 'after']).whereNull('sent_at').first()) ? undefined : true), 20_000);
    const refused = await waitFor('the refusal recorded', async () => {
      const row = await db('outbox').where({ event_id: 'oversized' }).first();
      return row.attempts > 0 ? row : undefined;
    });
    expect(refused.sent_at).toBeNull();
    expect(refused.last_error).toBeTruthy();
    const published = await readTopic(kafka, under.topic, { count: 2 });
    expect(published.map((message) => message.value.event_id)).toEqual(['before', 'after']);
  });

  it('ends every relay span, and gives each row sent again one by one a span of its own, whose context its notification carries', async () => {
    const recorded = recordSpans();
    try {
      const { db } = await migratedDatabase();
      const under = await relayOn(db, { batchSize: 10 });
      const oversized = notification('oversized', { status: 'x'.repeat(2 * 1024 * 1024) });
      await insertRows(db, under.topic, [notification('before'), oversized, notification('after')]);

      await under.relay.start();
      const published = await readTopic(kafka, under.topic, { count: 2 });
      await waitFor('the refusal recorded', async () => ((await db('outbox').where({ event_id: 'oversized' }).first()).attempts > 0 ? true : undefined));
      await under.relay.stop();

      const relays = recorded.spans.filter((span) => span.name === 'relay');
      expect(relays.filter((span) => !span.ended)).toEqual([]);
      for (const message of published) {
        const spanId = String(message.headers.traceparent).split('-')[2];
        const span = relays.find((candidate) => candidate.spanContext().spanId === spanId);
        expect(span?.attributes['webhook.event_id']).toBe(message.value.event_id);
        expect(span?.status.code).toBe(SpanStatusCode.UNSET);
      }
      // The batch's send and the row's own: two spans, each its refusal recorded.
      const oversizedSpans = relays.filter((span) => span.attributes['webhook.event_id'] === 'oversized');
      expect(oversizedSpans.length).toBeGreaterThanOrEqual(2);
      expect(oversizedSpans.every((span) => span.status.code === SpanStatusCode.ERROR)).toBe(true);
    } finally {
      await recorded.stop();
    }
  });

  it('publishes bigint ids exactly, in the key and in trade_id and user_id headers beside event_id', async () => {
    const { db } = await migratedDatabase();
    const under = await relayOn(db, { batchSize: 10 });
    await insertRows(db, under.topic, [notification('exact')]);
    await under.relay.start();

    const [message] = await readTopic(kafka, under.topic, { count: 1 });
    expect(message!.key).toBe('1234567890123456789');
    expect(message!.headers).toEqual({ event_id: 'exact', trade_id: '9007199254740993', user_id: '1234567890123456789' });
    expect([message!.value.user_id, message!.value.trade_id]).toEqual([1234567890123456789n, 9007199254740993n]);
  });

  it('charges no row while the broker is out of reach, and sends every row on the first sweep after it', async () => {
    const { db } = await migratedDatabase();
    let reachable = false;
    // One seam: the producer's send fails as kafkajs reports a broker that went away.
    const under = await relayOn(db, {
      batchSize: 10,
      producer: (real) => ({
        ...real,
        send: (record) => (reachable ? real.send(record) : Promise.reject(brokerDown())),
      }),
    });
    await insertRows(db, under.topic, [1, 2, 3].map((n) => notification(`during-outage-${n}`)));
    await under.relay.start();
    await sleep(3000);

    const rows = await db('outbox').orderBy('id');
    expect(rows.map((row) => [row.attempts, row.next_attempt_at, row.sent_at])).toEqual([
      [0, null, null],
      [0, null, null],
      [0, null, null],
    ]);
    expect(under.logs.lines.some((line) => String(line.msg).startsWith('Outbox sweep paused'))).toBe(true);

    reachable = true;
    const restoredAt = Date.now();
    await waitFor('every row sent', async () => ((await db('outbox').whereNull('sent_at').first()) ? undefined : true), 10_000);
    expect(Date.now() - restoredAt).toBeLessThan(2000);
  });
});

describe('outbox relay: sending batches', () => {
  /** Users whose notifications land on the partition of `broken` and on others, on a topic of six partitions. */
  async function usersAround(topic: string) {
    const partitioner = createPartitionedSender({ kafka, topic });
    await partitioner.start();
    const users = Array.from({ length: 24 }, (_, index) => String(1_000_000 + index));
    const broken = partitioner.partitionOf({ key: users[0]!, value: null });
    const onBroken = users.filter((user) => partitioner.partitionOf({ key: user, value: null }) === broken);
    return { users, broken, onBroken };
  }

  /**
   * A producer that, while `failing()`, never sends `broken()`'s partition and answers for the
   * others (tulios/kafkajs#1303 on every call): the sender acknowledges the other partitions and
   * leaves that one unacknowledged with a retriable error.
   */
  const failingFor = (broken: () => number, failing: () => boolean) => (real: Producer): Producer => ({ ...real, send: withholdingPartition(real, broken, failing) });

  it('the sweep marks sent the rows of every partition that was acknowledged, and leaves the failed partition\'s rows uncharged until it is', async () => {
    const { db } = await migratedDatabase();
    let failing = true;
    let broken = -1;
    const under = await relayOn(db, { batchSize: 100, partitions: 6, producer: failingFor(() => broken, () => failing) });
    const around = await usersAround(under.topic);
    broken = around.broken;
    await insertRows(db, under.topic, around.users.map((user) => notification(`for-${user}`, { user_id: user })));
    await under.relay.start();

    const others = around.users.length - around.onBroken.length;
    await waitFor('the other partitions\' rows sent', async () => ((await db('outbox').whereNotNull('sent_at').count<{ count: string }[]>('* as count'))[0]!.count === String(others) ? true : undefined), 10_000);
    await sleep(500);
    const unsent = await db('outbox').whereNull('sent_at').orderBy('id');
    expect(unsent.map((row) => [row.message_key, row.attempts, row.next_attempt_at])).toEqual(around.onBroken.map((user) => [user, 0, null]));

    failing = false;
    await waitFor('every row sent', async () => ((await db('outbox').whereNull('sent_at').first()) ? undefined : true), 10_000);
    const published = await readTopic(kafka, under.topic, { quietMs: 1500 });
    expect(new Set(published.map((message) => message.key))).toEqual(new Set(around.users));
  });

  it('the fast path sends what is handed over while a send is under way together, in the next send', async () => {
    const { db } = await migratedDatabase();
    const calls: string[][] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const under = await relayOn(db, {
      batchSize: 100,
      graceMs: 600_000,
      producer: (real) => ({
        ...real,
        send: async (record) => {
          calls.push(record.messages.map((message) => String(message.headers!.event_id)));
          // The first send waits until the test lets it go.
          if (calls.length === 1) await held;
          return real.send(record);
        },
      }),
    });
    await insertRows(db, under.topic, ['a', 'b', 'c', 'd'].map((id) => notification(id)));
    const rows = await db('outbox').orderBy('id');
    const entry = (row: (typeof rows)[number]) => ({ id: row.id, messageKey: row.message_key, payload: row.payload });
    await under.relay.start();

    under.relay.publish([entry(rows[0])]);
    await waitFor('the first send under way', async () => (calls.length === 1 ? true : undefined));
    for (const row of rows.slice(1)) under.relay.publish([entry(row)]);
    release();
    await under.relay.stop();

    expect(calls).toEqual([['a'], ['b', 'c', 'd']]);
    expect(await db('outbox').whereNull('sent_at').first()).toBeUndefined();
  });

  it('the fast path marks sent only the entries whose partition was acknowledged', async () => {
    const { db } = await migratedDatabase();
    let broken = -1;
    // A grace longer than the test: the sweep leaves every row to the fast path.
    const under = await relayOn(db, { batchSize: 100, partitions: 6, graceMs: 600_000, producer: failingFor(() => broken, () => true) });
    const around = await usersAround(under.topic);
    broken = around.broken;
    await insertRows(db, under.topic, around.users.map((user) => notification(`fast-${user}`, { user_id: user })));
    const rows = await db('outbox').orderBy('id');
    await under.relay.start();

    under.relay.publish(rows.map((row) => ({ id: row.id, messageKey: row.message_key, payload: row.payload })));
    await under.relay.stop();

    const unsent = await db('outbox').whereNull('sent_at').orderBy('id');
    expect(unsent.map((row) => row.message_key)).toEqual(around.onBroken);
    expect(under.logs.lines.filter((line) => line.msg === 'Could not publish notifications; the outbox sweep will retry')).toEqual([
      expect.objectContaining({ partition: around.broken, count: around.onBroken.length }),
    ]);
    const published = await readTopic(kafka, under.topic, { quietMs: 1500 });
    expect(published.map((message) => message.key).sort()).toEqual(around.users.filter((user) => !around.onBroken.includes(user)).sort());
  });
});

describe('outbox relay: a send the broker wrote and whose acknowledgement was lost', () => {
  const lostMessage = 'Could not publish notifications; the outbox sweep will retry';

  /**
   * A relay whose producers reach the broker through a proxy that can lose the answers to
   * produce requests, and give up on a send within a few seconds. A grace longer than the test
   * leaves every row to the fast path, so which send carries which row is known.
   */
  async function relayBehindProxy(db: Knex) {
    const seeds = serviceEndpoints().kafkaBrokers;
    const proxy = await startKafkaProxy(await testAdmin(kafka), seeds);
    const producerKafka = new Kafka({
      clientId: 'relay-behind-proxy',
      brokers: seeds,
      logLevel: logLevel.NOTHING,
      socketFactory: proxy.socketFactory,
      requestTimeout: 1000,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 200 },
    });
    const under = await relayOn(db, { batchSize: 100, graceMs: 600_000, producerKafka });
    return { proxy, under };
  }

  /**
   * Publishes the first row while the proxy loses every answer to a produce request, until the
   * relay has given the send up: the broker appended the record on the first attempt (and
   * answered each retry as its duplicate), and the relay never heard.
   */
  async function loseTheAcknowledgementOfTheFirst(db: Knex, ids: string[]) {
    const { proxy, under } = await relayBehindProxy(db);
    await insertRows(db, under.topic, ids.map((id) => notification(id)));
    const rows = await db('outbox').orderBy('id');
    const entries = rows.map((row) => ({ id: row.id, messageKey: row.message_key, payload: row.payload }));
    await under.relay.start();

    proxy.loseProduceAnswers(true);
    under.relay.publish([entries[0]!]);
    await waitFor('the send given up', async () => (under.logs.lines.some((line) => line.msg === lostMessage) ? true : undefined), 20_000);
    proxy.loseProduceAnswers(false);
    expect(proxy.lost()).toBeGreaterThanOrEqual(1);
    return { under, entries };
  }

  async function unsentIds(db: Knex): Promise<string[]> {
    return (await db('outbox').whereNull('sent_at').orderBy('id')).map((row) => row.event_id);
  }

  it('writes the next send of as many records, which the broker would take for a duplicate of the written one', async () => {
    const { db } = await migratedDatabase();
    const ids = ['written-unacknowledged', 'next-1', 'next-2', 'next-3'];
    const { under, entries } = await loseTheAcknowledgementOfTheFirst(db, ids);

    // One record, as the written batch had; then two more in a send of their own.
    under.relay.publish([entries[1]!]);
    under.relay.publish([entries[2]!, entries[3]!]);
    await under.relay.stop();

    expect(await unsentIds(db)).toEqual(['written-unacknowledged']);
    const published = await readTopic(kafka, under.topic, { quietMs: 1500 });
    // The first row is on the topic once although its send failed: the broker did write it.
    expect(published.map((message) => message.value.event_id).sort()).toEqual([...ids].sort());
  });

  it('writes the next send of more records, which the broker would refuse as out of order, and every one after it', async () => {
    const { db } = await migratedDatabase();
    const ids = ['written-unacknowledged', 'next-1', 'next-2', 'next-3'];
    const { under, entries } = await loseTheAcknowledgementOfTheFirst(db, ids);
    const failuresBefore = under.logs.lines.filter((line) => line.msg === lostMessage).length;

    under.relay.publish([entries[1]!, entries[2]!]);
    under.relay.publish([entries[3]!]);
    await under.relay.stop();

    expect(under.logs.lines.filter((line) => line.msg === lostMessage)).toHaveLength(failuresBefore);
    expect(await unsentIds(db)).toEqual(['written-unacknowledged']);
    const published = await readTopic(kafka, under.topic, { quietMs: 1500 });
    expect(published.map((message) => message.value.event_id).sort()).toEqual([...ids].sort());
  });
});
