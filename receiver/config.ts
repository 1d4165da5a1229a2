import { SERVICE_DEFAULTS } from '../platform/defaults';
import { readTracingConfig, type TracingConfig } from '../platform/tracing';
import { ConfigError, environmentReader, hasProtocol, hasWhitespaceOrControl, HTTP_PROTOCOLS, MAX_TIMER_MS, type LogLevel } from '../platform/environment';
import { eventBytesBound, largestBodyFor } from './event-size';
import { readWebhookSecrets, shortSecretWarnings, type WebhookSecrets } from './webhook-secrets';
import { readKafkaConnection, type KafkaConnection } from '../platform/kafka-connection';
import { readRegistryConnection, type RegistryConnection } from '../platform/registry-connection';
import { readTopicReplication, type TopicReplication } from '../platform/topics';

export interface ReceiverConfig {
  readonly port: number;
  readonly host: string;
  /** How to reach Kafka: brokers, and TLS and SASL when the cluster asks for them. */
  readonly kafka: KafkaConnection;
  /** How to reach the schema registry: URL, credentials, CA. */
  readonly registry: RegistryConnection;
  /** `kafka.brokers`. */
  readonly kafkaBrokers: readonly string[];
  /** `registry.url`. */
  readonly schemaRegistryUrl: string;
  readonly topic: string;
  /** Partitions of the topic when the receiver has to create it. */
  readonly topicPartitions: number;
  /** Its replication when the receiver has to create it; unset parts follow from the cluster's size. */
  readonly topicReplication: TopicReplication;
  /** Secrets per webhook type at start; the receiver may reload them (secret-reloader.ts). */
  readonly secrets: WebhookSecrets;
  /** How often the files of the `<NAME>_FILE` secret variables are read for a change; 0: only on SIGHUP. */
  readonly secretFilesPollMs: number;
  readonly relworxCallbackUrl: string;
  readonly maxBodyBytes: number;
  /**
   * The limit for Relworx callbacks, which are small: their signature covers fields, not bytes,
   * so the body is parsed before it is verified, and this bounds what an unsigned request costs.
   */
  readonly relworxMaxBodyBytes: number;
  readonly rateLimitPerSecond: number;
  readonly rateLimitBurst: number;
  /** Per-client buckets held at most; the least recently used is dropped past it. */
  readonly rateLimitMaxClients: number;
  /**
   * Proxies in front of the receiver that append to X-Forwarded-For (0: none, rate-limit by the
   * socket's address). The client is the address the outermost of them appended.
   */
  readonly trustedProxies: number;
  /**
   * How long a shutdown waits for connections to finish before cutting them, and for their
   * events' acknowledgements; the producers' disconnect may add up to a second. The default
   * leaves that second and the exit inside Docker's default stop timeout of 10 s.
   */
  readonly shutdownGraceMs: number;
  readonly batchMaxMessages: number;
  /** Bytes a produce request holds at most: under the topic's max.message.bytes, and room for the largest event. */
  readonly batchMaxBytes: number;
  readonly batchLingerMs: number;
  /** Idempotent producers sending batches side by side. */
  readonly publishLanes: number;
  readonly ackTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly retryAfterSeconds: number;
  readonly logLevel: LogLevel;
  /** Problems that do not stop the receiver but that an operator must see. */
  /** OpenTelemetry's settings, checked with the rest; started once the logger is. */
  readonly tracing: TracingConfig;
  readonly warnings: readonly string[];
}

export { ConfigError };

/** `false` (or unset): no proxy; `true`: one; a whole number: that many. */
function trustedProxyCount(raw: string | undefined, problems: string[]): number {
  const value = raw?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'false') return 0;
  if (value === 'true') return 1;
  if (/^\d{1,3}$/.test(value)) return Number(value);
  problems.push('TRUST_PROXY must be false, true or the number of trusted proxies in front of the receiver');
  return 0;
}

/**
 * Relworx signs the callback URL it was given: a guessed default would refuse every genuine
 * callback. So would a stray newline or space from a secrets file or a YAML block (the URL
 * parser strips them, the signature does not), so they are refused here rather than trimmed: a
 * value that is not what it looks like should be fixed where it is written.
 */
function relworxCallbackUrl(raw: string | undefined, problems: string[]): string {
  const variable = 'RELWORX_CALLBACK_URL';
  if (raw === undefined || raw.trim() === '') {
    problems.push(`${variable} is required (the callback URL registered with Relworx, exactly as registered: its signatures cover it)`);
    return '';
  }
  if (hasWhitespaceOrControl(raw)) {
    problems.push(`${variable} must not contain whitespace or control characters (Relworx signs the URL exactly as registered, which has none)`);
    return raw;
  }
  if (!hasProtocol(raw, HTTP_PROTOCOLS)) problems.push(`${variable} must be an absolute http(s) URL (the callback URL registered with Relworx)`);
  return raw;
}

