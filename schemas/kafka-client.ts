import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import Timeout from 'mappersmith/middleware/timeout';
import type { Logger } from 'pino';
import { readAvroSchema } from './avro-schemas';

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

/** The registry client; a request that takes longer than 10 s fails instead of hanging (the client sets no deadline of its own). */
export function createRegistry(url: string): SchemaRegistry {
  return new SchemaRegistry({ host: url, middlewares: [Timeout(10_000)] });
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

/** Creates the topics that are missing; existing ones are left as they are. */
export async function ensureTopics(kafka: Kafka, topics: ReadonlyArray<{ topic: string; partitions: number }>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter(({ topic }) => !existing.has(topic));
    if (missing.length > 0) {
      await admin.createTopics({
        topics: missing.map(({ topic, partitions }) => ({ topic, numPartitions: partitions })),
        waitForLeaders: true,
        timeout: TOPIC_CREATION_TIMEOUT_MS,
      });
    }
  } finally {
    await admin.disconnect();
  }
}
