import { Partitioners, type IHeaders, type Kafka } from 'kafkajs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Logger } from 'pino';
import { createPartitionedSender } from '../platform/partitioned-send';
import { createReplaceableProducer, type ReplaceableProducer } from '../platform/replaceable-producer';
import type { WebhookEventRecord } from '../schemas/webhook-event';
import { BATCH_OVERHEAD_BYTES, recordBytes } from './event-size';
import type { ReceiverMetrics } from './metrics';
import { PublishError, publishFailure } from './publish-failure';

/** Where an accepted event was written: the record at `offset` (decimal int64 text) of `topic`'s `partition`. */
export interface Receipt {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface EventPublisher {
  /**
   * Loads the WebhookEvent schema (rejects if the registry cannot give it) and starts connecting
   * the producers. It does not wait for Kafka: a receiver started while Kafka is down answers
   * 503 and keeps trying, and `isReady()` turns true once every producer is connected.
   */
  start(): Promise<void>;
  /**
   * Resolves, with where the event was written, once the event's batch is acknowledged by all
   * in-sync replicas; else rejects with PublishError. `headers` go on the record besides the
   * CloudEvents ones (the trace context).
   */
  publish(key: string, record: WebhookEventRecord, headers?: IHeaders): Promise<Receipt>;
  /** Connected, and the last batch was acknowledged. */
  isReady(): boolean;
  /**
   * Sends what is queued and waits for it until `deadline` (epoch ms), then disconnects, waiting
   * at most DISCONNECT_MS for that (or what is left until the deadline, if more). Call it once
   * no client can still be answered (the HTTP server closed): an event not acknowledged by then
   * was never answered 202, so nothing accepted is given up. `alongside` runs beside the
   * disconnect, once the publishing is over: the stop takes no longer for it, if it is bounded
   * by DISCONNECT_MS too.
   */
  close(deadline?: number, alongside?: () => Promise<void>): Promise<void>;
}

/** The longest a close waits for the producers to disconnect past its deadline; a silent broker would hold them for kafkajs's request timeout. */
export const DISCONNECT_MS = 1000;

interface Pending {
  message: { key: string; value: Buffer; headers: IHeaders; timestamp: string };
  /** When it was queued (performance.now()): its batch goes `lingerMs` after, at the latest. */
  queuedAt: number;
  /** What the message adds to a record batch, at most. */
  bytes: number;
  resolve: (receipt: Receipt) => void;
  reject: (error: Error) => void;
}

/** CloudEvents Kafka protocol binding, binary mode: routing without decoding the value. */
export function cloudEventHeaders(record: WebhookEventRecord): IHeaders {
  return {
    ce_specversion: '1.0',
    ce_id: record.event_id,
    ce_type: `exchange.trade_webhooks.${record.webhook_type}`,
    ce_source: record.path,
    ce_time: new Date(record.received_at).toISOString(),
  };
}

/** One idempotent producer at a time and whether it has a batch on the wire. */
interface Lane {
  producer: ReplaceableProducer;
  busy: boolean;
}

/**
 * kafkajs has no linger: each send is its own produce request. So this is one: a batch goes
 * `lingerMs` after its oldest event was queued (at once when `maxBatch` events wait), and requests
 * that arrive while the batches are on the wire wait and go together in the next one, so the
 * batch size follows the load. Each send costs the receiver far more than each event in it does.
 * A batch holds at most `maxBatch` events and
 * `maxBatchBytes` bytes: each partition's share of a batch goes as one record batch, which the
 * broker refuses whole past the topic's `max.message.bytes`, and bounding the batch bounds every
 * partition's share of it.
 *
 * A batch goes as one produce call (PartitionedSender: one request per broker, and a partition
 * the answer left out is sent again), and is acknowledged only when every partition of it was: a
 * batch of which one partition failed fails all its requests, the senders retry, and the
 * processor drops what was written twice by its event id.
 *
 * An idempotent kafkajs producer has one request in flight to each broker (its sequence numbers
 * advance on acknowledgement; its requests to one broker wait for each other), so `lanes`
 * producers, each with its own producer id, send batches side by side. Requests in flight at the same time have no order between them anyway; a sender
 * that waits for its 202 before the next webhook keeps its order.
 *
 * A batch that fails or is not acknowledged within `ackTimeoutMs` fails all its requests (the
 * senders retry), and its producer is replaced: a fresh producer id starts with fresh sequence
 * numbers instead of inheriting a broken sequence.
 *
 * Constructing does no I/O; `start()` does (kafkajs's `producer()` / `connect()` split).
 */
export function createEventPublisher(options: {
  kafka: Kafka;
  registry: SchemaRegistry;
  schemaId: number;
  topic: string;
  maxBatch: number;
  maxBatchBytes: number;
  lingerMs: number;
  lanes: number;
  ackTimeoutMs: number;
  logger: Logger;
  metrics: ReceiverMetrics;
}): EventPublisher {
  const { kafka, registry, schemaId, topic, maxBatch, maxBatchBytes, lingerMs, ackTimeoutMs, logger, metrics } = options;
  const partitioned = createPartitionedSender({ kafka, topic, timeoutMs: ackTimeoutMs });
  // Confluent wire format: magic byte 0, the schema id, then the Avro body.
  const wireHeader = Buffer.alloc(5);
  wireHeader.writeInt32BE(schemaId, 1);
  /** Set by start(), once the schema is loaded. */
  let encode: ((record: WebhookEventRecord) => Buffer) | undefined;
  let starting: Promise<void> | undefined;

  const queue: Pending[] = [];
  const lanes: Lane[] = Array.from({ length: options.lanes }, () => ({
    producer: createReplaceableProducer(() =>
      kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        // Bounded so a send during an outage ends; the batch then fails and the sender retries.
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
      }),
    ),
    busy: false,
  }));
  const inFlight = new Set<Promise<void>>();
  let scheduled = false;
  /** The linger's timer while a batch waits for it. */
  let lingering: NodeJS.Timeout | undefined;
  let ready = false;
  let closed = false;

  const setReady = (value: boolean): void => {
    ready = value;
    metrics.ready.set(value ? 1 : 0);
  };

  /** Ready means able to send: connected, and the topic's partition count known. */
  async function connected(lane: Lane): Promise<void> {
    await Promise.all([lane.producer.connect(), partitioned.start()]);
  }

  // While not ready, keep trying to connect, so readiness comes back without traffic (a load
  // balancer that follows /readyz sends none to an unready receiver).
  let probe: NodeJS.Timeout | undefined;
  function probeUntilReady(): void {
    if (probe || closed) return;
    probe = setInterval(() => {
      if (ready || closed || inFlight.size > 0) return;
      connected(lanes[0]!).then(
        () => {
          if (!closed) setReady(true);
        },
        () => undefined,
      );
    }, 1000);
    probe.unref();
  }

  function withTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PublishError(`not acknowledged within ${ackTimeoutMs} ms`)), ackTimeoutMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  /** Sends the batch, all or nothing; resolves with each event's receipt, in the batch's order. */
  async function send(lane: Lane, batch: Pending[], bytes: number): Promise<Receipt[]> {
    const started = performance.now();
    const outcomes = await lane.producer.send(partitioned, batch.map(({ message }) => message));
    const receipts = new Array<Receipt>(batch.length);
    for (const outcome of outcomes) {
      if (!outcome.acknowledged) throw outcome.error;
      outcome.positions.forEach((position, index) => (receipts[position] = { topic, partition: outcome.partition, offset: outcome.offsets[index]! }));
    }
    metrics.batchSize.observe(batch.length);
    metrics.batchBytes.observe(bytes);
    metrics.batchDuration.observe((performance.now() - started) / 1000);
    return receipts;
  }

  async function flush(lane: Lane, batch: Pending[], bytes: number): Promise<void> {
    try {
      const receipts = await withTimeout(send(lane, batch, bytes));
      if (!ready) logger.info({ topic }, 'Kafka producer is writing to the topic');
      setReady(true);
      clearInterval(probe);
      probe = undefined;
      batch.forEach((pending, position) => pending.resolve(receipts[position]!));
    } catch (error) {
      metrics.producerErrors.inc();
      const failure = publishFailure(error);
      if (failure.code === 'RECORDS_REFUSED') {
        // The broker answered: the connection and the producer are fine, only this batch is not.
        logger.error(
          { err: error, events: batch.length, bytes },
          "Kafka refused a batch for what it holds: PUBLISH_BATCH_MAX_BYTES must stay under the topic's max.message.bytes",
        );
      } else {
        if (ready) logger.error({ err: error, events: batch.length }, 'Kafka did not acknowledge a batch');
        setReady(false);
        // A batch not acknowledged in time is still on the wire: its producer goes once it settles.
        lane.producer.replace();
        probeUntilReady();
      }
      for (const pending of batch) pending.reject(failure);
    }
  }

  /** The oldest queued events that fit in one batch: always at least one (publish refuses any that alone would not fit). */
  function nextBatch(): { batch: Pending[]; bytes: number } {
    let bytes = BATCH_OVERHEAD_BYTES;
    let count = 0;
    while (count < queue.length && count < maxBatch) {
      const next = queue[count]!.bytes;
      if (count > 0 && bytes + next > maxBatchBytes) break;
      bytes += next;
      count += 1;
    }
    return { batch: queue.splice(0, count), bytes };
  }

  function dispatch(): void {
    scheduled = false;
    clearTimeout(lingering);
    lingering = undefined;
    for (const lane of lanes) {
      if (queue.length === 0) return;
      if (lane.busy) continue;
      lane.busy = true;
      const { batch, bytes } = nextBatch();
      const work: Promise<void> = flush(lane, batch, bytes).finally(() => {
        lane.busy = false;
        inFlight.delete(work);
        schedule();
      });
      inFlight.add(work);
    }
  }

  function schedule(): void {
    if (queue.length === 0 || lanes.every((lane) => lane.busy)) return;
    // A full batch, or a close, does not wait for the linger.
    const now = queue.length >= maxBatch || closed;
    if (scheduled && !(lingering && now)) return;
    clearTimeout(lingering);
    lingering = undefined;
    scheduled = true;
    const wait = now ? 0 : queue[0]!.queuedAt + lingerMs - performance.now();
    // setImmediate: at least the requests parsed in this turn of the event loop go in one batch.
    if (wait >= 1) lingering = setTimeout(dispatch, wait);
    else setImmediate(dispatch);
  }

  async function load(): Promise<void> {
    const schema = (await registry.getSchema(schemaId)) as unknown as { toBuffer(record: unknown): Buffer };
    encode = (record) => Buffer.concat([wireHeader, schema.toBuffer(record)]);
    if (closed) return;
    // Connect eagerly so /readyz tells the truth before the first webhook.
    void Promise.all(lanes.map(connected)).then(
      () => setReady(true),
      (error: Error) => {
        logger.error({ err: error }, 'Kafka producer could not connect; retrying');
        probeUntilReady();
      },
    );
  }

  return {
    start() {
      // Once: a second call waits for the first; a failed start may be tried again.
      starting ??= load().catch((error: unknown) => {
        starting = undefined;
        throw error;
      });
      return starting;
    },
    publish(key, record, headers) {
      if (closed) return Promise.reject(new PublishError('shutting down'));
      // A programmer error, not a Kafka failure: nothing can be encoded before the schema is loaded.
      const toWire = encode;
      if (!toWire) return Promise.reject(new Error('EventPublisher.publish() called before start() finished'));
      return new Promise<Receipt>((resolve, reject) => {
        const message = { key, value: toWire(record), headers: { ...cloudEventHeaders(record), ...headers }, timestamp: String(record.received_at) };
        const bytes = recordBytes(message);
        if (BATCH_OVERHEAD_BYTES + bytes > maxBatchBytes) {
          reject(new PublishError(`an event of ${bytes} bytes does not fit in a batch of ${maxBatchBytes} bytes`, 'RECORD_TOO_LARGE'));
          return;
        }
        queue.push({ message, bytes, queuedAt: performance.now(), resolve, reject });
        schedule();
      });
    },
    isReady: () => ready,
    async close(deadline = Infinity, alongside) {
      closed = true;
      schedule();
      const drained = (async () => {
        while (inFlight.size > 0 || queue.length > 0 || scheduled) {
          if (inFlight.size > 0) await Promise.all(inFlight);
          else await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      let timer: NodeJS.Timeout | undefined;
      if (deadline === Infinity) await drained;
      else await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
      clearInterval(probe);
      setReady(false);
      const disconnectMs = Math.max(DISCONNECT_MS, deadline - Date.now());
      await Promise.all([...lanes.map((lane) => lane.producer.disconnect(disconnectMs === Infinity ? undefined : disconnectMs)), alongside?.()]);
    },
  };
}
