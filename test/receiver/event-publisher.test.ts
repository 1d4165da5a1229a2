import { ConfigResourceTypes, KafkaJSError, type Admin, type Kafka, type Producer, type ProducerRecord } from 'kafkajs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { createEventPublisher, type EventPublisher } from '../../receiver/event-publisher';
import { createReceiverMetrics } from '../../receiver/metrics';
import { PublishError } from '../../receiver/publish-failure';
import { WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { createKafka } from '../../platform/kafka';
import { createPartitionedSender } from '../../platform/partitioned-send';
import { createRegistry, registerValueSchema } from '../../platform/schema-registry';
import { createLogger } from '../../platform/logger';
import { signPayload } from '../../schemas/signatures';
import type { WebhookEventRecord } from '../../schemas/webhook-event';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from '../support/cleanup';
import { createTestTopic, testAdmin, testKafka } from '../support/kafka';
import { CapturedLogs, startTestReceiver, TEST_SECRETS, type TestReceiver } from '../support/receiver';
import { readTopic } from '../support/topic-reader';
import { waitFor } from '../support/wait-for';
import { envelopeFor } from '../support/events';
import { freePort } from '../../scripts/harness/free-port';
import { uniqueName } from '../support/names';

const kafka = testKafka();

/** A signed buy webhook of about `bytes` bytes: a valid body padded with a field the receiver keeps as sent. */
function paddedBuy(tradeId: number, bytes: number): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ trade_id: tradeId, status: 'failed', note: 'p'.repeat(Math.max(0, bytes - 60)) });
  return { body, headers: { 'content-type': 'application/json', 'x-buy-webhook-signature': signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET) } };
}

async function postAll(receiver: TestReceiver, count: number, bytes: number, firstTrade: number): Promise<number[]> {
  const requests = Array.from({ length: count }, (_, index) => paddedBuy(firstTrade + index, bytes));
  const responses = await Promise.all(requests.map(({ body, headers }) => fetch(`${receiver.url}/api/webhooks/buy-complete`, { method: 'POST', body, headers })));
  await Promise.all(responses.map((response) => response.arrayBuffer()));
  return responses.map((response) => response.status);
}

/** A topic whose batches the broker refuses past `maxMessageBytes` (Kafka's max.message.bytes). */
async function topicRefusingOver(admin: Admin, maxMessageBytes: number): Promise<string> {
  const topic = await createTestTopic(admin, { partitions: 1 });
  const entry = { name: 'max.message.bytes', value: String(maxMessageBytes) };
  await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [entry] }] });
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [entry.name] }] });
  expect(described.resources[0]!.configEntries[0]!.configValue).toBe(entry.value);
  return topic;
}

describe('receiver: produce batches stay under the broker size limit', () => {
  it('answers 150 concurrent 8 KB webhooks and then 40 concurrent 60 KB webhooks on one partition with 202 each, and stays ready', async () => {
    const topic = await createTestTopic(await testAdmin(kafka), { partitions: 1 });
    const receiver = await startTestReceiver({ topic });

    const small = await postAll(receiver, 150, 8 * 1024, 40_000);
    const large = await postAll(receiver, 40, 60 * 1024, 50_000);
    expect(small.filter((status) => status !== 202)).toEqual([]);
    expect(large.filter((status) => status !== 202)).toEqual([]);
    expect((await fetch(`${receiver.url}/readyz`)).status).toBe(200);

    const messages = await readTopic(kafka, topic, { count: 190, timeoutMs: 60_000 });
    expect(messages).toHaveLength(190);
  });

  it('answers 503 for a webhook whose batch the broker refuses as too large, stays ready, and accepts the next one', async () => {
    const topic = await topicRefusingOver(await testAdmin(kafka), 16 * 1024);
    const receiver = await startTestReceiver({ topic });

    const [tooLarge] = await postAll(receiver, 1, 24 * 1024, 60_000);
    expect(tooLarge).toBe(503);
    expect((await fetch(`${receiver.url}/readyz`)).status).toBe(200);
    const [fits] = await postAll(receiver, 1, 1024, 60_001);
    expect(fits).toBe(202);

    const refusal = receiver.logs.lines.find((line) => line.component === undefined && line.level === 50);
    expect(refusal).toEqual(
      expect.objectContaining({
        events: 1,
        bytes: expect.any(Number),
        msg: "Kafka refused a batch for what it holds: PUBLISH_BATCH_MAX_BYTES must stay under the topic's max.message.bytes",
      }),
    );
    expect(receiver.logs.messages()).not.toContain('Kafka did not acknowledge a batch');
  });
});

/**
 * A publisher of its own, as the receiver builds it, not started; the test's services unless
 * `brokers` or `registryUrl` say otherwise. `producers` is the seam: each producer the publisher
 * makes goes through it.
 */
