import type { Knex } from 'knex';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Logger } from 'pino';
import { createPartitionedSender } from '../platform/partitioned-send';
import { createReplaceableProducer } from '../platform/replaceable-producer';
import { StartupAborted } from '../platform/service-lifecycle';
import { ensureTopics } from '../platform/topics';
import type { ProcessorConfig } from './config';
import { createWebhookConsumer, type FatalFailure } from './consumer';
import { createFreshnessReader } from './freshness';
import type { ProcessorMetrics } from './metrics';
import { createOutboxRelay, type OutboxRelay } from './outbox-relay';
import { MigrationsPending, pendingMigrations } from './migrations';
import { createEventApplier } from './process-events';
import { checkRetentionAgainstTopic } from './retention-guard';
import { createRetentionSchedule } from './retention-schedule';

/**
 * How long a stop waits for the producer to disconnect: a broker that holds the connection open
 * and answers nothing would keep it for kafkajs's request timeout (30 s), past an orchestrator's
 * stop timeout. Nothing unacknowledged is lost by giving up: outbox rows stay pending until a
 * send is acknowledged, and an offset is committed only after its dead letters are.
 */
export const PRODUCER_DISCONNECT_MS = 3000;

export interface Processor {
  /** Rejects with StartupAborted once `stop` was called, after the step under way. */
  start(): Promise<void>;
  /** For good: a start under way gives up after the step it is in, and that step settles first. */
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
 * that publishes the outbox. Its relay and its dead-letter writes each have one idempotent
 * producer at a time, replaced after a send that failed but may have been written
 * (ReplaceableProducer); `createProducer` makes each one, the seam for faults in those writes.
 *
 * Constructing it does no I/O. `start` first checks that the database answers and has every
 * migration of this code applied (a partly migrated schema would fail on the first event that
 * needs what is missing), so that a wrong URL, credentials or a missing migration stop the
 * start with their own error; then it creates the missing topics, checks that the retention job,
 * when it runs here, cannot delete the record of an event the topic may still deliver
 * (RetentionUnsafe), connects the producer, learns the partition counts of the topics it
 * writes, registers the notification schema, connects the admin client the consumer lag is read
 * with (see freshness.ts), and connects the consumer. A failed `start` may be called again:
 * each step is safe to repeat.
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
  const makeProducer = options.createProducer ?? (() => kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner }));
  // Two, so that dead letters never wait behind a notification stuck on a broker: a producer's
  // sends go one at a time (ReplaceableProducer), and the consumer waits for its dead letters.
  const producer = createReplaceableProducer(makeProducer);
  const deadLetterProducer = createReplaceableProducer(makeProducer);
  // One produce call for every write, each partition's acknowledgement checked: see PartitionedSender.
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
  const applier = createEventApplier({
    db,
    registry,
    notificationsTopic: config.notificationsTopic,
    metrics,
    eventsPerTransaction: config.eventsPerTransaction,
    transactionsInFlight: config.partitionConcurrency,
  });
  const retention =
    config.retention.intervalMs > 0 ? createRetentionSchedule({ db, retention: config.retention, logger, deletedRows: metrics.retentionDeletedRows }) : undefined;
  let started = false;
  let stopping: Promise<void> | undefined;
  /** The start under way, if any. */
  let starting: Promise<void> | undefined;
  let reportFailure: (failure: FatalFailure) => void = () => undefined;
  const failed = new Promise<FatalFailure>((resolve) => (reportFailure = resolve));

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // First, as it cuts short a start waiting to join the group; the start then gives up.
      await consumer.stop();
      // The step under way settles before what it uses is closed: a relay or producer closed
      // under a start still in progress would be started again behind the stop.
      await starting?.catch(() => undefined);
      await retention?.stop();
      await relay.stop();
      await Promise.all([producer.disconnect(PRODUCER_DISCONNECT_MS), deadLetterProducer.disconnect(PRODUCER_DISCONNECT_MS), freshness.stop()]);
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

  const consumer = createWebhookConsumer({ kafka, producer: deadLetterProducer, deadLetters, config, applier, relay, logger, metrics, onFatal });
  const freshness = createFreshnessReader({
    kafka,
    db,
    topic: config.webhookEventsTopic,
    groupId: config.consumerGroup,
    metrics,
    logger,
    oldestHeld: () => consumer.oldestHeld(),
  });
  metrics.collectFreshnessWith(() => freshness.collect());

  /** The start-up, giving up with StartupAborted between its steps once a stop began. */
  async function startSteps(): Promise<void> {
    const step = async <T>(work: () => Promise<T>): Promise<T> => {
      if (stopping) throw new StartupAborted('Starting the processor');
      const result = await work();
      if (stopping) throw new StartupAborted('Starting the processor');
      return result;
    };
    const pending = await step(() => pendingMigrations(db, { schema: config.databaseSchema, walletTables: config.walletTables }));
    if (pending.length > 0) throw new MigrationsPending(pending);
    const created = await step(() =>
      ensureTopics(
        kafka,
        [
          { topic: config.webhookEventsTopic, partitions: config.topicPartitions },
          { topic: config.notificationsTopic, partitions: config.topicPartitions },
          { topic: config.deadLetterTopic, partitions: 1 },
        ],
        config.topicReplication,
      ),
    );
    if (created) logger.info(created, 'Created topics');
    if (retention) await step(() => checkRetentionAgainstTopic({ kafka, topics: [config.webhookEventsTopic, config.deadLetterTopic], retention: config.retention, logger }));
    await step(() => producer.connect());
    await step(() => deadLetterProducer.connect());
    await step(() => deadLetters.start());
    await step(() => relay.start());
    // Before the consumer, so that the lag is there to see while it joins and catches up.
    await step(() => freshness.start());
    await step(() => consumer.start());
    retention?.start();
    started = true;
  }

  return {
    relay,
    failed,
    async start() {
      const run = startSteps();
      starting = run;
      try {
        await run;
      } finally {
        if (starting === run) starting = undefined;
      }
    },
    stop,
    isReady: () => started && consumer.isReady(),
  };
}
