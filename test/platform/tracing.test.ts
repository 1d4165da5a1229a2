import { context, diag, trace } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createLogger } from '../../platform/logger';
import { extractContext } from '../../platform/trace-context';
import { projectTracer, readTracingConfig, startTracing, type TracingConfig } from '../../platform/tracing';
import { traceTransaction } from '../../processor/event-trace';
import { signPayload } from '../../schemas/signatures';
import { freePort } from '../../scripts/harness/free-port';
import { onCleanup } from '../support/cleanup';
import { createTestTopics, insertTrade, migratedDatabase, startTestProcessor, systemEnv, testKafka } from '../support/processor';
import { CapturedLogs, receiverProcess, startTestReceiver, TEST_SECRETS } from '../support/receiver';
import { serviceProcess } from '../support/service-process';
import { readTopic } from '../support/topic-reader';
import { recordSpans } from '../support/tracing';
import { waitFor } from '../support/wait-for';

/** The tracing settings `env` gives, and the problems found in them. */
function tracingConfig(env: NodeJS.ProcessEnv, maxLinks?: number): { config: TracingConfig; problems: string[] } {
  const problems: string[] = [];
  return { config: readTracingConfig(env, { serviceName: 's', maxLinks }, problems), problems };
}

let stopTracing: (() => Promise<void>) | undefined;

/** Starts the SDK in this process; it is registered globally, so it is taken away after the test and the others run with tracing off. */
function startedTracing(env: NodeJS.ProcessEnv, options: { maxLinks?: number; logs?: CapturedLogs } = {}) {
  const { config, problems } = tracingConfig(env, options.maxLinks);
  expect(problems).toEqual([]);
  const tracing = startTracing(config, createLogger({ level: 'warn', name: 'test' }, options.logs ?? new CapturedLogs()));
  stopTracing = async () => {
    await tracing.shutdown();
    trace.disable();
    diag.disable();
  };
  return tracing;
}

afterEach(async () => {
  await stopTracing?.();
  stopTracing = undefined;
});

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

