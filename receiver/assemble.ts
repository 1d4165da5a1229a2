import type { Logger } from 'pino';
import { createKafka } from '../platform/kafka';
import { createRegistry } from '../platform/schema-registry';
import type { ReceiverConfig } from './config';
import { createEventPublisher, type EventPublisher } from './event-publisher';
import { createReceiverMetrics, type ReceiverMetrics } from './metrics';
import { createReceiver, type Receiver } from './server';

/** The receiver wired from its configuration: Kafka client, batching publisher, metrics, HTTP server. */
export async function assembleReceiver(options: { config: ReceiverConfig; logger: Logger; schemaId: number }): Promise<{
  receiver: Receiver;
  publisher: EventPublisher;
  metrics: ReceiverMetrics;
}> {
  const { config, logger } = options;
  const metrics = createReceiverMetrics();
  const publisher = await createEventPublisher({
    kafka: createKafka({ clientId: 'trade-webhooks-receiver', brokers: config.kafkaBrokers, logger }),
    registry: createRegistry(config.schemaRegistryUrl),
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
