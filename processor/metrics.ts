import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ProcessorMetrics {
  readonly registry: Registry;
  readonly events: Counter<'webhook_type' | 'outcome'>;
  readonly transactionDuration: Histogram;
  readonly eventsPerTransaction: Histogram;
  readonly retries: Counter<'stage'>;
  readonly failures: Counter<'code' | 'decision'>;
  readonly deadLettered: Counter<'reason'>;
  readonly notificationsPublished: Counter;
  readonly outboxErrors: Counter;
  readonly retentionDeletedRows: Counter<'table'>;
  readonly ready: Gauge;
  readonly consumerLag: Gauge<'topic' | 'partition'>;
  readonly oldestUnprocessedEventAge: Gauge;
  readonly outboxUnsentRows: Gauge;
  readonly outboxOldestUnsentAge: Gauge;
  /**
   * What sets the four gauges above each time the metrics are collected (a scrape of /metrics):
   * the processor's freshness reader (see freshness.ts). It must never reject.
   */
  collectFreshnessWith(read: () => Promise<void>): void;
}

export function createProcessorMetrics(): ProcessorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let readFreshness: () => Promise<void> = async () => undefined;
  // One read serves the four gauges: the reader shares it and keeps its result for a moment.
  const collect = (): Promise<void> => readFreshness();
  return {
    registry,
    events: new Counter({
      name: 'webhook_events_processed_total',
      help: 'Events by webhook type and outcome (applied, stale, rejected, duplicate)',
      labelNames: ['webhook_type', 'outcome'],
      registers: [registry],
    }),
    transactionDuration: new Histogram({
      name: 'webhook_apply_transaction_seconds',
      help: 'Time of one database transaction applying a chunk of events',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    eventsPerTransaction: new Histogram({
      name: 'webhook_events_per_transaction',
      help: 'Events applied in one database transaction',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [registry],
    }),
    retries: new Counter({ name: 'webhook_processing_retries_total', help: 'Transient failures retried, by stage', labelNames: ['stage'], registers: [registry] }),
    failures: new Counter({
      name: 'webhook_processing_failures_total',
      help: 'Failures met while consuming, by the classifier\'s code and decision (retry, dead_letter, stop)',
      labelNames: ['code', 'decision'],
      registers: [registry],
    }),
    deadLettered: new Counter({ name: 'webhook_events_dead_lettered_total', help: 'Events sent to the dead-letter topic, by reason', labelNames: ['reason'], registers: [registry] }),
    notificationsPublished: new Counter({ name: 'trade_notifications_published_total', help: 'Outbox rows published to trade-notifications', registers: [registry] }),
    outboxErrors: new Counter({ name: 'outbox_relay_errors_total', help: 'Outbox relay rounds that failed and will be retried', registers: [registry] }),
    retentionDeletedRows: new Counter({
      name: 'retention_deleted_rows_total',
      help: 'Rows the retention job deleted, by table (outbox, webhook_events)',
      labelNames: ['table'],
      registers: [registry],
    }),
    ready: new Gauge({ name: 'webhook_processor_ready', help: '1 when the consumer is in its group, the last transaction committed and it has not stopped on a failure', registers: [registry] }),
    consumerLag: new Gauge({
      name: 'webhook_consumer_lag',
      help:
        "Events waiting for the consumer group, by partition: the log end offset minus the group's committed offset (minus the log start " +
        'when nothing is committed or the committed offset is older than the log start). The same for the whole group from every instance.',
      labelNames: ['topic', 'partition'],
      registers: [registry],
      collect,
    }),
    oldestUnprocessedEventAge: new Gauge({
      name: 'webhook_oldest_unprocessed_event_age_seconds',
      help:
        'Seconds since the Kafka timestamp of the oldest event this instance has fetched and not yet applied (the first unapplied record of each ' +
        'partition it is working on); 0 when it holds none. Events not yet fetched count in webhook_consumer_lag only.',
      registers: [registry],
      collect,
    }),
    outboxUnsentRows: new Gauge({ name: 'outbox_unsent_rows', help: 'Outbox rows not yet published to Kafka', registers: [registry], collect }),
    outboxOldestUnsentAge: new Gauge({
      name: 'outbox_oldest_unsent_age_seconds',
      help: 'Seconds since the oldest unsent outbox row was created (by the database clock); 0 when none is unsent',
      registers: [registry],
      collect,
    }),
    collectFreshnessWith(read) {
      readFreshness = read;
    },
  };
}