describe('readTracingConfig and startTracing', () => {
  it('export nothing without an OTLP endpoint, with OTEL_SDK_DISABLED=true, or with OTEL_TRACES_EXPORTER=none', () => {
    for (const env of [{}, { ...ENDPOINT, OTEL_SDK_DISABLED: 'true' }, { ...ENDPOINT, OTEL_TRACES_EXPORTER: 'none' }, { ...ENDPOINT, OTEL_TRACES_EXPORTER: ' NONE ' }]) {
      const { config, problems } = tracingConfig(env);
      expect(problems).toEqual([]);
      expect(config.export).toBeUndefined();
      expect(startTracing(config, createLogger({ level: 'silent', name: 'test' })).exporting).toBe(false);
    }
    expect(tracingConfig({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'otlp' }).config.export).toBeDefined();
  });

  it('export JSON when asked for protobuf, in any case, and say so', () => {
    const { config, problems } = tracingConfig({ ...ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'HTTP/Protobuf' });
    expect(problems).toEqual([]);
    expect(config.export).toBeDefined();
    expect(config.warnings).toEqual(['OTEL_EXPORTER_OTLP_PROTOCOL is http/protobuf: spans are exported as http/json, which OTLP/HTTP receivers also accept']);
  });

  it('report every variable they cannot use at once, never a header value', () => {
    const { problems } = tracingConfig({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://[collector',
      // Empty is unset: it does not hide the general setting.
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: '',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'GRPC',
      OTEL_EXPORTER_OTLP_TIMEOUT: 'soon',
      OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'zstd',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20secret-token,broken',
      OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ca.pem',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '1.5',
      OTEL_BSP_SCHEDULE_DELAY: '-1',
    });
    expect(problems).toEqual([
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http:// or https:// URL',
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL',
      'OTEL_EXPORTER_OTLP_PROTOCOL must be http/json or http/protobuf (spans are exported as OTLP/HTTP JSON; grpc is not supported)',
      'OTEL_EXPORTER_OTLP_TIMEOUT must be a positive whole number of milliseconds',
      'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION must be gzip or none',
      'OTEL_EXPORTER_OTLP_HEADERS must be name=value pairs separated by commas, values percent-encoded',
      'OTEL_EXPORTER_OTLP_CERTIFICATE names /nonexistent/ca.pem, which cannot be read (ENOENT)',
      'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1',
      'OTEL_BSP_SCHEDULE_DELAY must be a positive whole number',
    ]);
    expect(problems.join('\n')).not.toContain('secret-token');
    expect(tracingConfig({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'console' }).problems).toEqual(['OTEL_TRACES_EXPORTER must be otlp or none']);
    expect(tracingConfig({ ...ENDPOINT, OTEL_TRACES_SAMPLER: 'sometimes' }).problems).toEqual([
      'OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio',
    ]);
    expect(tracingConfig({ ...ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t, x-tenant=a', OTEL_EXPORTER_OTLP_TIMEOUT: '5000', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }).problems).toEqual([]);
  });

  it("samples by the configured ratio, not by an unsigned sender's sampled flag, and still continues its trace", () => {
    startedTracing({ ...ENDPOINT, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' });
    const spans = Array.from({ length: 50 }, (_, index) => {
      const traceId = randomBytes(16).toString('hex');
      return { traceId, span: projectTracer().startSpan(`receive ${index}`, {}, extractContext(`00-${traceId}-${SENDER_SPAN_ID}-01`, undefined)) };
    });
    expect(spans.filter(({ span }) => span.isRecording())).toEqual([]);
    expect(spans.every(({ traceId, span }) => span.spanContext().traceId === traceId)).toBe(true);
    for (const { span } of spans) span.end();
  });

  it('samples a remote parent by a local draw at the ratio, not by the trace id a sender chose', () => {
    startedTracing({ ...ENDPOINT, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' });
    // TraceIdRatioBasedSampler samples an id whose words XOR to below ratio × 2^32: this one, always.
    const chosen = '00000000000000000000000000000001';
    const spans = Array.from({ length: 500 }, (_, index) => projectTracer().startSpan(`receive ${index}`, {}, extractContext(`00-${chosen}-${SENDER_SPAN_ID}-00`, undefined)));
    const recording = spans.filter((span) => span.isRecording()).length;
    for (const span of spans) span.end();
    // About 5 of 500 at 1%; 500 if the chosen id decided.
    expect(recording).toBeLessThan(50);
  });

  it('samples a trace whole: a span under a local parent follows its parent', () => {
    startedTracing({ ...ENDPOINT, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' });
    const decisions = Array.from({ length: 100 }, (_, index) => {
      const root = projectTracer().startSpan(`receive ${index}`);
      const child = projectTracer().startSpan('verify', {}, trace.setSpan(context.active(), root));
      const decision = [root.isRecording(), child.isRecording()];
      child.end();
      root.end();
      return decision;
    });
    expect(decisions.filter(([root, child]) => root !== child)).toEqual([]);
    expect(new Set(decisions.map(([root]) => root))).toEqual(new Set([true, false]));
  });

  it("logs OpenTelemetry's warnings and errors (a failed export), each distinct one once in DIAG_REPEAT_MS, without a URL's password", () => {
    const logs = new CapturedLogs();
    startedTracing(ENDPOINT, { logs });
    for (let round = 0; round < 3; round += 1) diag.error('Export failed', new Error('connect ECONNREFUSED http://user:hunter2@collector:4318'));
    // As the SDK's error handler gives an error: its JSON.
    diag.error(JSON.stringify({ stack: 'Error: Timeout\n    at somewhere', message: 'Timeout', name: 'Error' }));
    diag.warn('Dropped a span');
    diag.info('Not worth a line');
    const lines = logs.lines.filter((line) => String(line.msg).startsWith('OpenTelemetry: '));
    expect(lines).toEqual([
      expect.objectContaining({ level: 50, msg: 'OpenTelemetry: Export failed', detail: 'connect ECONNREFUSED http://***@collector:4318' }),
      expect.objectContaining({ level: 50, msg: 'OpenTelemetry: Error: Timeout' }),
      expect.objectContaining({ level: 40, msg: 'OpenTelemetry: Dropped a span' }),
    ]);
  });
});

describe('a transaction of more events than the SDK keeps links by default', () => {
  it('links its span to every one of them', async () => {
    const recorded = recordSpans({}, { maxLinks: 500 });
    stopTracing = recorded.stop;
    const sources = Array.from({ length: 300 }, (_, index) => ({
      topic: 't',
      partition: 0,
      offset: String(index),
      trace: { traceparent: `00-${randomBytes(16).toString('hex')}-${SENDER_SPAN_ID}-01` },
    }));
    await traceTransaction(sources, async (committing) => committing());
    const apply = recorded.spans.find((span) => span.name === 'apply')!;
    expect(apply.links).toHaveLength(300);
    expect(new Set(apply.links.map((link) => link.context.traceId))).toEqual(new Set(sources.map((source) => source.trace.traceparent.slice(3, 35))));
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

describe('a collector that does not answer', () => {
  it('has its failed exports logged, and adds nothing to a stop: the receiver exits within SHUTDOWN_GRACE_MS + 1 s', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    onCleanup(() => {
      silent.closeAllConnections();
      return new Promise((resolve) => silent.close(resolve));
    });
    const topics = await createTestTopics(1);
    const port = await freePort();
    const graceMs = 200;
    const receiver = receiverProcess({
      port,
      topic: topics.events,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(silent.address() as { port: number }).port}`,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        // Each export given up after 3 s: the first is logged as failed, the one at the stop outlasts it.
        OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
        SHUTDOWN_GRACE_MS: String(graceMs),
        LOG_LEVEL: 'info',
      },
    });
    await receiver.start();
    expect((await fetch(`http://127.0.0.1:${port}/api/webhooks/buy-complete`, signedBuyCompletion(1, {}))).status).toBe(202);
    await waitFor('the failed export logged', async () => (receiver.output().includes('"msg":"OpenTelemetry: ') ? true : undefined));
    // Spans still buffered when the stop begins.
    expect((await fetch(`http://127.0.0.1:${port}/api/webhooks/buy-complete`, signedBuyCompletion(2, {}))).status).toBe(202);

    const signalled = Date.now();
    await receiver.stop();
    // The bound is SHUTDOWN_GRACE_MS + 1 s; the rest is the process's own exit.
    expect(Date.now() - signalled).toBeLessThan(graceMs + 1000 + 300);
    expect(receiver.output()).toContain('"msg":"Service stopped"');
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