function unstartedPublisher(options: {
  schemaId: number;
  topic: string;
  maxBatchBytes?: number;
  brokers?: string[];
  registryUrl?: string;
  registry?: SchemaRegistry;
  producers?: (producer: Producer) => Producer;
  lingerMs?: number;
  maxBatch?: number;
}): {
  publisher: EventPublisher;
  logs: CapturedLogs;
} {
  const endpoints = serviceEndpoints();
  const logs = new CapturedLogs();
  const logger = createLogger({ level: 'info', name: 'receiver' }, logs);
  const client = createKafka({ clientId: 'publisher-test', brokers: options.brokers ?? endpoints.kafkaBrokers, logger });
  const seam = options.producers;
  const publisherKafka: Kafka = seam ? Object.assign(Object.create(client) as Kafka, { producer: (config?: Parameters<Kafka['producer']>[0]) => seam(client.producer(config)) }) : client;
  const publisher = createEventPublisher({
    kafka: publisherKafka,
    registry: options.registry ?? createRegistry(options.registryUrl ?? endpoints.schemaRegistryUrl),
    schemaId: options.schemaId,
    topic: options.topic,
    maxBatch: options.maxBatch ?? 1000,
    maxBatchBytes: options.maxBatchBytes ?? 64 * 1024,
    lingerMs: options.lingerMs ?? 0,
    lanes: 1,
    ackTimeoutMs: 10_000,
    logger,
    metrics: createReceiverMetrics(),
  });
  onCleanup(() => publisher.close());
  return { publisher, logs };
}

/** A started publisher of its own on `topic`, with a byte cap of `maxBatchBytes`, once it is ready. */
async function publisherFor(
  topic: string,
  maxBatchBytes: number,
  producers?: (producer: Producer) => Producer,
  lingerMs?: number,
): Promise<{ publisher: EventPublisher; logs: CapturedLogs }> {
  const registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
  const started = unstartedPublisher({ schemaId: await registerValueSchema(registry, topic, WEBHOOK_EVENT_SCHEMA_FILE), topic, maxBatchBytes, registry, producers, lingerMs });
  await started.publisher.start();
  await waitFor('the publisher to connect', async () => (started.publisher.isReady() ? true : undefined));
  return started;
}

function event(n: number, bodyBytes: number): WebhookEventRecord {
  return envelopeFor('buy_completion', JSON.stringify({ trade_id: n, status: 'failed', note: 'p'.repeat(bodyBytes) }), `event-${n}`);
}

describe('event publisher: batches bounded by bytes', () => {
  it('splits 40 events of 8 KB queued at once into batches a topic refusing batches over 70 KB accepts', async () => {
    const topic = await topicRefusingOver(await testAdmin(kafka), 70_000);
    const { publisher } = await publisherFor(topic, 64 * 1024);
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, index) => publisher.publish(String(index % 3), event(index, 8 * 1024))));
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expect(await readTopic(kafka, topic, { count: 40 })).toHaveLength(40);
  });

  it('refuses an event larger than a batch may be without sending it, and stays ready', async () => {
    const topic = await createTestTopic(await testAdmin(kafka), { partitions: 1 });
    const { publisher } = await publisherFor(topic, 8 * 1024);
    const refusal = await publisher.publish('1', event(1, 9 * 1024)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PublishError);
    expect(refusal).toEqual(expect.objectContaining({ code: 'RECORD_TOO_LARGE', retriable: false }));
    expect(publisher.isReady()).toBe(true);
    await publisher.publish('2', event(2, 1024));
    const messages = await readTopic(kafka, topic, { count: 1 });
    expect(messages.map((message) => message.key)).toEqual(['2']);
  });
});

describe('event publisher: linger', () => {
  it('sends a batch lingerMs after its oldest event was queued, with the events queued meanwhile', async () => {
    const topic = await createTestTopic(await testAdmin(kafka), { partitions: 3 });
    const calls: Array<{ at: number; events: number }> = [];
    const { publisher } = await publisherFor(
      topic,
      64 * 1024,
      (producer) => ({
        ...producer,
        send: (record) => {
          calls.push({ at: performance.now(), events: record.messages.length });
          return producer.send(record);
        },
      }),
      1000,
    );
    const queuedAt = performance.now();
    const first = publisher.publish('1', event(1, 100));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = publisher.publish('2', event(2, 100));
    await Promise.all([first, second]);

    expect(calls.map(({ events }) => events)).toEqual([2]);
    // Timers may fire a millisecond early; the batch did not wait for the second event's own
    // linger, which would have ended 1,300 ms after the first was queued.
    expect(calls[0]!.at - queuedAt).toBeGreaterThanOrEqual(995);
    expect(calls[0]!.at - queuedAt).toBeLessThan(1250);
  });
});

describe('event publisher: linger cut short', () => {
  async function lingeringPublisher(maxBatch: number) {
    const topic = await createTestTopic(await testAdmin(kafka), { partitions: 3 });
    const registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
    const { publisher } = unstartedPublisher({ schemaId: await registerValueSchema(registry, topic, WEBHOOK_EVENT_SCHEMA_FILE), topic, registry, lingerMs: 10_000, maxBatch });
    await publisher.start();
    await waitFor('the publisher to connect', async () => (publisher.isReady() ? true : undefined));
    return { publisher, topic };
  }

  it('sends a full batch at once, without waiting for the linger', async () => {
    const { publisher, topic } = await lingeringPublisher(3);
    const started = performance.now();
    await Promise.all([1, 2, 3].map((n) => publisher.publish(String(n), event(n, 100))));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await readTopic(kafka, topic, { count: 3 })).toHaveLength(3);
  });

  it('sends a lingering batch at once when closed, and acknowledges it before the close ends', async () => {
    const { publisher, topic } = await lingeringPublisher(1000);
    const started = performance.now();
    const published = publisher.publish('1', event(1, 100));
    await publisher.close();
    await expect(published).resolves.toEqual({ topic, partition: expect.any(Number), offset: '0' });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await readTopic(kafka, topic, { count: 1 })).toHaveLength(1);
  });
});

