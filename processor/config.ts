import { SERVICE_DEFAULTS } from '../platform/defaults';
import { readTracingConfig, type TracingConfig } from '../platform/tracing';
import { ConfigError, environmentReader, MAX_TIMER_MS, isTopicName, type EnvironmentReader, type LogLevel } from '../platform/environment';
import { readKafkaConnection, type KafkaConnection } from '../platform/kafka-connection';
import { readRegistryConnection, type RegistryConnection } from '../platform/registry-connection';
import { readTopicReplication, TOPICS, type TopicReplication } from '../platform/topics';

export interface ProcessorConfig {
  readonly databaseUrl: string;
  /** PostgreSQL schema the tables live in (search_path); undefined: the server default. */
  readonly databaseSchema: string | undefined;
  readonly databasePoolMax: number;
  /** How to reach Kafka: brokers, and TLS and SASL when the cluster asks for them. */
  readonly kafka: KafkaConnection;
  /** How to reach the schema registry: URL, credentials, CA. */
  readonly registry: RegistryConnection;
  /** `kafka.brokers`. */
  readonly kafkaBrokers: readonly string[];
  /** `registry.url`. */
  readonly schemaRegistryUrl: string;
  readonly webhookEventsTopic: string;
  readonly notificationsTopic: string;
  readonly deadLetterTopic: string;
  readonly consumerGroup: string;
  readonly topicPartitions: number;
  /** Replication of the topics the processor has to create; unset parts follow from the cluster's size. */
  readonly topicReplication: TopicReplication;
  /** Partitions processed at the same time by this instance. */
  readonly partitionConcurrency: number;
  /**
   * Events of one partition's chunk, and of the chunks of several partitions grouped in one
   * database transaction, at most.
   */
  readonly eventsPerTransaction: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly outboxBatchSize: number;
  readonly outboxPollMs: number;
  /** How long a committed notification is left to the fast path before the sweep takes it. */
  readonly outboxGraceMs: number;
  /** What the retention job deletes, and how often the processor runs it. */
  readonly retention: RetentionConfig;
  readonly port: number;
  readonly host: string;
  readonly walletTables: boolean;
  readonly logLevel: LogLevel;
  /** OpenTelemetry's settings, checked with the rest; started once the logger is. */
  readonly tracing: TracingConfig;
}

export interface RetentionConfig {
  /** How often the processor runs the job; 0: never (run `npm run retention` from a scheduler instead). */
  readonly intervalMs: number;
  /** Sent outbox rows older than this many days are deleted; 0: kept for ever. Unsent rows never are. */
  readonly outboxDays: number;
  /** Applied and stale webhook_events rows neither processed nor seen for this many days are deleted; 0: kept for ever. Rejected rows never are. */
  readonly webhookEventsDays: number;
  /** Rows deleted in one batch, each batch its own transaction. */
  readonly batchRows: number;
  /**
   * WEBHOOK_EVENTS_RETENTION_FORCE: delete webhook_events rows even when the webhook-events
   * topic may still deliver their events (a warning instead of a refusal; retention-guard.ts).
   */
  readonly force: boolean;
}

/**
 * Deleting an event's webhook_events row forgets that it was applied: a redelivery after that
 * (Kafka still holding it, a consumer group reset, a sender's retry) is applied again. A week
 * is Kafka's default retention (log.retention.hours=168); shorter needs saying so. The topic's
 * own settings are checked against the age when the job runs (retention-guard.ts).
 */
export const WEBHOOK_EVENTS_MIN_DAYS = 7;

export { ConfigError };

function readRetention(read: EnvironmentReader): RetentionConfig {
  const intervalMs = read.integer('RETENTION_INTERVAL_MS', 0, 0, MAX_TIMER_MS);
  // A run every few milliseconds is a mistyped unit, not a schedule.
  if (intervalMs > 0 && intervalMs < 1000) read.problems.push('RETENTION_INTERVAL_MS must be 0 (off) or at least 1000');
  const webhookEventsDays = read.integer('WEBHOOK_EVENTS_RETENTION_DAYS', 30, 0, 36_500);
  const force = read.flag('WEBHOOK_EVENTS_RETENTION_FORCE', false);
  if (webhookEventsDays > 0 && webhookEventsDays < WEBHOOK_EVENTS_MIN_DAYS && !force) {
    read.problems.push(
      `WEBHOOK_EVENTS_RETENTION_DAYS must be 0 (keep) or at least ${WEBHOOK_EVENTS_MIN_DAYS}, and longer than the webhook-events topic keeps its records: an event redelivered after its row is deleted is applied again (set WEBHOOK_EVENTS_RETENTION_FORCE=true to allow it)`,
    );
  }
  return Object.freeze({
    intervalMs,
    outboxDays: read.integer('OUTBOX_RETENTION_DAYS', 7, 0, 36_500),
    webhookEventsDays,
    batchRows: read.integer('RETENTION_BATCH_ROWS', 1000, 1, 100_000),
    force,
  });
}

