import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { ReceiverConfig } from './config';
import { createEventPublisher, type EventPublisher } from './event-publisher';
import { createReceiverMetrics, type ReceiverMetrics } from './metrics';
import { createReceiver, type Receiver } from './server';

/**
 * The receiver wired from its configuration: batching publisher, metrics, HTTP server. The Kafka
 * and registry clients are the ones the start-up already used to create the topic and register
 * the schema: the registry client then holds the schema `schemaId` names, and no second pair of
 * clients is opened. Nothing connects here: `receiver.listen()` starts the publisher.
 */
export function assembleReceiver(options: {
  config: ReceiverConfig;
  logger: Logger;
  kafka: Kafka;
  registry: SchemaRegistry;
  schemaId: number;
}): {
  receiver: Receiver;
  publisher: EventPublisher;
  metrics: ReceiverMetrics;
} {
  const { config, logger } = options;
  const metrics = createReceiverMetrics();
  const publisher = createEventPublisher({
    kafka: options.kafka,
    registry: options.registry,
    schemaId: options.schemaId,
    topic: config.topic,
    maxBatch: config.batchMaxMessages,
    maxBatchBytes: config.batchMaxBytes,
    lingerMs: config.batchLingerMs,
    lanes: config.publishLanes,
    ackTimeoutMs: config.ackTimeoutMs,
    logger,
    metrics,
  });
  return { receiver: createReceiver({ config, publisher, logger, metrics }), publisher, metrics };
}
