import type { Knex } from 'knex';
import type { Producer } from 'kafkajs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Logger } from 'pino';
import type { OutboxEntry } from './apply-chunk';
import type { ProcessorMetrics } from './metrics';

export interface OutboxRelay {
  /** Publishes entries just committed to the outbox, then marks them sent; on failure they wait for the sweep. */
  publish(entries: readonly OutboxEntry[]): void;
  start(): void;
  /** Finishes the publishing under way and stops. */
  stop(): Promise<void>;
}

/**
 * Publishes outbox rows to trade-notifications and marks them sent. The fast path publishes
 * the rows a transaction just committed, straight from memory. The sweep, every `pollMs`,
 * publishes whatever is still unsent after `graceMs` — rows of a publish that failed, or of an
 * instance that crashed between its commit and its publish — claiming them with FOR UPDATE
 * SKIP LOCKED so several instances share the work. Delivery is at least once (a crash after
 * the publish and before the mark, or a sweep racing a slow fast path, publishes a row
 * again): consumers dedupe on event_id.
 */
export function createOutboxRelay(options: {
  db: Knex;
  producer: Producer;
  registry: SchemaRegistry;
  schemaId: number;
  topic: string;
  batchSize: number;
  pollMs: number;
  graceMs: number;
  logger: Logger;
  metrics: ProcessorMetrics;
}): OutboxRelay {
  const { db, producer, registry, schemaId, topic, batchSize, pollMs, graceMs, logger, metrics } = options;
  const inFlight = new Set<Promise<unknown>>();
  let sweeping: Promise<number> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function send(entries: ReadonlyArray<{ messageKey: string; payload: object & { event_id: string } }>): Promise<void> {
    const messages = await Promise.all(
      entries.map(async (entry) => ({
        key: entry.messageKey,
        value: await registry.encode(schemaId, entry.payload),
        headers: { event_id: entry.payload.event_id },
      })),
    );
    await producer.send({ topic, acks: -1, messages });
    metrics.notificationsPublished.inc(entries.length);
  }

  function track<T>(work: Promise<T>): Promise<T> {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  /**
   * One round of the sweep. If the batch cannot be sent whole, its rows are sent one by one:
   * a row that cannot be published (it fails alone, and is logged) must not hold back the rest.
   */
  async function sweepRound(): Promise<number> {
    return db.transaction(async (trx) => {
      const { rows } = await trx.raw<{ rows: Array<{ id: string; message_key: string; payload: object & { event_id: string } }> }>(
        `select id, message_key, payload from outbox
         where sent_at is null and topic = ? and created_at < now() - make_interval(secs => ?)
         order by id limit ? for update skip locked`,
        [topic, graceMs / 1000, batchSize],
      );
      if (rows.length === 0) return 0;
      const entry = (row: (typeof rows)[number]) => ({ messageKey: row.message_key, payload: row.payload });
      let sent = rows;
      try {
        await send(rows.map(entry));
      } catch (error) {
        logger.warn({ err: error, count: rows.length }, 'Outbox sweep could not publish a batch; trying its rows one by one');
        sent = [];
        for (const row of rows) {
          try {
            await send([entry(row)]);
            sent.push(row);
          } catch (rowError) {
            metrics.outboxErrors.inc();
            logger.error({ err: rowError, outbox_id: row.id, event_id: row.payload.event_id }, 'Could not publish a notification; it stays in the outbox');
          }
        }
      }
      if (sent.length > 0) await trx.raw('update outbox set sent_at = now() where id = any(?::bigint[])', [sent.map((row) => row.id)]);
      return rows.length;
    });
  }

  async function sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const published = await sweepRound();
      total += published;
      if (published < batchSize || stopped) return total;
    }
  }

  /** One sweep at a time: a tick that finds one under way joins it. */
  function drain(): Promise<number> {
    sweeping ??= sweep().finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  }

  return {
    publish(entries) {
      if (entries.length === 0 || stopped) return;
      void track(
        (async () => {
          await send(entries);
          await db.raw('update outbox set sent_at = now() where id = any(?::bigint[]) and sent_at is null', [entries.map((entry) => entry.id)]);
        })(),
      ).catch((error: Error) => {
        metrics.outboxErrors.inc();
        logger.warn({ err: error, count: entries.length }, 'Could not publish notifications; the outbox sweep will retry');
      });
    },
    start() {
      stopped = false;
      timer = setInterval(() => {
        track(drain()).catch((error: Error) => {
          metrics.outboxErrors.inc();
          logger.warn({ err: error }, 'Outbox sweep could not publish; will retry');
        });
      }, pollMs);
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}
