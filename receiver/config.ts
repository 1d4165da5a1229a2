import { ConfigError, environmentReader } from '../schemas/environment';
import { splitSecrets } from '../schemas/signatures';
import { WEBHOOKS, type WebhookType } from '../schemas/webhook-catalog';

export interface ReceiverConfig {
  readonly port: number;
  readonly host: string;
  readonly kafkaBrokers: readonly string[];
  readonly schemaRegistryUrl: string;
  readonly topic: string;
  /** Partitions of the topic when the receiver has to create it. */
  readonly topicPartitions: number;
  /** Secrets per webhook type, each list holding the current and any rotated-out secret. */
  readonly secrets: Readonly<Record<WebhookType, readonly string[]>>;
  readonly relworxCallbackUrl: string;
  readonly maxBodyBytes: number;
  readonly rateLimitPerSecond: number;
  readonly rateLimitBurst: number;
  /** Behind a load balancer: rate-limit by the first X-Forwarded-For address instead of the socket's. */
  readonly trustProxy: boolean;
  /** How long a shutdown waits for connections to finish before cutting them. */
  readonly shutdownGraceMs: number;
  readonly batchMaxMessages: number;
  readonly batchLingerMs: number;
  /** Idempotent producers sending batches side by side. */
  readonly publishLanes: number;
  readonly ackTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly retryAfterSeconds: number;
  readonly logLevel: string;
  /** Problems that do not stop the receiver but that an operator must see. */
  readonly warnings: readonly string[];
}

export { ConfigError };

/** HMAC keys shorter than the digest weaken it (RFC 2104 §3). */
const MIN_SECRET_BYTES = 32;

/** Reads the environment once; every problem is reported together, then the result is frozen. */
export function readReceiverConfig(env: NodeJS.ProcessEnv = process.env): ReceiverConfig {
  const read = environmentReader(env);
  const { problems } = read;
  const integer = read.integer;
  const warnings: string[] = [];

  const secrets = {} as Record<WebhookType, readonly string[]>;
  for (const webhook of WEBHOOKS) {
    const list = splitSecrets(env[webhook.secretVariable] ?? '');
    if (list.length === 0) problems.push(`${webhook.secretVariable} is required (the ${webhook.logName} webhook secret)`);
    if (list.some((secret) => Buffer.byteLength(secret) < MIN_SECRET_BYTES)) {
      warnings.push(`${webhook.secretVariable} holds a secret shorter than ${MIN_SECRET_BYTES} bytes`);
    }
    secrets[webhook.type] = Object.freeze(list);
  }

  const relworxCallbackUrl = read.url('RELWORX_CALLBACK_URL', 'http://localhost:8000/api/webhooks/relworx', 'the URL registered with Relworx');
  const brokers = read.list('KAFKA_BROKERS', '127.0.0.1:9092');

  const config: ReceiverConfig = {
    port: integer('PORT', 8000, 0, 65535),
    host: env.HOST ?? '0.0.0.0',
    kafkaBrokers: Object.freeze(brokers),
    schemaRegistryUrl: env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
    topic: env.WEBHOOK_EVENTS_TOPIC ?? 'webhook-events',
    topicPartitions: integer('TOPIC_PARTITIONS', 6, 1, 10_000),
    secrets: Object.freeze(secrets),
    relworxCallbackUrl,
    maxBodyBytes: integer('MAX_BODY_BYTES', 64 * 1024, 1, 16 * 1024 * 1024),
    rateLimitPerSecond: integer('RATE_LIMIT_PER_SECOND', 1000, 0),
    rateLimitBurst: integer('RATE_LIMIT_BURST', 2000, 1),
    trustProxy: read.flag('TRUST_PROXY', false),
    shutdownGraceMs: integer('SHUTDOWN_GRACE_MS', 10_000, 0),
    batchMaxMessages: integer('PUBLISH_BATCH_MAX', 1000, 1, 100_000),
    batchLingerMs: integer('PUBLISH_LINGER_MS', 0, 0, 1000),
    publishLanes: integer('PUBLISH_PRODUCERS', 3, 1, 32),
    ackTimeoutMs: integer('KAFKA_ACK_TIMEOUT_MS', 5000, 100, 120_000),
    headersTimeoutMs: integer('HEADERS_TIMEOUT_MS', 10_000, 100),
    requestTimeoutMs: integer('REQUEST_TIMEOUT_MS', 15_000, 100),
    keepAliveTimeoutMs: integer('KEEP_ALIVE_TIMEOUT_MS', 5000, 0),
    retryAfterSeconds: integer('RETRY_AFTER_SECONDS', 5, 1, 3600),
    logLevel: env.LOG_LEVEL ?? 'info',
    warnings: Object.freeze(warnings),
  };
  if (config.requestTimeoutMs < config.headersTimeoutMs) {
    problems.push('REQUEST_TIMEOUT_MS must not be shorter than HEADERS_TIMEOUT_MS');
  }
  read.check();
  return Object.freeze(config);
}
