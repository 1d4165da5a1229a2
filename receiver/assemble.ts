import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { ReceiverConfig } from './config';
import { createEventPublisher, type EventPublisher } from './event-publisher';
import { createReceiverMetrics, type ReceiverMetrics } from './metrics';
import { createReceiver, type Receiver } from './server';

/**
 * The batching publisher from the receiver's configuration. The Kafka and registry clients are
 * the ones the start-up already used to create the topic and register the schema: the registry
 * client then holds the schema `schemaId` names, and no second pair of clients is opened.
 * Nothing connects here: `receiver.serve(publisher)` starts it.
 */
export function assemblePublisher(options: {
  config: ReceiverConfig;
  logger: Logger;
  metrics: ReceiverMetrics;
  kafka: Kafka;
  registry: SchemaRegistry;
  schemaId: number;
}): EventPublisher {
  const { config } = options;
  return createEventPublisher({
    kafka: options.kafka,
    registry: options.registry,
    schemaId: options.schemaId,
    topic: config.topic,
    maxBatch: config.batchMaxMessages,
    maxBatchBytes: config.batchMaxBytes,
    lingerMs: config.batchLingerMs,
    lanes: config.publishLanes,
    ackTimeoutMs: config.ackTimeoutMs,
    logger: options.logger,
    metrics: options.metrics,
  });
}

/**
 * The receiver wired from its configuration, with its publisher: metrics, batching publisher,
 * HTTP server, for a caller that has the schema id already. Nothing connects here:
 * `receiver.serve(publisher)` starts the publisher, `receiver.listen()` the server.
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
  const publisher = assemblePublisher({ ...options, metrics });
  return { receiver: createReceiver({ config, logger, metrics }), publisher, metrics };
}
