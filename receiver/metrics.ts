import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ReceiverMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'outcome'>;
  readonly duration: Histogram<'route'>;
  readonly signatureVerified: Counter<'type' | 'secret'>;
  readonly secretReloadFailures: Counter<'trigger'>;
  readonly secretsTakenAt: Gauge;
  readonly batchSize: Histogram;
  readonly batchBytes: Histogram;
  readonly batchDuration: Histogram;
  readonly producerErrors: Counter;
  readonly ready: Gauge;
}

export function createReceiverMetrics(): ReceiverMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'webhook_requests_total',
      help: 'Webhook requests by route and outcome (accepted, invalid_signature, ...)',
      labelNames: ['route', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'webhook_request_duration_seconds',
      help: 'Time from request to response, by route',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    signatureVerified: new Counter({
      name: 'webhook_signature_verified_total',
      help:
        'Verified signatures by webhook type and the position of the secret that verified them (0: the first listed); a rotated-out secret can go once its count stops rising. A reload that changes a type\'s secrets removes that type\'s series, so each position counts afresh for the new list (a counter reset to rate())',
      labelNames: ['type', 'secret'],
      registers: [registry],
    }),
    secretReloadFailures: new Counter({
      name: 'webhook_secrets_reload_failures_total',
      help: 'Reloads of the webhook secrets refused (a bad or unreadable set) or failed, by trigger (SIGHUP, file_change); the set in force stayed',
      labelNames: ['trigger'],
      registers: [registry],
    }),
    secretsTakenAt: new Gauge({
      name: 'webhook_secrets_last_reload_timestamp_seconds',
      help: 'When the webhook secrets in force were taken, at start or by the last reload, in seconds since the Unix epoch',
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'webhook_publish_batch_size',
      help: 'Events per produce request to webhook-events',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers: [registry],
    }),
    batchBytes: new Histogram({
      name: 'webhook_publish_batch_bytes',
      help: 'Bytes per produce request to webhook-events, at most PUBLISH_BATCH_MAX_BYTES',
      buckets: [1024, 4096, 16_384, 65_536, 262_144, 524_288, 786_432, 1_048_576],
      registers: [registry],
    }),
    batchDuration: new Histogram({
      name: 'webhook_publish_batch_duration_seconds',
      help: 'Time from sending a batch to its acknowledgement (acks=all)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    producerErrors: new Counter({
      name: 'webhook_producer_errors_total',
      help: 'Batches that Kafka did not acknowledge in time',
      registers: [registry],
    }),
    ready: new Gauge({ name: 'webhook_receiver_ready', help: '1 when the producer is connected and writing', registers: [registry] }),
  };
}
