import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaJSError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, type Admin, type Kafka } from 'kafkajs';

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
    topics: topics.map(({ topic, partitions }) => ({ topic, numPartitions: partitions })),
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

/** Creates the topics that are missing; existing ones are left as they are. */
export async function ensureTopics(kafka: Kafka, topics: readonly TopicSpec[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter(({ topic }) => !existing.has(topic));
    if (missing.length > 0) await createTopicsWithLeaders(admin, missing);
  } finally {
    await admin.disconnect();
  }
}