describe('event publisher: a batch is one produce call, acknowledged whole', () => {
  it('sends a batch over six partitions as one produce call carrying all six, and every event reaches the partition its key hashes to', async () => {
    const topic = await createTestTopic(await testAdmin(kafka), { partitions: 6 });
    const calls: number[][] = [];
    const { publisher } = await publisherFor(topic, 64 * 1024, (producer) => ({
      ...producer,
      send: (record) => {
        calls.push(record.messages.map((message) => message.partition!));
        return producer.send(record);
      },
    }));
    const keys = Array.from({ length: 30 }, (_, index) => String(1000 + index));
    await Promise.all(keys.map((key, index) => publisher.publish(key, event(index, 100))));

    const partitioner = createPartitionedSender({ kafka, topic });
    await partitioner.start();
    const partitionsUsed = new Set(keys.map((key) => partitioner.partitionOf({ key, value: null })));
    // One batch in one call, every event in it on the partition its key hashes to.
    expect(partitionsUsed.size).toBe(6);
    expect(calls).toEqual([keys.map((key) => partitioner.partitionOf({ key, value: null }))]);
    const messages = await readTopic(kafka, topic, { count: 30 });
    expect(messages).toHaveLength(30);
    for (const message of messages) expect(message.partition).toBe(partitioner.partitionOf({ key: message.key, value: null }));
  });

  it('fails every event of a batch whose produce call failed, is unready, then recovers with a fresh producer', async () => {
    const topic = await createTestTopic(await testAdmin(kafka), { partitions: 6 });
    const partitioner = createPartitionedSender({ kafka, topic });
    await partitioner.start();
    const keys = Array.from({ length: 30 }, (_, index) => String(2000 + index));
    const broken = partitioner.partitionOf({ key: keys[0]!, value: null });
    let producersMade = 0;
    const { publisher } = await publisherFor(topic, 64 * 1024, (producer) => {
      producersMade += 1;
      // Only the first producer fails, and only a call carrying `broken`'s partition.
      if (producersMade > 1) return producer;
      const fails = (record: ProducerRecord) => record.messages.some((message) => message.partition === broken);
      return { ...producer, send: (record) => (fails(record) ? Promise.reject(new KafkaJSError('not the leader any more', { retriable: true })) : producer.send(record)) };
    });

    const first = await Promise.allSettled(keys.map((key, index) => publisher.publish(key, event(index, 100))));
    expect(first.map((result) => (result.status === 'rejected' ? (result.reason as PublishError).code : 'acknowledged'))).toEqual(keys.map(() => 'PUBLISH_FAILED'));
    expect(publisher.isReady()).toBe(false);

    await waitFor('the publisher ready again', async () => (publisher.isReady() ? true : undefined));
    await Promise.all(keys.map((key, index) => publisher.publish(key, event(100 + index, 100))));
    expect(producersMade).toBe(2);
    // The second round whole, and nothing of the first: its one call failed.
    const written = await readTopic(kafka, topic, { quietMs: 2000 });
    expect(written.map((message) => message.value.event_id).sort()).toEqual(keys.map((_, index) => `event-${100 + index}`).sort());
  });
});

describe('event publisher: constructed without I/O, started by start()', () => {
  it('constructs with nothing listening at the registry or the broker, refuses to publish before start(), and start() reports the registry', async () => {
    const nowhere = await freePort();
    const { publisher } = unstartedPublisher({ schemaId: 1, topic: uniqueName('unstarted'), brokers: [`127.0.0.1:${nowhere}`], registryUrl: `http://127.0.0.1:${nowhere}` });
    expect(publisher.isReady()).toBe(false);
    await expect(publisher.publish('1', event(1, 10))).rejects.toThrow('publish() called before start() finished');
    await expect(publisher.start()).rejects.toThrow();
    expect(publisher.isReady()).toBe(false);
  });

  it('starts while the broker is unreachable, and is not ready after its connection failed', async () => {
    const topic = uniqueName('unreachable');
    const registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
    const schemaId = await registerValueSchema(registry, topic, WEBHOOK_EVENT_SCHEMA_FILE);
    const { publisher, logs } = unstartedPublisher({ schemaId, topic, registry, brokers: [`127.0.0.1:${await freePort()}`] });
    await publisher.start();
    await waitFor('the failed connection to be logged', async () => (logs.messages().includes('Kafka producer could not connect; retrying') ? true : undefined));
    expect(publisher.isReady()).toBe(false);
  });
});
