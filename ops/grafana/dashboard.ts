import type { Dashboard, Panel, RowPanel } from '@grafana/schema/dist/types/index';

/**
 * The Grafana dashboard for the receiver and the processor, typed with Grafana's own dashboard
 * schema. `npm run dashboard` writes it to trade-webhooks.json, the file to import; a test keeps
 * the two in step and checks that every query names a metric the services export.
 */

const datasource = { type: 'prometheus', uid: '${datasource}' };
const WIDTH = 24;
const HEIGHT = 8;

interface Query {
  readonly expr: string;
  /** The series' name in the legend, with `{{label}}` placeholders. */
  readonly legend: string;
}

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly Query[];
}

function row(title: string, y: number): RowPanel {
  return { type: 'row', title, collapsed: false, gridPos: { x: 0, y, w: WIDTH, h: 1 }, id: 0, panels: [] };
}

function timeSeries(spec: PanelSpec, gridPos: { x: number; y: number; w: number }): Panel {
  return {
    type: 'timeseries',
    title: spec.title,
    description: spec.description,
    datasource,
    gridPos: { ...gridPos, h: HEIGHT },
    fieldConfig: { defaults: { unit: spec.unit }, overrides: [] },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    targets: spec.queries.map((query, index) => ({
      refId: String.fromCharCode(65 + index),
      datasource,
      expr: query.expr,
      legendFormat: query.legend,
      range: true,
    })),
  };
}

/** Rows of panels, two to a line. */
const SECTIONS: ReadonlyArray<{ readonly title: string; readonly panels: readonly PanelSpec[] }> = [
  {
    title: 'Receiver',
    panels: [
      {
        title: 'Requests by outcome',
        description: 'Webhook requests per second by outcome: accepted (202), the refusals (4xx) and unavailable (503, the sender retries).',
        unit: 'reqps',
        queries: [{ expr: 'sum by (outcome) (rate(webhook_requests_total[$__rate_interval]))', legend: '{{outcome}}' }],
      },
      {
        title: 'Signature failures by webhook type',
        description: 'Requests refused with 401 per second, by route. A rise after a deploy or a rotation is a sender with the wrong secret.',
        unit: 'reqps',
        queries: [{ expr: 'sum by (route) (rate(webhook_requests_total{outcome="invalid_signature"}[$__rate_interval]))', legend: '{{route}}' }],
      },
      {
        title: 'Verified signatures by secret position',
        description: 'Which of a type\'s secrets verified each request: 0 is the first in the list. When a rotated-out secret\'s line stays at 0, it can be removed.',
        unit: 'reqps',
        queries: [{ expr: 'sum by (type, secret) (rate(webhook_signature_verified_total[$__rate_interval]))', legend: '{{type}} secret {{secret}}' }],
      },
      {
        title: 'Request latency',
        description: 'Time from request to response, p50 and p99 over all routes; a 202 includes Kafka\'s acknowledgement.',
        unit: 's',
        queries: [
          { expr: 'histogram_quantile(0.5, sum by (le) (rate(webhook_request_duration_seconds_bucket[$__rate_interval])))', legend: 'p50' },
          { expr: 'histogram_quantile(0.99, sum by (le) (rate(webhook_request_duration_seconds_bucket[$__rate_interval])))', legend: 'p99' },
        ],
      },
      {
        title: 'Publish latency',
        description: 'Time from sending a batch to webhook-events to its acknowledgement by every in-sync replica (acks=all).',
        unit: 's',
        queries: [
          { expr: 'histogram_quantile(0.5, sum by (le) (rate(webhook_publish_batch_duration_seconds_bucket[$__rate_interval])))', legend: 'p50' },
          { expr: 'histogram_quantile(0.99, sum by (le) (rate(webhook_publish_batch_duration_seconds_bucket[$__rate_interval])))', legend: 'p99' },
        ],
      },
      {
        title: 'Secret reloads',
        description: 'Reloads of the webhook secrets refused or failed (the secrets in force stay), and when the secrets in force were taken.',
        unit: 'short',
        queries: [
          { expr: 'sum by (trigger) (increase(webhook_secrets_reload_failures_total[$__rate_interval]))', legend: 'refused ({{trigger}})' },
          { expr: 'time() - max(webhook_secrets_last_reload_timestamp_seconds)', legend: 'seconds since the last reload taken' },
        ],
      },
      {
        title: 'Producer errors and readiness',
        description: 'Batches Kafka did not acknowledge in time, per second, and how many receivers are ready.',
        unit: 'short',
        queries: [
          { expr: 'sum(rate(webhook_producer_errors_total[$__rate_interval]))', legend: 'producer errors/s' },
          { expr: 'sum(webhook_receiver_ready)', legend: 'receivers ready' },
        ],
      },
    ],
  },
  {
    title: 'Processor',
    panels: [
      {
        title: 'Processing outcomes',
        description: 'Events per second by outcome: applied, stale (an older state than the trade\'s), rejected (a rule refused it), duplicate (applied before).',
        unit: 'ops',
        queries: [{ expr: 'sum by (outcome) (rate(webhook_events_processed_total[$__rate_interval]))', legend: '{{outcome}}' }],
      },
      {
        title: 'Dead letters',
        description: 'Events sent to the dead-letter topic per second, by reason. Any is worth a look: npm run dlq:replay re-sends them once fixed.',
        unit: 'ops',
        queries: [{ expr: 'sum by (reason) (rate(webhook_events_dead_lettered_total[$__rate_interval]))', legend: '{{reason}}' }],
      },
      {
        title: 'Consumer lag',
        description: 'Events in webhook-events not yet committed by the processors\' group, by partition. Every instance reports the whole group\'s lag, hence max, not sum. Lag is not ill health; a lag that only grows is.',
        unit: 'short',
        queries: [{ expr: 'max by (topic, partition) (webhook_consumer_lag)', legend: 'partition {{partition}}' }],
      },
      {
        title: 'Oldest unprocessed event',
        description: 'Age of the oldest event the processors have not yet applied: how stale trade states can be.',
        unit: 's',
        queries: [{ expr: 'max(webhook_oldest_unprocessed_event_age_seconds)', legend: 'age' }],
      },
      {
        title: 'Transactions',
        description: 'p99 time of one transaction applying a group of events, and events per transaction (mean).',
        unit: 's',
        queries: [
          { expr: 'histogram_quantile(0.99, sum by (le) (rate(webhook_apply_transaction_seconds_bucket[$__rate_interval])))', legend: 'p99 transaction' },
          { expr: 'sum(rate(webhook_events_per_transaction_sum[$__rate_interval])) / sum(rate(webhook_events_per_transaction_count[$__rate_interval]))', legend: 'events per transaction' },
        ],
      },
      {
        title: 'Failures and retries',
        description: 'Failures per second by the classifier\'s code and decision, and transient failures retried by stage.',
        unit: 'ops',
        queries: [
          { expr: 'sum by (code, decision) (rate(webhook_processing_failures_total[$__rate_interval]))', legend: '{{code}} {{decision}}' },
          { expr: 'sum by (stage) (rate(webhook_processing_retries_total[$__rate_interval]))', legend: 'retry {{stage}}' },
        ],
      },
    ],
  },
  {
    title: 'Notifications',
    panels: [
      {
        title: 'Outbox',
        description: 'Notifications written but not yet sent to trade-notifications, and the age of the oldest of them.',
        unit: 'short',
        queries: [
          { expr: 'max(outbox_unsent_rows)', legend: 'unsent rows' },
          { expr: 'max(outbox_oldest_unsent_age_seconds)', legend: 'oldest unsent (s)' },
        ],
      },
      {
        title: 'Notifications published',
        description: 'Outbox rows published to trade-notifications per second, and relay rounds that failed and will be retried.',
        unit: 'ops',
        queries: [
          { expr: 'sum(rate(trade_notifications_published_total[$__rate_interval]))', legend: 'published' },
          { expr: 'sum(rate(outbox_relay_errors_total[$__rate_interval]))', legend: 'relay errors' },
        ],
      },
      {
        title: 'Retention',
        description: 'Rows the retention job deleted per second, by table, when it runs inside the processor (RETENTION_INTERVAL_MS).',
        unit: 'ops',
        queries: [{ expr: 'sum by (table) (rate(retention_deleted_rows_total[$__rate_interval]))', legend: '{{table}}' }],
      },
    ],
  },
];

