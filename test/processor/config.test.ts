import { ConfigError, readProcessorConfig } from '../../processor/config';
import { fileHolding } from '../support/environment';

describe('processor configuration', () => {
  it('has the documented defaults and is frozen', () => {
    const config = readProcessorConfig({});
    expect(config).toEqual(
      expect.objectContaining({
        consumerGroup: 'trade-webhook-processor',
        webhookEventsTopic: 'webhook-events',
        notificationsTopic: 'trade-notifications',
        deadLetterTopic: 'webhook-events.dlq',
        topicPartitions: 6,
        port: 8001,
        walletTables: true,
      }),
    );
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every problem together', () => {
    let error: unknown;
    try {
      readProcessorConfig({ TOPIC_PARTITIONS: '0', MIGRATE_WALLET_TABLES: 'maybe', DATABASE_URL: 'not a url' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'DATABASE_URL must be a postgres:// or postgresql:// URL',
      'TOPIC_PARTITIONS must be a whole number from 1 to 10000',
      'MIGRATE_WALLET_TABLES must be true or false',
    ]);
  });
});

describe('processor configuration: addresses and log level', () => {
  it.each([
    ['PROCESSOR_HOST', 'local host', 'PROCESSOR_HOST must be an IP address or a hostname'],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
    ['SCHEMA_REGISTRY_URL', 'registry:8081', 'SCHEMA_REGISTRY_URL must be an absolute http:// or https:// URL'],
    ['DATABASE_URL', 'mysql://db/trades', 'DATABASE_URL must be a postgres:// or postgresql:// URL'],
    ['DATABASE_URL', 'http://db/trades', 'DATABASE_URL must be a postgres:// or postgresql:// URL'],
    ['KAFKA_BROKERS', 'kafka:9092,kafka', 'KAFKA_BROKERS must list one or more brokers as host:port (a hostname or an IPv4 address, a port from 1 to 65535), separated by commas'],
  ])('refuses %s=%p, naming the variable and not the value', (variable, value, problem) => {
    let error: unknown;
    try {
      readProcessorConfig({ [variable]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([problem]);
  });

  it('reads valid addresses and log level as given', () => {
    const config = readProcessorConfig({
      PROCESSOR_HOST: 'processor.internal',
      LOG_LEVEL: 'debug',
      SCHEMA_REGISTRY_URL: 'http://registry:8080/apis/ccompat/v7',
      DATABASE_URL: 'postgresql://app@db:5432/trades',
      KAFKA_BROKERS: 'kafka:29092',
    });
    expect(config).toEqual(
      expect.objectContaining({
        host: 'processor.internal',
        logLevel: 'debug',
        schemaRegistryUrl: 'http://registry:8080/apis/ccompat/v7',
        databaseUrl: 'postgresql://app@db:5432/trades',
        kafkaBrokers: ['kafka:29092'],
      }),
    );
  });
});

describe('processor configuration: secrets from files and reaching Kafka', () => {
  it('reads DATABASE_URL from DATABASE_URL_FILE', () => {
    const file = fileHolding('postgresql://app:db-password@db:5432/trades?sslmode=verify-full\n');
    expect(readProcessorConfig({ DATABASE_URL_FILE: file }).databaseUrl).toBe('postgresql://app:db-password@db:5432/trades?sslmode=verify-full');
  });

  it('refuses DATABASE_URL set both ways without printing either', () => {
    const file = fileHolding('postgresql://app:file-password@db/trades');
    let error: unknown;
    try {
      readProcessorConfig({ DATABASE_URL: 'postgresql://app:env-password@db/trades', DATABASE_URL_FILE: file });
    } catch (caught) {
      error = caught;
    }
    expect((error as ConfigError).problems).toEqual(['DATABASE_URL and DATABASE_URL_FILE are both set: set one of them']);
    expect((error as ConfigError).message).not.toMatch(/env-password|file-password/);
  });

  it('reads TLS, SASL, the registry’s credentials and the topic replication', () => {
    const config = readProcessorConfig({
      KAFKA_SSL: 'yes',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: 'processor',
      KAFKA_SASL_PASSWORD: 'kafka-password',
      SCHEMA_REGISTRY_USERNAME: 'processor',
      SCHEMA_REGISTRY_PASSWORD: 'registry-password',
      TOPIC_REPLICATION_FACTOR: '3',
    });
    expect(config).toEqual(
      expect.objectContaining({
        kafka: { brokers: ['127.0.0.1:9092'], ssl: { rejectUnauthorized: true }, sasl: { mechanism: 'plain', username: 'processor', password: 'kafka-password' } },
        registry: { url: 'http://127.0.0.1:8081/apis/ccompat/v7', auth: { username: 'processor', password: 'registry-password' } },
        topicReplication: { replicationFactor: 3 },
      }),
    );
  });
});

describe('processor configuration: values that are not what they look like', () => {
  const TOPIC_RULE = "must be a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-', and not '.' or '..'";

  function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
    try {
      readProcessorConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('the configuration was accepted');
  }

  it.each([
    ['DATABASE_URL', ' postgres://app:hunter2@db/trades', 'DATABASE_URL must not contain control characters or begin or end with whitespace'],
    ['DATABASE_URL', 'postgres://app:hunter2@db/trades\n', 'DATABASE_URL must not contain control characters or begin or end with whitespace'],
    ['SCHEMA_REGISTRY_URL', 'http://registry:8080/apis\r\n', 'SCHEMA_REGISTRY_URL must not contain control characters or begin or end with whitespace'],
    ['PROCESSOR_HOST', ' 0.0.0.0', 'PROCESSOR_HOST must be an IP address or a hostname'],
    ['PROCESSOR_PORT', '0x50', 'PROCESSOR_PORT must be a whole number from 0 to 65535'],
    ['RETRY_MAX_MS', '5e3', `RETRY_MAX_MS must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`],
    ['WEBHOOK_EVENTS_TOPIC', '', `WEBHOOK_EVENTS_TOPIC ${TOPIC_RULE}`],
    ['WEBHOOK_EVENTS_TOPIC', 'hunter2 topic', `WEBHOOK_EVENTS_TOPIC ${TOPIC_RULE}`],
    ['TRADE_NOTIFICATIONS_TOPIC', '.', `TRADE_NOTIFICATIONS_TOPIC ${TOPIC_RULE}`],
    ['TRADE_NOTIFICATIONS_TOPIC', 'hunter2/notifications', `TRADE_NOTIFICATIONS_TOPIC ${TOPIC_RULE}`],
    ['DLQ_TOPIC', '', `DLQ_TOPIC ${TOPIC_RULE}`],
    ['DLQ_TOPIC', 'x'.repeat(250), `DLQ_TOPIC ${TOPIC_RULE}`],
    ['CONSUMER_GROUP', '', 'CONSUMER_GROUP must not be empty, contain control characters or begin or end with whitespace'],
    ['CONSUMER_GROUP', 'hunter2-group\n', 'CONSUMER_GROUP must not be empty, contain control characters or begin or end with whitespace'],
  ])('refuses %s=%p, naming the variable and not the value', (variable, value, problem) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems).toEqual([problem]);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('lists the OpenTelemetry problems with the others, and keeps a link per event of a transaction', () => {
    expect(problemsOf({ RETRY_INITIAL_MS: '10000', RETRY_MAX_MS: '10', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL',
      'RETRY_INITIAL_MS must not exceed RETRY_MAX_MS',
    ]);
    expect(readProcessorConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', EVENTS_PER_TRANSACTION: '2000' }).tracing.export?.linkCountLimit).toBe(2000);
  });

  it('refuses a first retry delay longer than the longest', () => {
    expect(problemsOf({ RETRY_INITIAL_MS: '10000', RETRY_MAX_MS: '10' })).toEqual(['RETRY_INITIAL_MS must not exceed RETRY_MAX_MS']);
  });

  it('refuses the dead-letter topic it would derive from a topic name too long for it', () => {
    expect(problemsOf({ WEBHOOK_EVENTS_TOPIC: 'x'.repeat(247) })).toEqual([`DLQ_TOPIC must be set: its default, WEBHOOK_EVENTS_TOPIC with .dlq appended, would be longer than Kafka's 249 characters`]);
  });

  it('takes valid topics, group and retry delays as given', () => {
    const config = readProcessorConfig({ WEBHOOK_EVENTS_TOPIC: 'events.v2', TRADE_NOTIFICATIONS_TOPIC: 'notifications_v2', DLQ_TOPIC: 'events-dead', CONSUMER_GROUP: 'group 1', RETRY_INITIAL_MS: '50', RETRY_MAX_MS: '50' });
    expect(config).toEqual(
      expect.objectContaining({ webhookEventsTopic: 'events.v2', notificationsTopic: 'notifications_v2', deadLetterTopic: 'events-dead', consumerGroup: 'group 1', retryInitialMs: 50, retryMaxMs: 50 }),
    );
  });
});

describe('processor configuration: retention', () => {
  const problemsOf = (env: Record<string, string>): readonly string[] => {
    try {
      readProcessorConfig(env);
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };
  const tooShort =
    'WEBHOOK_EVENTS_RETENTION_DAYS must be 0 (keep) or at least 7, and longer than the webhook-events topic keeps its records: an event redelivered after its row is deleted is applied again (set WEBHOOK_EVENTS_RETENTION_FORCE=true to allow it)';

  it('is off in the processor by default, keeping sent outbox rows a week and webhook events 30 days', () => {
    expect(readProcessorConfig({}).retention).toEqual({ intervalMs: 0, outboxDays: 7, webhookEventsDays: 30, batchRows: 1000, force: false });
    expect(readProcessorConfig({ WEBHOOK_EVENTS_RETENTION_FORCE: 'true' }).retention.force).toBe(true);
  });

  it('refuses a dedupe record shorter than a week unless forced, and takes 0 as keeping it', () => {
    expect(problemsOf({ WEBHOOK_EVENTS_RETENTION_DAYS: '6' })).toEqual([tooShort]);
    expect(readProcessorConfig({ WEBHOOK_EVENTS_RETENTION_DAYS: '1', WEBHOOK_EVENTS_RETENTION_FORCE: 'true' }).retention.webhookEventsDays).toBe(1);
    expect(readProcessorConfig({ WEBHOOK_EVENTS_RETENTION_DAYS: '0' }).retention.webhookEventsDays).toBe(0);
  });

  it('refuses an interval under a second, a batch of nothing, and no spare connection for the job', () => {
    expect(problemsOf({ RETENTION_INTERVAL_MS: '500', RETENTION_BATCH_ROWS: '0' })).toEqual([
      'RETENTION_INTERVAL_MS must be 0 (off) or at least 1000',
      'RETENTION_BATCH_ROWS must be a whole number from 1 to 100000',
    ]);
    expect(problemsOf({ RETENTION_INTERVAL_MS: '60000', DATABASE_POOL_MAX: '7', PARTITION_CONCURRENCY: '6' })).toEqual([
      'DATABASE_POOL_MAX must exceed PARTITION_CONCURRENCY + 1 when RETENTION_INTERVAL_MS is set (one connection for the retention job)',
    ]);
    expect(readProcessorConfig({ RETENTION_INTERVAL_MS: '3600000', OUTBOX_RETENTION_DAYS: '2' }).retention).toEqual(
      expect.objectContaining({ intervalMs: 3_600_000, outboxDays: 2 }),
    );
  });

  // Node replaces a timer's delay over 2^31-1 ms by 1 ms: the job would run back to back.
  it('refuses an interval, or an outbox poll, longer than a timer can wait', () => {
    expect(problemsOf({ RETENTION_INTERVAL_MS: '2147483648', OUTBOX_POLL_MS: '2147483648' })).toEqual([
      'OUTBOX_POLL_MS must be a whole number from 10 to 2147483647',
      'RETENTION_INTERVAL_MS must be a whole number from 0 to 2147483647',
    ]);
    const longest = readProcessorConfig({ RETENTION_INTERVAL_MS: '2147483647', OUTBOX_POLL_MS: '2147483647' });
    expect([longest.retention.intervalMs, longest.outboxPollMs]).toEqual([2_147_483_647, 2_147_483_647]);
  });
});
