import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type KafkaMessage } from 'kafkajs';
import { WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { createKafka } from '../../platform/kafka';
import { createRegistry, registerValueSchema } from '../../platform/schema-registry';
import { ensureTopics } from '../../platform/topics';
import { webhookEvent } from '../../schemas/webhook-event';
import { createLogger } from '../../platform/logger';
import { applyChunk } from '../../processor/apply-chunk';
import { readProcessorConfig } from '../../processor/config';
import { decodeEvent, type DecodedEvent } from '../../processor/decode-event';
import type { ChosenServices } from '../harness/choose-services';
import { benchName } from './bench-env';
import { benchSchema, countRows } from './bench-database';
import { startScript, waitReady } from './children';
import { perThousand, serviceRoles, startCpuWindow, type CpuMs } from './cpu-usage';

export interface ProcessorRound {
  processorEps: number;
  consumeOnlyEps: number;
  applyOnlyEps: number;
  /** CPU ms per 1,000 events while the processor applied them; the bench's share is its polling of the row count. */
  cpuPerThousand: CpuMs;
}

const PARTITIONS = 6;

function envelope(tradeId: number) {
  const body = JSON.stringify({ trade_id: tradeId, status: 'completed', crypto_amount: 0.001, transaction_hash: `0x${tradeId.toString(16)}` });
  return webhookEvent({ webhookType: 'buy_completion', body, remoteAddr: '127.0.0.1' });
}

/** kafkajs consuming the topic with a fresh group and doing nothing: the Kafka-side limit. */
async function consumeOnly(services: ChosenServices, topic: string, count: number): Promise<number> {
  const kafka = createKafka({ clientId: 'bench-consume', brokers: services.kafkaBrokers.split(','), logger: createLogger({ level: 'warn', name: 'bench' }) });
  const consumer = kafka.consumer({ groupId: benchName('consume'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let started = 0;
  let done = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => (started = performance.now()));
  await consumer.run({
    partitionsConsumedConcurrently: PARTITIONS,
    eachBatch: async ({ batch }) => {
      seen += batch.messages.length;
      if (seen >= count && !done) done = performance.now();
    },
  });
  while (!done) await sleep(20);
  await consumer.disconnect();
  return count / ((done - started) / 1000);
}

/** The apply step on the same events without Kafka: decode and apply, a stream per partition. */
async function applyOnly(services: ChosenServices, messages: Array<{ partition: number; message: KafkaMessage }>, topic: string): Promise<number> {
  const registry = createRegistry(services.schemaRegistryUrl);
  // The processor's own chunk size, so the baseline applies the same transactions.
  const chunk = readProcessorConfig(process.env).eventsPerTransaction;
  const { db, drop } = await benchSchema(services.databaseUrl, messages.length);
  try {
    const streams = Array.from({ length: PARTITIONS }, (_, partition) => messages.filter((entry) => entry.partition === partition));
    const started = performance.now();
    await Promise.all(
      streams.map(async (stream, partition) => {
        for (let start = 0; start < stream.length; start += chunk) {
          const events: DecodedEvent[] = [];
          for (const { message } of stream.slice(start, start + chunk)) events.push(await decodeEvent(registry, message, { topic, partition, offset: message.offset }));
          await db.transaction((trx) => applyChunk(trx, events, 'bench-notifications'));
        }
      }),
    );
    return messages.length / ((performance.now() - started) / 1000);
  } finally {
    await drop();
  }
}

export async function processorBench(options: { services: ChosenServices; rounds: number; events: number; port: number }): Promise<{ rounds: ProcessorRound[]; peakRssMiB: number }> {
  const { services, events } = options;
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const kafka = createKafka({ clientId: 'bench-processor', brokers: services.kafkaBrokers.split(','), logger });
  const topic = benchName('events');
  await ensureTopics(kafka, [{ topic, partitions: PARTITIONS }]);
  const registry = createRegistry(services.schemaRegistryUrl);
  const schemaId = await registerValueSchema(registry, topic, WEBHOOK_EVENT_SCHEMA_FILE);

  // The same N events for every round: buy completions of trades 1..N.
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let start = 1; start <= events; start += 1000) {
    const messages = [];
    for (let id = start; id < Math.min(start + 1000, events + 1); id += 1) messages.push({ key: String(id), value: await registry.encode(schemaId, envelope(id)) });
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();

  // What the apply-only baseline replays, read once.
  const preloaded: Array<{ partition: number; message: KafkaMessage }> = [];
  {
    const consumer = kafka.consumer({ groupId: benchName('preload') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => void preloaded.push({ partition, message }) });
    while (preloaded.length < events) await sleep(50);
    await consumer.disconnect();
  }

  const rounds: ProcessorRound[] = [];
  let peakRssMiB = 0;
  for (let round = 1; round <= options.rounds; round += 1) {
    const { db, schema, drop } = await benchSchema(services.databaseUrl, events);
    const processor = startScript('processor/main.ts', {
      ...process.env,
      KAFKA_BROKERS: services.kafkaBrokers,
      SCHEMA_REGISTRY_URL: services.schemaRegistryUrl,
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      WEBHOOK_EVENTS_TOPIC: topic,
      TRADE_NOTIFICATIONS_TOPIC: benchName('notifications'),
      DLQ_TOPIC: benchName('dlq'),
      CONSUMER_GROUP: benchName('processor'),
      PROCESSOR_PORT: String(options.port),
      PROCESSOR_HOST: '127.0.0.1',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    });
    let processorEps: number;
    let cpuPerThousand: CpuMs;
    try {
      await waitReady(`http://127.0.0.1:${options.port}/readyz`);
      const cpu = startCpuWindow(serviceRoles({ processor: processor.pid }));
      const started = performance.now();
      while ((await countRows(db, 'webhook_events')) < events) await sleep(50);
      processorEps = events / ((performance.now() - started) / 1000);
      cpuPerThousand = perThousand(cpu.stop(), events);
      peakRssMiB = Math.max(peakRssMiB, processor.peakRssMiB());
    } finally {
      await processor.stop();
      await drop();
    }
    const consumeOnlyEps = await consumeOnly(services, topic, events);
    const applyOnlyEps = await applyOnly(services, preloaded, topic);
    rounds.push({ processorEps, consumeOnlyEps, applyOnlyEps, cpuPerThousand });
    console.error(
      `  processor round ${round}: processor ${Math.round(processorEps)} events/s, consume only ${Math.round(consumeOnlyEps)}/s, apply only ${Math.round(applyOnlyEps)}/s`,
    );
  }
  return { rounds, peakRssMiB };
}