function layout(): Array<Panel | RowPanel> {
  const panels: Array<Panel | RowPanel> = [];
  let y = 0;
  for (const section of SECTIONS) {
    panels.push(row(section.title, y));
    y += 1;
    section.panels.forEach((spec, index) => {
      const half = WIDTH / 2;
      panels.push(timeSeries(spec, { x: (index % 2) * half, y: y + Math.floor(index / 2) * HEIGHT, w: half }));
    });
    y += Math.ceil(section.panels.length / 2) * HEIGHT;
  }
  return panels.map((panel, index) => ({ ...panel, id: index + 1 }));
}

export const DASHBOARD: Dashboard = {
  uid: 'trade-webhooks',
  title: 'Trade webhooks',
  description: 'The receiver (signed webhooks into webhook-events), the processor (events applied to PostgreSQL) and the outbox (trade-notifications).',
  tags: ['trade-webhooks', 'kafka'],
  editable: true,
  graphTooltip: 1,
  schemaVersion: 39,
  time: { from: 'now-1h', to: 'now' },
  refresh: '30s',
  timezone: 'utc',
  templating: {
    list: [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', hide: 0 }],
  },
  annotations: { list: [] },
  links: [],
  panels: layout(),
};

/** Every PromQL expression of the dashboard. */
export function dashboardQueries(): string[] {
  return SECTIONS.flatMap((section) => section.panels.flatMap((panel) => panel.queries.map((query) => query.expr)));
}
