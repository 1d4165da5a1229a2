import { setTimeout as sleep } from 'node:timers/promises';
import { WEBHOOK_EVENT_SCHEMA_FILE } from '../schemas/avro-schemas';
import { createKafka, createRegistry, ensureTopics, registerValueSchema } from '../schemas/kafka-client';
import { ConfigError, readReceiverConfig } from './config';
import { createEventPublisher } from './event-publisher';
import { createLogger } from '../schemas/logger';
import { createReceiverMetrics } from './metrics';
import { createReceiver } from './server';

/** Retries start-up steps that need Kafka or the registry, which may come up after us. */
async function untilDone<T>(what: string, step: () => Promise<T>, logger: { warn: (o: object, m: string) => void }): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await step();
    } catch (error) {
      logger.warn({ err: error, attempt }, `${what} failed; retrying`);
      await sleep(Math.min(5000, 250 * 2 ** attempt));
    }
  }
}

async function main(): Promise<void> {
  let config;
  try {
    config = readReceiverConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, name: 'receiver' });
  for (const warning of config.warnings) logger.warn(warning);

  const kafka = createKafka({ clientId: 'trade-webhooks-receiver', brokers: config.kafkaBrokers, logger });
  const registry = createRegistry(config.schemaRegistryUrl);
  await untilDone('Creating the topic', () => ensureTopics(kafka, [{ topic: config.topic, partitions: config.topicPartitions }]), logger);
  const schemaId = await untilDone('Registering the WebhookEvent schema', () => registerValueSchema(registry, config.topic, WEBHOOK_EVENT_SCHEMA_FILE), logger);

  const metrics = createReceiverMetrics();
  const publisher = await createEventPublisher({
    kafka,
    registry,
    schemaId,
    topic: config.topic,
    maxBatch: config.batchMaxMessages,
    lingerMs: config.batchLingerMs,
    lanes: config.publishLanes,
    ackTimeoutMs: config.ackTimeoutMs,
    logger,
    metrics,
  });
  const receiver = createReceiver({ config, publisher, logger, metrics });
  const address = await receiver.listen();
  logger.info({ port: address.port, topic: config.topic }, 'Receiver listening on port %d', address.port);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Shutting down: finishing requests in flight');
    receiver.close().then(
      () => {
        logger.info('Receiver stopped');
        logger.flush(() => process.exit(0));
      },
      (error: Error) => {
        logger.error({ err: error }, 'Shutdown failed');
        logger.flush(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
