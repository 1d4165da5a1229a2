import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, KafkaJSError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, logLevel, type Admin, type LogEntry, type logCreator } from 'kafkajs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import Timeout from 'mappersmith/middleware/timeout';
import { isTimeoutError } from 'mappersmith/gateway/timeout-error';
import type { Response } from 'mappersmith';
import type { Logger } from 'pino';
import { readAvroSchema } from './avro-schemas';
import { exactLongHook } from './exact-long';

export const TOPICS = Object.freeze({
  webhookEvents: 'webhook-events',
  tradeNotifications: 'trade-notifications',
  deadLetters: 'webhook-events.dlq',
});

/** kafkajs's log lines through the service's pino logger, at the level pino is set to. */
function pinoLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      if (level === logLevel.ERROR) child.error(extra, message);
      else if (level === logLevel.WARN) child.warn(extra, message);
      else if (level === logLevel.INFO) child.info(extra, message);
      else child.debug(extra, message);
    };
}

export function createKafka(options: { clientId: string; brokers: readonly string[]; logger: Logger }): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(options.logger),
    connectionTimeout: 3000,
  });
}

/** A 5xx or a timeout; anything that is not a mappersmith Response (it should not happen) is not retried. */
function worthRetrying(response: Response): boolean {
  if (typeof response?.status !== 'function') return false;
  const error = response.error();
  return response.status() >= 500 || (error !== null && isTimeoutError(error));
}

const REGISTRY_RETRY = Object.freeze({ retries: 3, validateRetry: worthRetrying, enableRetry: () => true });

/**
 * The registry client. It sets no deadline of its own, so each request gets one: `timeoutMs`
 * (5 s by default) without a byte from the registry. A request that timed out or got a 5xx is
 * sent again up to three times with backoff, whatever its method: every call we make (schema
 * by id, config, register) is idempotent — registering a schema again returns the same id — and
 * one stalled request must not fail a service's start or a batch.
 *
 * The library merges `retry` into one object shared by every client it makes, so these
 * options must be the same for every client: they are constants here.
 *
 * Every Avro `long` is read and written exactly (schemas/exact-long.ts): ids are bigints, and a
 * double would round those above 2^53 or refuse to encode them.
 */
export function createRegistry(url: string, options: { timeoutMs?: number } = {}): SchemaRegistry {
  return new SchemaRegistry(
    {
      host: url,
      retry: REGISTRY_RETRY,
      middlewares: [Timeout(options.timeoutMs ?? 5_000)],
    },
    { [SchemaType.AVRO]: { typeHook: exactLongHook } },
  );
}

/**
 * Registers an `.avsc` file under the TopicNameStrategy subject `<topic>-value` and returns its
 * id. Registering the same schema again returns the same id, so every instance can do it at start.
 */
export async function registerValueSchema(registry: SchemaRegistry, topic: string, schemaFile: string): Promise<number> {
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(readAvroSchema(schemaFile)) },
    { subject: `${topic}-value` },
  );
  return id;
}

/**
 * How long topic creation may take, leaders elected. kafkajs gives the broker 5 s and waits
 * 10 s for leaders by default: too short for a busy broker that was just started.
 */
export const TOPIC_CREATION_TIMEOUT_MS = 30_000;

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
}

/**
 * Creates topics and returns once every partition has a leader. kafkajs's own wait
 * (`waitForLeaders`) gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers for a
 * moment after the controller created the topic, until its metadata catches up; this waits that
 * out too, up to `timeoutMs`.
 */
export async function createTopicsWithLeaders(admin: Admin, topics: readonly TopicSpec[], timeoutMs = TOPIC_CREATION_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await admin.createTopics({
    topics: topics.map(({ topic, partitions }) => ({ topic, numPartitions: partitions })),
    waitForLeaders: false,
    timeout: timeoutMs,
  });
  const names = topics.map(({ topic }) => topic);
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: names });
      const led = metadata.topics.every(({ partitions }) => partitions.length > 0 && partitions.every(({ leader, partitionErrorCode }) => leader >= 0 && partitionErrorCode === 0));
      if (led) return;
    } catch (error) {
      if (!notYet(error)) throw error;
    }
    // Retriable in kafkajs's terms: a busy broker elects them later, so a service's start waits on.
    if (Date.now() > deadline) throw new KafkaJSError(`Topics ${names.join(', ')} have no leader after ${timeoutMs} ms`, { retriable: true });
    await sleep(100);
  }
}

/**
 * A metadata error that means "not there yet": a retriable protocol error, also when kafkajs
 * gave up retrying it itself (KafkaJSNumberOfRetriesExceeded carries it as its cause).
 */
function notYet(error: unknown): boolean {
  if (error instanceof KafkaJSProtocolError) return error.retriable;
  return error instanceof KafkaJSNumberOfRetriesExceeded && notYet(error.cause);
}

/** Creates the topics that are missing; existing ones are left as they are. */
export async function ensureTopics(kafka: Kafka, topics: readonly TopicSpec[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter(({ topic }) => !existing.has(topic));
    if (missing.length > 0) await createTopicsWithLeaders(admin, missing);
  } finally {
    await admin.disconnect();
  }
}
