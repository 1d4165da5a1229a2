import type { Knex } from 'knex';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Logger } from 'pino';
import { createPartitionedSender } from '../platform/partitioned-send';
import { createReplaceableProducer } from '../platform/replaceable-producer';
import { ensureTopics } from '../platform/topics';
import type { ProcessorConfig } from './config';
import { createWebhookConsumer, type FatalFailure } from './consumer';
import type { ProcessorMetrics } from './metrics';
import { createOutboxRelay, type OutboxRelay } from './outbox-relay';
import { MigrationsPending, pendingMigrations } from './migrations';
import { createEventApplier } from './process-events';

export interface Processor {
  start(): Promise<void>;
  stop(): Promise<void>;
  isReady(): boolean;
  readonly relay: OutboxRelay;
  /**
   * Settles once the processor has stopped itself on a failure it must neither retry nor
   * dead-letter (a programmer error, a code the classifier does not know), after stopping.
   * The process exits non-zero on it; it never settles otherwise.
   */
  readonly failed: Promise<FatalFailure>;
}

/**
 * The processor: the consumer group that applies webhook events to PostgreSQL, and the relay
 * that publishes the outbox. Its relay and dead-letter writes share one idempotent producer at a
 * time, replaced after a send that failed but may have been written (ReplaceableProducer);
 * `createProducer` makes each one, the seam for faults in those writes.
 *
 * Constructing it does no I/O. `start` first checks that the database answers and has every
 * migration of this code applied (a partly migrated schema would fail on the first event that
 * needs what is missing), so that a wrong URL, credentials or a missing migration stop the
 * start with their own error; then it creates the missing topics, connects the producer, learns
 * the partition counts of the topics it writes, registers the notification schema, and connects
 * the consumer. A failed `start` may be called again: each step is safe to repeat.
 */
export function createProcessor(options: {
  config: ProcessorConfig;
  db: Knex;
  kafka: Kafka;
  registry: SchemaRegistry;
  logger: Logger;
  metrics: ProcessorMetrics;
  createProducer?: () => Producer;
}): Processor {
  const { config, db, kafka, registry, logger, metrics } = options;
  const producer = createReplaceableProducer(
    options.createProducer ?? (() => kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner })),
  );
  // One produce call per partition for every write: see PartitionedSender.
  const notifications = createPartitionedSender({ kafka, topic: config.notificationsTopic });
  const deadLetters = createPartitionedSender({ kafka, topic: config.deadLetterTopic });
  const relay = createOutboxRelay({
    db,
    producer,
    registry,
    notifications,
    batchSize: config.outboxBatchSize,
    pollMs: config.outboxPollMs,
    graceMs: config.outboxGraceMs,
    logger,
    metrics,
  });
  const applier = createEventApplier({ db, registry, notificationsTopic: config.notificationsTopic, metrics });
  let started = false;
  let stopping: Promise<void> | undefined;
  let reportFailure: (failure: FatalFailure) => void = () => undefined;
  const failed = new Promise<FatalFailure>((resolve) => (reportFailure = resolve));

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await consumer.stop();
      await relay.stop();
      await producer.disconnect();
    })();
    return stopping;
  };

  const onFatal = (failure: FatalFailure): void => {
    stop().then(
      () => reportFailure(failure),
      (error: unknown) => {
        logger.error({ err: error }, 'Stopping after a fatal failure failed');
        reportFailure(failure);
      },
    );
  };

  const consumer = createWebhookConsumer({ kafka, producer, deadLetters, config, applier, relay, logger, metrics, onFatal });

  return {
    relay,
    failed,
    async start() {
      const pending = await pendingMigrations(db, { schema: config.databaseSchema, walletTables: config.walletTables });
      if (pending.length > 0) throw new MigrationsPending(pending);
      const created = await ensureTopics(
        kafka,
        [
          { topic: config.webhookEventsTopic, partitions: config.topicPartitions },
          { topic: config.notificationsTopic, partitions: config.topicPartitions },
          { topic: config.deadLetterTopic, partitions: 1 },
        ],
        config.topicReplication,
      );
      if (created) logger.info(created, 'Created topics');
      await producer.connect();
      await deadLetters.start();
      await relay.start();
      await consumer.start();
      started = true;
    },
    stop,
    isReady: () => started && consumer.isReady(),
  };
}
