import type { Knex } from 'knex';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Logger } from 'pino';
import { TRADE_NOTIFICATION_SCHEMA_FILE } from '../schemas/avro-schemas';
import type { PartitionedSender, PartitionOutcome } from '../platform/partitioned-send';
import type { ReplaceableProducer } from '../platform/replaceable-producer';
import { registerValueSchema } from '../platform/schema-registry';
import { StartupAborted } from '../platform/service-lifecycle';
import type { OutboxEntry } from './apply-chunk';
import { classifyFailure } from './errors';
import { createRelayTrace, type KeptContext, type Outgoing } from './relay-trace';
import type { ProcessorMetrics } from './metrics';

export interface OutboxRelay {
  /** Publishes entries just committed to the outbox, then marks them sent; on failure they wait for the sweep. */
  publish(entries: readonly OutboxEntry[]): void;
  /**
   * Registers the notification schema under the topic's subject, learns the topic's partition
   * count, then sweeps every `pollMs`.
   * Safe to call again after it failed, or once it started (it then does nothing). Once `stop`
   * was called it rejects with StartupAborted and sweeps nothing, even if it was under way.
   */
  start(): Promise<void>;
  /** Finishes the publishing under way and stops, for good. */
  stop(): Promise<void>;
}

/** The first wait after a failure; it doubles with each further failure, up to MAX_BACKOFF_SECONDS. */
const FIRST_BACKOFF_SECONDS = 1;
const MAX_BACKOFF_SECONDS = 300;
const MAX_ERROR_LENGTH = 500;

/** What the relay reads of a notification besides encoding it: its ids, for the headers. */
interface NotificationIds {
  event_id: string;
  trade_id: unknown;
  user_id: unknown;
}

interface PendingRow extends KeptContext {
  id: string;
  message_key: string;
  payload: NotificationIds;
}

interface Entry extends KeptContext {
  messageKey: string;
  payload: NotificationIds;
}

/**
 * What a stuck row records about why: the error's code or name and its message, bounded, and
 * without any `user:password@` a URL in it might carry.
 */
