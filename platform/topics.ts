import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaJSError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, type Admin, type Kafka } from 'kafkajs';
import type { EnvironmentReader } from './environment';

export const TOPICS = Object.freeze({
  webhookEvents: 'webhook-events',
  tradeNotifications: 'trade-notifications',
  deadLetters: 'webhook-events.dlq',
});

/**
 * How long topic creation may take, leaders elected. kafkajs gives the broker 5 s and waits
 * 10 s for leaders by default: too short for a busy broker that was just started.
 */
export const TOPIC_CREATION_TIMEOUT_MS = 30_000;

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** Copies of each partition; unset: the broker's default.replication.factor. */
  readonly replicationFactor?: number;
  /** The topic's min.insync.replicas: copies an acks=all write waits for; unset: the broker's default. */
  readonly minInsyncReplicas?: number;
}

/** Replication asked for in the environment; what is unset follows from the cluster's size. */
export interface TopicReplication {
  readonly replicationFactor?: number;
  readonly minInsyncReplicas?: number;
}

/** Copies of a partition when the replication factor is not set and the cluster has that many brokers. */
const MAX_DEFAULT_REPLICAS = 3;

/** TOPIC_REPLICATION_FACTOR and TOPIC_MIN_INSYNC_REPLICAS; problems are recorded on `read`. */
export function readTopicReplication(read: EnvironmentReader): TopicReplication {
  // Kafka's protocol sends a replication factor as a 16-bit count.
  const replicationFactor = read.optionalInteger('TOPIC_REPLICATION_FACTOR', 1, 32767);
  const minInsyncReplicas = read.optionalInteger('TOPIC_MIN_INSYNC_REPLICAS', 1, 32767);
  if (minInsyncReplicas !== undefined && replicationFactor !== undefined && minInsyncReplicas > replicationFactor) {
    read.problems.push('TOPIC_MIN_INSYNC_REPLICAS must not exceed TOPIC_REPLICATION_FACTOR: a topic with fewer copies than must be in sync refuses every write');
  } else if (minInsyncReplicas !== undefined && replicationFactor === undefined && minInsyncReplicas > MAX_DEFAULT_REPLICAS) {
    read.problems.push(`TOPIC_MIN_INSYNC_REPLICAS above ${MAX_DEFAULT_REPLICAS} needs TOPIC_REPLICATION_FACTOR set at least as high (unset, it is at most ${MAX_DEFAULT_REPLICAS})`);
  }
  return Object.freeze({ ...(replicationFactor !== undefined && { replicationFactor }), ...(minInsyncReplicas !== undefined && { minInsyncReplicas }) });
}

/**
 * The replication of topics created on a cluster of `brokers`: what was asked for, else three
 * copies of which two must be in sync (an acks=all write survives the loss of one broker, and
 * a broker can be restarted without refusing writes), or as many as the cluster has brokers.
 * min.insync.replicas is never more than the copies there are, or every write would be refused.
 */
export function replicationFor(asked: TopicReplication, brokers: number): Required<TopicReplication> {
  const replicationFactor = asked.replicationFactor ?? Math.min(MAX_DEFAULT_REPLICAS, brokers);
  return { replicationFactor, minInsyncReplicas: asked.minInsyncReplicas ?? Math.min(2, replicationFactor) };
}

/**
 * Creates topics and returns once every partition has a leader. kafkajs's own wait
 * (`waitForLeaders`) gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers for a
 * moment after the controller created the topic, until its metadata catches up; this waits that
 * out too, up to `timeoutMs`.
 */
export async function createTopicsWithLeaders(admin: Admin, topics: readonly TopicSpec[], timeoutMs = TOPIC_CREATION_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await admin.createTopics({
    topics: topics.map(({ topic, partitions, replicationFactor, minInsyncReplicas }) => ({
      topic,
      numPartitions: partitions,
      replicationFactor,
      configEntries: minInsyncReplicas === undefined ? [] : [{ name: 'min.insync.replicas', value: String(minInsyncReplicas) }],
    })),
    waitForLeaders: false,
    timeout: timeoutMs,
  });
  const names = topics.map(({ topic }) => topic);
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: names });
      const led = metadata.topics.every(({ partitions }) => partitions.length > 0 && partitions.every(({ leader, partitionErrorCode }) => leader >= 0 && partitionErrorCode === 0));
      if (led) return;
    } catch (error) {
      if (!notYet(error)) throw error;
    }
    // Retriable in kafkajs's terms: a busy broker elects them later, so a service's start waits on.
    if (Date.now() > deadline) throw new KafkaJSError(`Topics ${names.join(', ')} have no leader after ${timeoutMs} ms`, { retriable: true });
    await sleep(100);
  }
}

/**
 * A metadata error that means "not there yet": a retriable protocol error, also when kafkajs
 * gave up retrying it itself (KafkaJSNumberOfRetriesExceeded carries it as its cause).
 */
function notYet(error: unknown): boolean {
  if (error instanceof KafkaJSProtocolError) return error.retriable;
  return error instanceof KafkaJSNumberOfRetriesExceeded && notYet(error.cause);
}

/** What `ensureTopics` created, and with which replication; nothing when every topic was there. */
export interface CreatedTopics {
  readonly topics: readonly string[];
  readonly brokers: number;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
}

/**
 * Creates the topics that are missing, replicated as `replication` asks or as the cluster's size
 * allows (replicationFor); existing ones are left as they are. A cluster with fewer brokers than
 * the replication needs is an error kafkajs calls retriable: brokers of a cluster that is being
 * started join one by one, and a service's start waits for them.
 */
export async function ensureTopics(kafka: Kafka, topics: readonly TopicSpec[], replication: TopicReplication = {}): Promise<CreatedTopics | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter(({ topic }) => !existing.has(topic));
    if (missing.length === 0) return undefined;
    const brokers = (await admin.describeCluster()).brokers.length;
    const { replicationFactor, minInsyncReplicas } = replicationFor(replication, brokers);
    const needed = Math.max(replicationFactor, minInsyncReplicas);
    if (needed > brokers) {
      throw new KafkaJSError(
        `Topics ${missing.map(({ topic }) => topic).join(', ')} need ${needed} brokers (replication factor ${replicationFactor}, min.insync.replicas ${minInsyncReplicas}); the cluster has ${brokers}`,
        { retriable: true },
      );
    }
    await createTopicsWithLeaders(admin, missing.map((spec) => ({ ...spec, replicationFactor, minInsyncReplicas })));
    return Object.freeze({ topics: missing.map(({ topic }) => topic), brokers, replicationFactor, minInsyncReplicas });
  } finally {
    await admin.disconnect();
  }
}
