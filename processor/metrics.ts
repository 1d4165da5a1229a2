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
}

export function createProcessorMetrics(): ProcessorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
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
  };
}
