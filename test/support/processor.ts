import type { Knex } from 'knex';
import type { Producer } from 'kafkajs';
import { createKafka } from '../../platform/kafka';
import { createRegistry } from '../../platform/schema-registry';
import { createLogger } from '../../platform/logger';
import { readProcessorConfig, type ProcessorConfig } from '../../processor/config';
import { migrateDatabase } from '../../processor/migrations';
import { createProcessorMetrics, type ProcessorMetrics } from '../../processor/metrics';
import { createProcessor, type Processor } from '../../processor/processor';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from './cleanup';
import { testDatabase } from './database';
import { createTestTopic, testAdmin, testKafka } from './kafka';
import { uniqueName } from './names';
import { CapturedLogs } from './receiver';
import { withinDeadline } from './wait-for';

export interface TestTopics {
  readonly events: string;
  readonly notifications: string;
  readonly deadLetters: string;
  readonly group: string;
}

/** Topics and a consumer group of the test's own. */
export async function createTestTopics(partitions = 3): Promise<TestTopics> {
  const admin = await testAdmin();
  const events = await createTestTopic(admin, { prefix: 'events', partitions });
  const notifications = await createTestTopic(admin, { prefix: 'notifications', partitions });
  const deadLetters = await createTestTopic(admin, { prefix: 'dlq' });
  return { events, notifications, deadLetters, group: uniqueName('processor') };
}

/**
 * The environment that points the project's services at the test's services, database schema,
 * topics and consumer group (`brokers`, `registryUrl`: another broker or registry, e.g. one of
 * the test's own).
 */
export function systemEnv(options: { schema: string; topics: TestTopics; brokers?: readonly string[]; registryUrl?: string }): Record<string, string> {
  const endpoints = serviceEndpoints();
  return {
    KAFKA_BROKERS: (options.brokers ?? endpoints.kafkaBrokers).join(','),
    SCHEMA_REGISTRY_URL: options.registryUrl ?? endpoints.schemaRegistryUrl,
    DATABASE_URL: endpoints.databaseUrl,
    DATABASE_SCHEMA: options.schema,
    WEBHOOK_EVENTS_TOPIC: options.topics.events,
    TRADE_NOTIFICATIONS_TOPIC: options.topics.notifications,
    DLQ_TOPIC: options.topics.deadLetters,
    CONSUMER_GROUP: options.topics.group,
  };
}

/** A database schema of the test's own, migrated. */
export async function migratedDatabase(): Promise<{ db: Knex; schema: string }> {
  const database = await testDatabase();
  await migrateDatabase(database.db, { schema: database.schema, walletTables: true });
  return database;
}

export interface TestProcessor {
  readonly processor: Processor;
  readonly config: ProcessorConfig;
  readonly logs: CapturedLogs;
  readonly metrics: ProcessorMetrics;
}

/** A real processor on the test's topics and schema; `db` and `createProducer` are the seams for faults. */
export async function startTestProcessor(options: {
  topics: TestTopics;
  db: Knex;
  schema: string;
  env?: Record<string, string>;
  createProducer?: () => Producer;
  start?: boolean;
}): Promise<TestProcessor> {
  const config = readProcessorConfig({
    ...systemEnv(options),
    TOPIC_PARTITIONS: '3',
    PARTITION_CONCURRENCY: '3',
    RETRY_INITIAL_MS: '50',
    RETRY_MAX_MS: '500',
    OUTBOX_POLL_MS: '200',
    PROCESSOR_PORT: '0',
    ...options.env,
  });
  const logs = new CapturedLogs();
  const logger = createLogger({ level: 'info', name: 'processor' }, logs);
  const metrics = createProcessorMetrics();
  const processor = createProcessor({
    config,
    db: options.db,
    kafka: createKafka({ clientId: 'test-processor', brokers: config.kafkaBrokers, logger }),
    registry: createRegistry(config.schemaRegistryUrl),
    logger,
    metrics,
    createProducer: options.createProducer,
  });
  onCleanup(() => processor.stop());
  if (options.start !== false) await withinDeadline('processor.start (migration check, topics, schema registration, producer, consumer group)', processor.start());
  return { processor, config, logs, metrics };
}

let tradeCounter = 0;

export interface TradeInput {
  trade_type: 'buy' | 'sell';
  status?: string;
  user_id?: number;
  crypto_amount?: string;
  crypto_currency?: string;
  fiat_amount?: string;
  fiat_currency?: string;
  reference?: string;
}

/** Inserts a trade and returns its id and reference. */
export async function insertTrade(db: Knex, trade: TradeInput): Promise<{ id: number; reference: string; user_id: number }> {
  tradeCounter += 1;
  const row = {
    reference: trade.reference ?? uniqueName(`TRADE${tradeCounter}`),
    user_id: trade.user_id ?? 500 + tradeCounter,
    trade_type: trade.trade_type,
    status: trade.status ?? 'pending',
    crypto_amount: trade.crypto_amount ?? '0.001',
    crypto_currency: trade.crypto_currency ?? 'BTC',
    fiat_amount: trade.fiat_amount ?? '50000',
    fiat_currency: trade.fiat_currency ?? 'UGX',
  };
  const [inserted] = await db('trades').insert(row).returning(['id', 'reference', 'user_id']);
  return { id: Number(inserted.id), reference: inserted.reference, user_id: Number(inserted.user_id) };
}

export { testKafka };