/** Reads the environment once; every problem is reported together, then the result is frozen. */
export function readReceiverConfig(env: NodeJS.ProcessEnv = process.env): ReceiverConfig {
  const read = environmentReader(env);
  const { problems } = read;
  const integer = read.integer;
  const warnings: string[] = [];

  const secrets = readWebhookSecrets(read);
  warnings.push(...shortSecretWarnings(secrets));
  const tracing = readTracingConfig(env, { serviceName: 'trade-webhooks-receiver' }, problems);
  warnings.push(...tracing.warnings);

  const fields = {
    port: integer('PORT', 8000, 0, 65535),
    host: read.host('HOST', SERVICE_DEFAULTS.host),
    kafka: readKafkaConnection(read),
    registry: readRegistryConnection(read),
    topic: read.topic('WEBHOOK_EVENTS_TOPIC', SERVICE_DEFAULTS.webhookEventsTopic),
    topicPartitions: integer('TOPIC_PARTITIONS', SERVICE_DEFAULTS.topicPartitions, 1, 10_000),
    topicReplication: readTopicReplication(read),
    secrets,
    secretFilesPollMs: integer('SECRET_FILES_POLL_MS', 1000, 0, 3_600_000),
    relworxCallbackUrl: relworxCallbackUrl(env.RELWORX_CALLBACK_URL, problems),
    maxBodyBytes: integer('MAX_BODY_BYTES', 64 * 1024, 1, 16 * 1024 * 1024),
    rateLimitPerSecond: integer('RATE_LIMIT_PER_SECOND', 1000, 0),
    rateLimitBurst: integer('RATE_LIMIT_BURST', 2000, 1),
    rateLimitMaxClients: integer('RATE_LIMIT_MAX_CLIENTS', 100_000, 1, 10_000_000),
    trustedProxies: trustedProxyCount(env.TRUST_PROXY, problems),
    shutdownGraceMs: integer('SHUTDOWN_GRACE_MS', 8000, 0, MAX_TIMER_MS),
    batchMaxMessages: integer('PUBLISH_BATCH_MAX', 1000, 1, 100_000),
    // Kafka's default limit is 1 MiB per record batch: 900 KiB leaves room for the estimate's slack.
    batchMaxBytes: integer('PUBLISH_BATCH_MAX_BYTES', 900 * 1024, 1024, 64 * 1024 * 1024),
    // Kafka's own producer default since 4.0 (KIP-1030): at 1,000 webhooks/s it cut the receiver's
    // CPU per webhook by about 30%, a send per 5 ms instead of one per few events.
    batchLingerMs: integer('PUBLISH_LINGER_MS', 5, 0, 1000),
    publishLanes: integer('PUBLISH_PRODUCERS', 3, 1, 32),
    ackTimeoutMs: integer('KAFKA_ACK_TIMEOUT_MS', 5000, 100, 120_000),
    headersTimeoutMs: integer('HEADERS_TIMEOUT_MS', 10_000, 100, MAX_TIMER_MS),
    requestTimeoutMs: integer('REQUEST_TIMEOUT_MS', 15_000, 100, MAX_TIMER_MS),
    keepAliveTimeoutMs: integer('KEEP_ALIVE_TIMEOUT_MS', 5000, 0, MAX_TIMER_MS),
    retryAfterSeconds: integer('RETRY_AFTER_SECONDS', 5, 1, 3600),
    logLevel: read.logLevel('LOG_LEVEL', SERVICE_DEFAULTS.logLevel),
    tracing,
    warnings: Object.freeze(warnings),
  };
  const config: ReceiverConfig = {
    ...fields,
    kafkaBrokers: fields.kafka.brokers,
    schemaRegistryUrl: fields.registry.url,
    relworxMaxBodyBytes: integer('RELWORX_MAX_BODY_BYTES', Math.min(8 * 1024, fields.maxBodyBytes), 1, fields.maxBodyBytes),
  };
  if (eventBytesBound(config.maxBodyBytes) > config.batchMaxBytes) {
    problems.push(
      `MAX_BODY_BYTES must be at most ${largestBodyFor(config.batchMaxBytes)} while PUBLISH_BATCH_MAX_BYTES is ${config.batchMaxBytes}: ` +
        `the event of a body that large (up to twice its size plus ${eventBytesBound(0)} bytes) must fit in one batch`,
    );
  }
  if (config.requestTimeoutMs < config.headersTimeoutMs) {
    problems.push('REQUEST_TIMEOUT_MS must not be shorter than HEADERS_TIMEOUT_MS');
  }
  read.check();
  return Object.freeze(config);
}
