import { trace } from '@opentelemetry/api';
import { createServer } from 'node:http';
import { ConfigError } from '../../platform/environment';
import { startTracing } from '../../platform/tracing';
import { signPayload } from '../../schemas/signatures';
import { freePort } from '../../scripts/harness/free-port';
import { onCleanup } from '../support/cleanup';
import { createTestTopics, insertTrade, migratedDatabase, startTestProcessor, systemEnv, testKafka } from '../support/processor';
import { receiverProcess, startTestReceiver, TEST_SECRETS } from '../support/receiver';
import { serviceProcess } from '../support/service-process';
import { readTopic } from '../support/topic-reader';
import { waitFor } from '../support/wait-for';

describe('startTracing', () => {
  it('registers nothing without an OTLP endpoint, or with OTEL_SDK_DISABLED=true', () => {
    expect(startTracing({ serviceName: 's', env: {} }).exporting).toBe(false);
    expect(startTracing({ serviceName: 's', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' } }).exporting).toBe(false);
  });

  it('exports JSON when asked for protobuf, and says so', async () => {
    const tracing = startTracing({ serviceName: 's', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' } });
    expect(tracing.exporting).toBe(true);
    expect(tracing.warnings).toEqual(['OTEL_EXPORTER_OTLP_PROTOCOL is http/protobuf: spans are exported as http/json, which OTLP/HTTP receivers also accept']);
    await tracing.shutdown();
    // It registered the SDK globally: the tests below run with tracing off.
    trace.disable();
  });

  it('reports every variable it cannot use at once', () => {
    const start = () =>
      startTracing({
        serviceName: 's',
        env: {
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '1.5',
          OTEL_BSP_SCHEDULE_DELAY: '-1',
        },
      });
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(
      expect.objectContaining({
        problems: [
          'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http:// or https:// URL',
          'OTEL_EXPORTER_OTLP_PROTOCOL (or _TRACES_PROTOCOL) cannot be grpc: spans are exported as OTLP/HTTP JSON',
          'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1',
          'OTEL_BSP_SCHEDULE_DELAY must be a positive whole number',
        ],
      }),
    );
    expect(() => startTracing({ serviceName: 's', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_SAMPLER: 'sometimes' } })).toThrow(
      /OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio/,
    );
  });
});

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  links: Array<{ traceId: string; spanId: string }>;
  attributes: Record<string, unknown>;
}

/** A collector of our own: accepts OTLP/HTTP JSON on POST /v1/traces and keeps every span with its service's name. */
async function otlpReceiver(): Promise<{ endpoint: string; spans: ExportedSpan[] }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const resourceSpans of body.resourceSpans ?? []) {
          const service = resourceSpans.resource.attributes.find((attribute: { key: string }) => attribute.key === 'service.name')?.value.stringValue;
          for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
            for (const span of scopeSpans.spans ?? []) {
              const attributes = Object.fromEntries((span.attributes ?? []).map((attribute: { key: string; value: Record<string, unknown> }) => [attribute.key, Object.values(attribute.value)[0]]));
              spans.push({ service, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId || undefined, name: span.name, links: span.links ?? [], attributes });
            }
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
  return { endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, spans };
}

/** The sender's own trace context: the W3C recommendation's example. */
const SENDER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SENDER_SPAN_ID = '00f067aa0ba902b7';
const SENDER_TRACEPARENT = `00-${SENDER_TRACE_ID}-${SENDER_SPAN_ID}-01`;

function signedBuyCompletion(tradeId: number, extraHeaders: Record<string, string>): RequestInit {
  const body = JSON.stringify({ trade_id: tradeId, status: 'completed', transaction_hash: `0xtrace${tradeId}` });
  return { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-buy-webhook-signature': signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET), ...extraHeaders } };
}

describe('one webhook, one trace', () => {
  it('gives spans that chain sender → receive → verify, publish → consume → relay, and a notification header of the same trace', async () => {
    const collector = await otlpReceiver();
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics(1);
    const [port, processorPort] = [await freePort(), await freePort()];
    const tracingEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' };
    const env = { ...systemEnv({ schema, topics }), ...tracingEnv, TOPIC_PARTITIONS: '1' };
    const processor = serviceProcess('processor', { ...env, PROCESSOR_PORT: String(processorPort), PROCESSOR_HOST: '127.0.0.1', LOG_LEVEL: 'warn' }, `http://127.0.0.1:${processorPort}/readyz`);
    const receiver = receiverProcess({ port, topic: topics.events, env });
    await Promise.all([processor.start(), receiver.start()]);

    const trade = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    const response = await fetch(`http://127.0.0.1:${port}/api/webhooks/buy-complete`, signedBuyCompletion(trade.id, { traceparent: SENDER_TRACEPARENT, tracestate: 'congo=t61rcWkgMzE' }));
    expect(response.status).toBe(202);
    const [notification] = await readTopic(testKafka(), topics.notifications, { count: 1 });

    const named = (name: string) => collector.spans.find((span) => span.name === name && span.traceId === SENDER_TRACE_ID);
    const [receive, verify, publish, consume, relay] = await waitFor('the spans of the webhook exported', async () => {
      const chain = ['receive', 'verify', 'publish', 'consume', 'relay'].map(named);
      return chain.every(Boolean) ? (chain as ExportedSpan[]) : undefined;
    });
    expect([receive, verify, publish].map((span) => span!.service)).toEqual(['trade-webhooks-receiver', 'trade-webhooks-receiver', 'trade-webhooks-receiver']);
    expect([consume, relay].map((span) => span!.service)).toEqual(['trade-webhooks-processor', 'trade-webhooks-processor']);
    expect(receive!.parentSpanId).toBe(SENDER_SPAN_ID);
    expect(receive!.attributes['http.response.status_code']).toBe(202);
    expect(verify!.parentSpanId).toBe(receive!.spanId);
    expect(publish!.parentSpanId).toBe(receive!.spanId);
    expect(consume!.parentSpanId).toBe(publish!.spanId);
    expect(consume!.attributes['webhook.outcome']).toBe('applied');
    expect(relay!.parentSpanId).toBe(consume!.spanId);
    expect(notification!.headers.traceparent).toBe(`00-${SENDER_TRACE_ID}-${relay!.spanId}-01`);
    expect(notification!.headers.tracestate).toBe('congo=t61rcWkgMzE');

    // The transaction is a trace of its own (group commit serves many events), linked to the event's.
    const apply = await waitFor('the transaction span linked to the event', async () =>
      collector.spans.find((span) => span.name === 'apply' && span.links.some((link) => link.traceId === SENDER_TRACE_ID && link.spanId === consume!.spanId)),
    );
    expect(apply.traceId).not.toBe(SENDER_TRACE_ID);
    expect(collector.spans).toContainEqual(expect.objectContaining({ name: 'commit', traceId: apply.traceId, parentSpanId: apply.spanId }));
  });
});

describe('tracing off: the trace context is still carried', () => {
  it("passes the sender's traceparent and tracestate on to the notification unchanged, and writes none when none came", async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics(1);
    const receiver = await startTestReceiver({ topic: topics.events });
    await startTestProcessor({ topics, db, schema });
    const [traced, untraced] = [await insertTrade(db, { trade_type: 'buy', status: 'processing' }), await insertTrade(db, { trade_type: 'buy', status: 'processing' })];

    expect((await fetch(`${receiver.url}/api/webhooks/buy-complete`, signedBuyCompletion(traced.id, { traceparent: SENDER_TRACEPARENT, tracestate: 'congo=t61rcWkgMzE' }))).status).toBe(202);
    expect((await fetch(`${receiver.url}/api/webhooks/buy-complete`, signedBuyCompletion(untraced.id, { traceparent: '00-not-a-traceparent' }))).status).toBe(202);

    const notifications = await readTopic(testKafka(), topics.notifications, { count: 2 });
    const byTrade = new Map(notifications.map((message) => [message.value.trade_id, message.headers]));
    expect(byTrade.get(traced.id)).toEqual(expect.objectContaining({ traceparent: SENDER_TRACEPARENT, tracestate: 'congo=t61rcWkgMzE' }));
    expect(byTrade.get(untraced.id)).not.toHaveProperty('traceparent');
    expect(await db('outbox').orderBy('id').select('traceparent')).toEqual([{ traceparent: SENDER_TRACEPARENT }, { traceparent: null }]);
  });
});
