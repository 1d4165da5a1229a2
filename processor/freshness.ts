import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ProcessorMetrics } from './metrics';

/** Scrapes within this long of the last read reuse its values, so that frequent scrapes do not each ask Kafka and the database. */
export const FRESHNESS_CACHE_MS = 1000;
/**
 * How long a scrape waits for Kafka or the database. A read that takes longer leaves its gauges at
 * their last values; it is not started again while it is still under way, so a hung broker or
 * database costs one request at a time, never one per scrape.
 */
export const FRESHNESS_READ_CAP_MS = 2000;
/** How long a stop waits for the admin client to disconnect (as the producers', PRODUCER_DISCONNECT_MS). */
export const FRESHNESS_DISCONNECT_MS = 3000;

export interface FreshnessReader {
  /** Connects the admin client the lag is read with. Safe to call again. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sets the freshness gauges (see metrics.ts). Never rejects: a source that fails is logged and its gauges keep their last values. */
  collect(): Promise<void>;
}

export interface PartitionLag {
  readonly partition: number;
  readonly lag: number;
}

/**
 * Lag by partition from the log's offsets and the group's committed ones. What a partition holds
 * to process starts at the committed offset, or at the log start when nothing is committed or
 * retention deleted what was: the consumer reads from the beginning then (`fromBeginning`).
 */
export function partitionLags(
  log: ReadonlyArray<{ partition: number; high: string; low: string }>,
  committed: ReadonlyArray<{ partition: number; offset: string }>,
): PartitionLag[] {
  const committedBy = new Map(committed.map(({ partition, offset }) => [partition, BigInt(offset)]));
  return log
    .map(({ partition, high, low }) => {
      const start = BigInt(low);
      const from = committedBy.get(partition) ?? -1n;
      const lag = BigInt(high) - (from > start ? from : start);
      return { partition, lag: lag > 0n ? Number(lag) : 0 };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** `read`, one at a time: a call while one is under way shares it. */
function oneAtATime<T>(read: () => Promise<T>): () => Promise<T> {
  let underWay: Promise<T> | undefined;
  return () =>
    (underWay ??= read().finally(() => {
      underWay = undefined;
    }));
}

function withinCap<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${FRESHNESS_READ_CAP_MS} ms`)), FRESHNESS_READ_CAP_MS);
  });
  return Promise.race([work, cap]).finally(() => clearTimeout(timer));
}

/**
 * Reads, when the metrics are collected, how far behind the processor is: the consumer group's
 * lag on the events topic (admin offset requests: the log's ends and the group's commits, two
 * requests however many partitions), the age of the oldest event this instance is holding
 * (`oldestHeld`, from memory), and the outbox's unsent rows (one query on the partial index of
 * unsent rows, so its cost follows the backlog, not the table).
 */
export function createFreshnessReader(options: {
  kafka: Kafka;
  db: Knex;
  topic: string;
  groupId: string;
  metrics: ProcessorMetrics;
  logger: Logger;
  /** The Kafka timestamp (ms since the epoch) of the oldest record fetched and not yet applied, if any. */
  oldestHeld: () => number | undefined;
}): FreshnessReader {
  const { kafka, db, topic, groupId, metrics, logger, oldestHeld } = options;
  // Few retries: a scrape waits FRESHNESS_READ_CAP_MS at most, and the next one asks again.
  const admin: Admin = kafka.admin({ retry: { retries: 1 } });
  let connected = false;
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<void> | undefined;

  const readLag = oneAtATime(async () => {
    const [log, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    return partitionLags(log, committed?.partitions ?? []);
  });

  const readOutbox = oneAtATime(async () => {
    const { rows } = await db
      .raw<{ rows: Array<{ unsent: number; oldest: number }> }>(
        `select count(*)::int as unsent, coalesce(extract(epoch from greatest(interval '0', now() - min(created_at))), 0)::float8 as oldest
         from outbox where sent_at is null`,
      )
      .timeout(FRESHNESS_READ_CAP_MS, { cancel: true });
    return rows[0]!;
  });

  async function lag(): Promise<void> {
    // Before the start (and after the stop) there is no client to ask; the gauge stays as it is.
    if (!connected) return;
    try {
      const lags = await withinCap('Reading the consumer lag', readLag());
      metrics.consumerLag.reset();
      for (const { partition, lag } of lags) metrics.consumerLag.set({ topic, partition: String(partition) }, lag);
    } catch (error) {
      logger.warn({ err: error }, 'Could not read the consumer lag; webhook_consumer_lag keeps its last values');
    }
  }

  async function outbox(): Promise<void> {
    try {
      const { unsent, oldest } = await withinCap('Reading the outbox backlog', readOutbox());
      metrics.outboxUnsentRows.set(unsent);
      metrics.outboxOldestUnsentAge.set(oldest);
    } catch (error) {
      logger.warn({ err: error }, 'Could not read the outbox backlog; its gauges keep their last values');
    }
  }

  return {
    async start() {
      await admin.connect();
      connected = true;
    },
    async stop() {
      connected = false;
      // kafkajs waits for requests in flight, a read of a broker that stopped answering included
      // (30 s): bounded as the producers' disconnect is, so the stop bound holds.
      await Promise.race([admin.disconnect(), sleep(FRESHNESS_DISCONNECT_MS)]);
    },
    collect() {
      const held = oldestHeld();
      metrics.oldestUnprocessedEventAge.set(held === undefined ? 0 : Math.max(0, (Date.now() - held) / 1000));
      if (reading) return reading;
      if (Date.now() - readAt < FRESHNESS_CACHE_MS) return Promise.resolve();
      reading = Promise.all([lag(), outbox()]).then(() => {
        readAt = Date.now();
        reading = undefined;
      });
      return reading;
    },
  };
}