function describeFailure(error: unknown): string {
  const { code, name, message } = (error ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
  const label = typeof code === 'string' || typeof code === 'number' ? String(code) : typeof name === 'string' ? name : 'Error';
  const text = `${label}: ${typeof message === 'string' ? message : String(error)}`.replace(/\/\/[^/\s:@]+:[^/\s@]+@/g, '//***@');
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}

/**
 * Publishes outbox rows to trade-notifications and marks them sent. The fast path publishes
 * the rows a transaction just committed, straight from memory. The sweep, every `pollMs`,
 * publishes whatever is still unsent after `graceMs` — rows of a publish that failed, or of an
 * instance that crashed between its commit and its publish — claiming them with FOR UPDATE
 * SKIP LOCKED so several instances share the work. Delivery is at least once (a crash after
 * the publish and before the mark, or a sweep racing a slow fast path, publishes a row
 * again): consumers dedupe on event_id.
 *
 * A row that fails alone (its notification does not encode, or the broker refuses it) records
 * the failure and waits a capped exponential backoff before the sweep takes it again: a poison
 * row neither holds back the rows behind it nor keeps the sweep busy. A failure that is about the
 * moment, not the row (the broker or the registry out of reach), ends the round and charges no
 * row, so every row goes out on the first sweep after the outage.
 *
 * Notifications go out in one produce call per batch (`notifications`, a PartitionedSender), and
 * a row is marked sent only when its partition was acknowledged: the rows of a partition left
 * unacknowledged are left to the sweep while the others are marked.
 *
 * Constructing it does no I/O; `start` registers the schema. Until then `publish` leaves the
 * entries to the sweep.
 */
export function createOutboxRelay(options: {
  db: Knex;
  /** Replaced after a send that may have been written and not acknowledged: see ReplaceableProducer. */
  producer: ReplaceableProducer;
  registry: SchemaRegistry;
  /** The trade-notifications topic's sender. */
  notifications: PartitionedSender;
  batchSize: number;
  pollMs: number;
  graceMs: number;
  logger: Logger;
  metrics: ProcessorMetrics;
}): OutboxRelay {
  const { db, producer, registry, notifications, batchSize, pollMs, graceMs, logger, metrics } = options;
  const { topic } = notifications;
  const inFlight = new Set<Promise<unknown>>();
  let schemaId: number | undefined;
  let sweeping: Promise<number> | undefined;
  /** Entries handed to `publish`, waiting for the fast path's send under way to finish. */
  const queued: OutboxEntry[] = [];
  let flushing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const relayTrace = createRelayTrace(topic);

  /** The Kafka record of a notification: keyed by user id, ids also as headers (exact decimal text) for routing without decoding. */
  async function recordOf(id: number, entry: Entry): Promise<Outgoing> {
    const { payload } = entry;
    return {
      record: {
        key: entry.messageKey,
        value: await registry.encode(id, payload),
        headers: { event_id: payload.event_id, trade_id: String(payload.trade_id), user_id: String(payload.user_id) },
      },
      kept: entry,
      eventId: payload.event_id,
    };
  }

  /** Sends `items` in one produce call (see PartitionedSender), each in a relay span of its own; one outcome per partition. */
  async function send(items: readonly Outgoing[]): Promise<PartitionOutcome[]> {
    const traced = relayTrace.sending(items);
    const outcomes = await producer.send(notifications, traced.records).catch((error: unknown) => {
      traced.failed(error);
      throw error;
    });
    traced.settled(outcomes);
    for (const outcome of outcomes) if (outcome.acknowledged) metrics.notificationsPublished.inc(outcome.positions.length);
    return outcomes;
  }

  async function sendOne(item: Outgoing): Promise<void> {
    const [outcome] = await send([item]);
    if (!outcome!.acknowledged) throw outcome!.error;
  }

  function track<T>(work: Promise<T>): Promise<T> {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  /** Whether a failure is the moment's (retry the same rows later), not a row's own. */
  const momentary = (error: unknown): boolean => classifyFailure(error).decision === 'retry';

  /**
   * One round of the sweep: the due rows, encoded one by one, then sent as one batch (one produce
   * call). The rows of a partition the broker refused (of every partition, when it refused the
   * call) are sent one by one. Each row that fails alone records its failure and backs off; a
   * momentary failure ends the round with the rows sent so far marked and the rest untouched.
   * Returns the number of rows sent.
   */
  async function sweepRound(id: number): Promise<number> {
    return db.transaction(async (trx) => {
      const { rows } = await trx.raw<{ rows: PendingRow[] }>(
        `select id, message_key, payload, traceparent, tracestate from outbox
         where sent_at is null and topic = ? and created_at < now() - make_interval(secs => ?)
           and (next_attempt_at is null or next_attempt_at <= now())
         order by id limit ? for update skip locked`,
        [topic, graceMs / 1000, batchSize],
      );
      if (rows.length === 0) return 0;
      const failed: Array<{ row: PendingRow; error: unknown }> = [];
      const encoded: Array<{ row: PendingRow; outgoing: Outgoing }> = [];
      let interruption: unknown;
      for (const row of rows) {
        try {
          encoded.push({ row, outgoing: await recordOf(id, { messageKey: row.message_key, payload: row.payload, traceparent: row.traceparent, tracestate: row.tracestate }) });
        } catch (error) {
          if (momentary(error)) {
            interruption = error;
            break;
          }
          failed.push({ row, error });
        }
      }
      const sent: typeof encoded = [];
      if (interruption === undefined && encoded.length > 0) {
        const refused: typeof encoded = [];
        for (const outcome of await send(encoded.map(({ outgoing }) => outgoing))) {
          const items = outcome.positions.map((position) => encoded[position]!);
          if (outcome.acknowledged) sent.push(...items);
          else if (momentary(outcome.error)) interruption ??= outcome.error;
          else {
            logger.warn({ err: outcome.error, count: items.length, partition: outcome.partition }, 'Outbox sweep could not publish a batch; trying its rows one by one');
            refused.push(...items);
          }
        }
        for (const item of refused) {
          if (interruption !== undefined) break;
          try {
            await sendOne(item.outgoing);
            sent.push(item);
          } catch (rowError) {
            if (momentary(rowError)) interruption = rowError;
            else failed.push({ row: item.row, error: rowError });
          }
        }
      }
      if (sent.length > 0) await trx.raw('update outbox set sent_at = clock_timestamp() where id = any(?::bigint[])', [sent.map(({ row }) => row.id)]);
      if (failed.length > 0) await recordFailures(trx, failed);
      if (interruption !== undefined) {
        metrics.outboxErrors.inc();
        logger.warn({ err: interruption, code: classifyFailure(interruption).code }, 'Outbox sweep paused: the broker or registry is out of reach; no row is charged');
        return 0;
      }
      return sent.length;
    });
  }

  async function recordFailures(trx: Knex.Transaction, failed: Array<{ row: PendingRow; error: unknown }>): Promise<void> {
    const errors = failed.map(({ error }) => describeFailure(error));
    const { rows } = await trx.raw<{ rows: Array<{ id: string; attempts: number; next_attempt_at: Date }> }>(
      `update outbox o set attempts = o.attempts + 1, last_error = v.error,
         next_attempt_at = clock_timestamp() + make_interval(secs => least(?::double precision, ? * power(2, o.attempts)))
       from unnest(?::bigint[], ?::text[]) as v(id, error)
       where o.id = v.id
       returning o.id, o.attempts, o.next_attempt_at`,
      [MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS, failed.map(({ row }) => row.id), errors] as unknown as Knex.RawBinding[],
    );
    const state = new Map(rows.map((row) => [row.id, row]));
    failed.forEach(({ row }, index) => {
      metrics.outboxErrors.inc();
      const after = state.get(row.id);
      logger.error(
        { outbox_id: row.id, event_id: row.payload.event_id, attempts: after?.attempts, next_attempt_at: after?.next_attempt_at, last_error: errors[index] },
        'Could not publish a notification; it stays in the outbox and is retried with backoff',
      );
    });
  }

  /** The fast path's send of `entries`: those whose partition was acknowledged are marked sent, the others left to the sweep. */
  async function publishNow(id: number, entries: readonly OutboxEntry[]): Promise<void> {
    try {
      const outcomes = await send(await Promise.all(entries.map((entry) => recordOf(id, entry))));
      const sent = outcomes.flatMap((outcome) => (outcome.acknowledged ? outcome.positions.map((position) => entries[position]!.id) : []));
      if (sent.length > 0) await db.raw('update outbox set sent_at = now() where id = any(?::bigint[]) and sent_at is null', [sent]);
      for (const outcome of outcomes) {
        if (outcome.acknowledged) continue;
        metrics.outboxErrors.inc();
        logger.warn({ err: outcome.error, count: outcome.positions.length, partition: outcome.partition }, 'Could not publish notifications; the outbox sweep will retry');
      }
    } catch (error) {
      metrics.outboxErrors.inc();
      logger.warn({ err: error, count: entries.length }, 'Could not publish notifications; the outbox sweep will retry');
    }
  }

  /**
   * One fast-path send at a time, of everything queued when it starts, at most `batchSize`
   * entries: a send is a produce call, and the requests of one idempotent producer to a broker
   * go one after another, so entries that arrive while a send is under way wait and go
   * together in the next one instead of each chunk's adding a call to the queue.
   */
  function flushQueued(id: number): Promise<void> {
    flushing ??= (async () => {
      while (queued.length > 0) await publishNow(id, queued.splice(0, batchSize));
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  /** Rounds while each sends a full batch: rows that fail are not counted, so they never keep it going. */
  async function sweep(id: number): Promise<number> {
    let total = 0;
    for (;;) {
      const sent = await sweepRound(id);
      total += sent;
      if (sent < batchSize || stopped) return total;
    }
  }

  /** One sweep at a time: a tick that finds one under way joins it. */
  function drain(id: number): Promise<number> {
    sweeping ??= sweep(id).finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  }

  return {
    publish(entries) {
      const id = schemaId;
      if (entries.length === 0 || stopped || id === undefined) return;
      queued.push(...entries);
      void track(flushQueued(id));
    },
    async start() {
      const abandoned = (): StartupAborted => new StartupAborted('Starting the outbox relay');
      if (stopped) throw abandoned();
      const id = (schemaId ??= await registerValueSchema(registry, topic, TRADE_NOTIFICATION_SCHEMA_FILE));
      if (stopped) throw abandoned();
      await notifications.start();
      if (stopped) throw abandoned();
      timer ??= setInterval(() => {
        track(drain(id)).catch((error: Error) => {
          metrics.outboxErrors.inc();
          logger.warn({ err: error }, 'Outbox sweep could not publish; will retry');
        });
      }, pollMs);
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      await Promise.allSettled([...inFlight]);
    },
  };
}
