import type { Knex } from 'knex';
import type { Producer } from 'kafkajs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Logger } from 'pino';
import type { ProcessorMetrics } from './metrics';

interface OutboxRow {
  id: string;
  message_key: string;
  payload: Record<string, unknown>;
}

export interface OutboxRelay {
  /** Publish soon: called after a transaction wrote outbox rows. */
  wake(): void;
  start(): void;
  /** Finishes the round under way and stops. */
  stop(): Promise<void>;
  /** Publishes until the outbox is empty; resolves with how many rows it published. */
  drain(): Promise<number>;
}

/**
 * Publishes outbox rows to trade-notifications and marks them sent, in one transaction per
 * round: rows are claimed with FOR UPDATE SKIP LOCKED, so several processor instances share
 * the work without publishing a row twice while they run. A crash after the publish but before
 * the commit publishes that round again: consumers dedupe on event_id (at-least-once).
 */
export function createOutboxRelay(options: {
  db: Knex;
  producer: Producer;
  registry: SchemaRegistry;
  schemaId: number;
  topic: string;
  batchSize: number;
  pollMs: number;
  logger: Logger;
  metrics: ProcessorMetrics;
}): OutboxRelay {
  const { db, producer, registry, schemaId, topic, batchSize, pollMs, logger, metrics } = options;
  let running: Promise<number> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function round(): Promise<number> {
    return db.transaction(async (trx) => {
      const { rows } = await trx.raw<{ rows: OutboxRow[] }>(
        'select id, message_key, payload from outbox where sent_at is null and topic = ? order by id limit ? for update skip locked',
        [topic, batchSize],
      );
      if (rows.length === 0) return 0;
      const messages = await Promise.all(
        rows.map(async (row) => ({
          key: row.message_key,
          value: await registry.encode(schemaId, row.payload),
          headers: { event_id: String(row.payload.event_id) },
        })),
      );
      await producer.send({ topic, acks: -1, messages });
      await trx.raw('update outbox set sent_at = now() where id = any(?::bigint[])', [rows.map((row) => row.id)]);
      return rows.length;
    });
  }

  async function drainLoop(): Promise<number> {
    let total = 0;
    do {
      again = false;
      for (;;) {
        const published = await round();
        total += published;
        metrics.notificationsPublished.inc(published);
        if (published < batchSize) break;
      }
    } while (again && !stopped);
    return total;
  }

  function drain(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = drainLoop().finally(() => {
      running = undefined;
    });
    return running;
  }

  function wake(): void {
    if (stopped) return;
    drain().catch((error: Error) => {
      metrics.outboxErrors.inc();
      logger.warn({ err: error }, 'Outbox relay could not publish; will retry');
    });
  }

  return {
    wake,
    drain,
    start() {
      stopped = false;
      timer = setInterval(wake, pollMs);
      wake();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
