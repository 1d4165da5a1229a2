import { Partitioners, type IHeaders, type Kafka, type Producer } from 'kafkajs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Logger } from 'pino';
import type { ReceiverMetrics } from './metrics';

/** The `WebhookEvent` record of schemas/avro/webhook-event.avsc. */
export interface WebhookEventRecord {
  event_id: string;
  webhook_type: string;
  received_at: number;
  path: string;
  signature_scheme: string;
  remote_addr: string | null;
  content_type: string;
  body: string;
}

export class PublishError extends Error {
  readonly code = 'PUBLISH_FAILED';
  readonly retriable = true;
}

export interface EventPublisher {
  /** Resolves once the event's batch is acknowledged by all in-sync replicas; else rejects with PublishError. */
  publish(key: string, record: WebhookEventRecord): Promise<void>;
  /** Connected, and the last batch was acknowledged. */
  isReady(): boolean;
  /** Sends what is queued, waits for it, then disconnects. */
  close(): Promise<void>;
}

interface Pending {
  key: string;
  record: WebhookEventRecord;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** CloudEvents Kafka protocol binding, binary mode: routing without decoding the value. */
function cloudEventHeaders(record: WebhookEventRecord): IHeaders {
  return {
    ce_specversion: '1.0',
    ce_id: record.event_id,
    ce_type: `exchange.trade_webhooks.${record.webhook_type}`,
    ce_source: record.path,
    ce_time: new Date(record.received_at).toISOString(),
  };
}

/**
 * kafkajs has no linger: each send is its own produce request. Requests that arrive while a
 * batch is on the wire wait and go together in the next one (at most `maxBatch`), so the
 * batch size follows the load and an idle receiver adds no delay.
 *
 * A batch that fails or is not acknowledged within `ackTimeoutMs` fails all its requests (the
 * senders retry), and the producer is replaced: a fresh idempotent producer id starts with
 * fresh sequence numbers instead of inheriting a broken sequence.
 */
export function createEventPublisher(options: {
  kafka: Kafka;
  registry: SchemaRegistry;
  schemaId: number;
  topic: string;
  maxBatch: number;
  lingerMs: number;
  ackTimeoutMs: number;
  logger: Logger;
  metrics: ReceiverMetrics;
}): EventPublisher {
  const { kafka, registry, schemaId, topic, maxBatch, lingerMs, ackTimeoutMs, logger, metrics } = options;
  const queue: Pending[] = [];
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;
  let inFlight: Promise<void> | undefined;
  let scheduled = false;
  let ready = false;
  let closed = false;

  const setReady = (value: boolean): void => {
    ready = value;
    metrics.ready.set(value ? 1 : 0);
  };

  function connected(): Promise<Producer> {
    if (producer) return Promise.resolve(producer);
    if (!connecting) {
      const next = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        // Bounded so a send during an outage ends; the batch then fails and the sender retries.
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      connecting = next.connect().then(
        () => {
          producer = next;
          connecting = undefined;
          return next;
        },
        (error: Error) => {
          connecting = undefined;
          void next.disconnect().catch(() => undefined);
          throw error;
        },
      );
    }
    return connecting;
  }

  function replaceProducer(): Promise<void> {
    const old = producer;
    producer = undefined;
    return old ? old.disconnect().catch(() => undefined) : Promise.resolve();
  }

  // While not ready, keep trying to connect, so readiness comes back without traffic (a load
  // balancer that follows /readyz sends none to an unready receiver).
  let probe: NodeJS.Timeout | undefined;
  function probeUntilReady(): void {
    if (probe || closed) return;
    probe = setInterval(() => {
      if (ready || closed || inFlight) return;
      connected().then(
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

  async function send(batch: Pending[]): Promise<void> {
    const started = performance.now();
    const messages = await Promise.all(
      batch.map(async ({ key, record }) => ({
        key,
        value: await registry.encode(schemaId, record),
        headers: cloudEventHeaders(record),
        timestamp: String(record.received_at),
      })),
    );
    const client = await connected();
    await client.sendBatch({ topicMessages: [{ topic, messages }], acks: -1, timeout: ackTimeoutMs });
    metrics.batchSize.observe(batch.length);
    metrics.batchDuration.observe((performance.now() - started) / 1000);
  }

  async function flush(): Promise<void> {
    scheduled = false;
    const batch = queue.splice(0, maxBatch);
    if (batch.length === 0) return;
    try {
      await withTimeout(send(batch));
      if (!ready) logger.info('Kafka producer is writing to %s', topic);
      setReady(true);
      clearInterval(probe);
      probe = undefined;
      for (const pending of batch) pending.resolve();
    } catch (error) {
      metrics.producerErrors.inc();
      if (ready) logger.error({ err: error }, 'Kafka did not acknowledge a batch of %d events', batch.length);
      setReady(false);
      void replaceProducer();
      probeUntilReady();
      const failure = error instanceof PublishError ? error : new PublishError((error as Error).message);
      for (const pending of batch) pending.reject(failure);
    }
  }

  function schedule(): void {
    if (scheduled || inFlight || queue.length === 0) return;
    scheduled = true;
    const run = (): void => {
      inFlight = flush().finally(() => {
        inFlight = undefined;
        schedule();
      });
    };
    // setImmediate: the requests parsed in this turn of the event loop go in one batch.
    if (lingerMs > 0) setTimeout(run, lingerMs);
    else setImmediate(run);
  }

  // Connect eagerly so /readyz tells the truth before the first webhook.
  void connected().then(
    () => setReady(true),
    (error: Error) => {
      logger.error({ err: error }, 'Kafka producer could not connect; retrying');
      probeUntilReady();
    },
  );

  return {
    publish(key, record) {
      if (closed) return Promise.reject(new PublishError('shutting down'));
      return new Promise<void>((resolve, reject) => {
        queue.push({ key, record, resolve, reject });
        schedule();
      });
    },
    isReady: () => ready,
    async close() {
      closed = true;
      while (inFlight || queue.length > 0 || scheduled) {
        if (inFlight) await inFlight;
        else await new Promise((resolve) => setImmediate(resolve));
      }
      clearInterval(probe);
      setReady(false);
      if (connecting) await connecting.catch(() => undefined);
      await replaceProducer();
    },
  };
}