/** DLQ_TOPIC, by default the events topic with `.dlq` appended. */
function deadLetterTopic(read: EnvironmentReader, env: NodeJS.ProcessEnv, webhookEventsTopic: string): string {
  if (env.DLQ_TOPIC !== undefined) return read.topic('DLQ_TOPIC', '');
  const derived = `${webhookEventsTopic}.dlq`;
  // A problem with the events topic is reported once, as its own.
  if (isTopicName(webhookEventsTopic) && !isTopicName(derived)) {
    read.problems.push("DLQ_TOPIC must be set: its default, WEBHOOK_EVENTS_TOPIC with .dlq appended, would be longer than Kafka's 249 characters");
  }
  return derived;
}

/** Reads the environment once; every problem is reported together, then the result is frozen. */
export function readProcessorConfig(env: NodeJS.ProcessEnv = process.env): ProcessorConfig {
  const read = environmentReader(env);
  const { problems, integer, flag } = read;
  const databaseUrl = read.postgresUrl('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/trade_webhooks');

  const webhookEventsTopic = read.topic('WEBHOOK_EVENTS_TOPIC', SERVICE_DEFAULTS.webhookEventsTopic);
  const databasePoolMax = integer('DATABASE_POOL_MAX', 10, 2, 1000);
  const kafka = readKafkaConnection(read);
  const registry = readRegistryConnection(read);
  const eventsPerTransaction = integer('EVENTS_PER_TRANSACTION', 500, 1, 10_000);
  const config: ProcessorConfig = {
    databaseUrl,
    databaseSchema: env.DATABASE_SCHEMA || undefined,
    databasePoolMax,
    kafka,
    registry,
    kafkaBrokers: kafka.brokers,
    schemaRegistryUrl: registry.url,
    webhookEventsTopic,
    notificationsTopic: read.topic('TRADE_NOTIFICATIONS_TOPIC', TOPICS.tradeNotifications),
    deadLetterTopic: deadLetterTopic(read, env, webhookEventsTopic),
    consumerGroup: read.nonEmpty('CONSUMER_GROUP', 'trade-webhook-processor'),
    topicPartitions: integer('TOPIC_PARTITIONS', SERVICE_DEFAULTS.topicPartitions, 1, 10_000),
    topicReplication: readTopicReplication(read),
    partitionConcurrency: integer('PARTITION_CONCURRENCY', 6, 1, 1000),
    eventsPerTransaction,
    retryInitialMs: integer('RETRY_INITIAL_MS', 100, 1),
    retryMaxMs: integer('RETRY_MAX_MS', 5000, 1),
    outboxBatchSize: integer('OUTBOX_BATCH_SIZE', 500, 1, 100_000),
    outboxPollMs: integer('OUTBOX_POLL_MS', 1000, 10, MAX_TIMER_MS),
    outboxGraceMs: integer('OUTBOX_GRACE_MS', 2000, 0),
    retention: readRetention(read),
    port: integer('PROCESSOR_PORT', 8001, 0, 65535),
    host: read.host('PROCESSOR_HOST', SERVICE_DEFAULTS.host),
    walletTables: flag('MIGRATE_WALLET_TABLES', true),
    logLevel: read.logLevel('LOG_LEVEL', SERVICE_DEFAULTS.logLevel),
    // A transaction's span links to each of its events.
    tracing: readTracingConfig(env, { serviceName: 'trade-webhooks-processor', maxLinks: eventsPerTransaction }, problems),
  };
  if (config.retryInitialMs > config.retryMaxMs) problems.push('RETRY_INITIAL_MS must not exceed RETRY_MAX_MS');
  if (config.databasePoolMax < config.partitionConcurrency + 1) {
    problems.push('DATABASE_POOL_MAX must exceed PARTITION_CONCURRENCY (one connection a partition, one for the outbox relay)');
  }
  else if (config.retention.intervalMs > 0 && config.databasePoolMax < config.partitionConcurrency + 2) {
    problems.push('DATABASE_POOL_MAX must exceed PARTITION_CONCURRENCY + 1 when RETENTION_INTERVAL_MS is set (one connection for the retention job)');
  }
  read.check();
  return Object.freeze(config);
}
