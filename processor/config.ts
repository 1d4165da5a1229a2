import { SERVICE_DEFAULTS } from '../platform/defaults';
import { ConfigError, environmentReader, isTopicName, type EnvironmentReader, type LogLevel } from '../platform/environment';
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
  readonly port: number;
  readonly host: string;
  readonly walletTables: boolean;
  readonly logLevel: LogLevel;
}

export { ConfigError };

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
    eventsPerTransaction: integer('EVENTS_PER_TRANSACTION', 500, 1, 10_000),
    retryInitialMs: integer('RETRY_INITIAL_MS', 100, 1),
    retryMaxMs: integer('RETRY_MAX_MS', 5000, 1),
    outboxBatchSize: integer('OUTBOX_BATCH_SIZE', 500, 1, 100_000),
    outboxPollMs: integer('OUTBOX_POLL_MS', 1000, 10),
    outboxGraceMs: integer('OUTBOX_GRACE_MS', 2000, 0),
    port: integer('PROCESSOR_PORT', 8001, 0, 65535),
    host: read.host('PROCESSOR_HOST', SERVICE_DEFAULTS.host),
    walletTables: flag('MIGRATE_WALLET_TABLES', true),
    logLevel: read.logLevel('LOG_LEVEL', SERVICE_DEFAULTS.logLevel),
  };
  if (config.retryInitialMs > config.retryMaxMs) problems.push('RETRY_INITIAL_MS must not exceed RETRY_MAX_MS');
  if (config.databasePoolMax < config.partitionConcurrency + 1) {
    problems.push('DATABASE_POOL_MAX must exceed PARTITION_CONCURRENCY (one connection a partition, one for the outbox relay)');
  }
  read.check();
  return Object.freeze(config);
}
