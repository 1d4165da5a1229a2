import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { createPartitionedSender } from '../platform/partitioned-send';

export interface ReplayFilter {
  /** Only these events; with neither eventIds nor all, nothing matches. */
  eventIds?: readonly string[];
  all?: boolean;
  /** Only events dead-lettered at or after this time. */
  since?: Date;
}

export interface ReplayResult {
  /** Dead-lettered events that matched, one per event id (its latest copy). */
  matched: Array<{ eventId: string; reason: string; failedAt: string }>;
  replayed: number;
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return value === undefined ? undefined : String(value);
}

/** Reads a topic from the beginning up to its end as it was when called. */
async function readToEnd(kafka: Kafka, topic: string): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `dlq-replay-${randomUUID()}`;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const ends = new Map(offsets.map((partition) => [partition.partition, BigInt(partition.high)]));
    // A partition whose records retention already deleted (low = high) has nothing to read.
    const remaining = new Set(offsets.filter((partition) => BigInt(partition.high) > BigInt(partition.low)).map((partition) => partition.partition));
    const messages: KafkaMessage[] = [];
    if (remaining.size === 0) return messages;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const end = ends.get(partition)!;
              if (BigInt(message.offset) < end) messages.push(message);
              if (BigInt(message.offset) + 1n >= end) {
                remaining.delete(partition);
                if (remaining.size === 0) resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return messages;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/**
 * The one `dlq_` header a replayed record keeps: the id it was dead-lettered under, so that an
 * undecodable record keeps its id (it has none of its own) and an unchanged rejection is known
 * to be in the DLQ already.
 */
const KEPT_HEADER = 'dlq_event_id';

/**
 * Re-publishes dead-lettered envelopes to webhook-events, unchanged (without the dlq_ headers
 * but `dlq_event_id`), after an operator fixed the cause. They take the normal path: an event
 * that was applied in the meantime is a duplicate there, so replaying twice applies once.
 */
export async function replayDeadLetters(options: {
  kafka: Kafka;
  deadLetterTopic: string;
  eventsTopic: string;
  filter: ReplayFilter;
  dryRun?: boolean;
}): Promise<ReplayResult> {
  const { filter } = options;
  const wanted = new Set(filter.eventIds ?? []);
  const latest = new Map<string, KafkaMessage>();
  for (const message of await readToEnd(options.kafka, options.deadLetterTopic)) {
    const eventId = header(message.headers, 'dlq_event_id');
    if (!eventId) continue;
    if (!filter.all && !wanted.has(eventId)) continue;
    const failedAt = header(message.headers, 'dlq_failed_at');
    if (filter.since && (!failedAt || new Date(failedAt) < filter.since)) continue;
    latest.set(eventId, message);
  }
  const matched = [...latest].map(([eventId, message]) => ({
    eventId,
    reason: header(message.headers, 'dlq_reason') ?? 'unknown',
    failedAt: header(message.headers, 'dlq_failed_at') ?? '',
  }));
  if (options.dryRun || latest.size === 0) return { matched, replayed: 0 };

  // One produce call, every partition acknowledged, or the replay fails (see PartitionedSender).
  const events = createPartitionedSender({ kafka: options.kafka, topic: options.eventsTopic });
  const producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await events.sendAll(
      producer,
      [...latest.values()].map((message) => ({
        key: message.key,
        value: message.value,
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).filter(([name]) => name === KEPT_HEADER || !name.startsWith('dlq_'))) as IHeaders,
      })),
    );
  } finally {
    await producer.disconnect();
  }
  return { matched, replayed: latest.size };
}
