import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { WEBHOOK_LOG_MESSAGES } from '../platform/log-messages';
import { parseJsonObject, validatePayload } from '../schemas/payload-validation';
import type { WebhookDefinition } from '../schemas/webhook-catalog';
import { webhookEvent } from '../schemas/webhook-event';
import { clientAddress, rateLimitKey } from './client-address';
import type { ReceiverConfig } from './config';
import type { EventPublisher, Receipt } from './event-publisher';
import { MAX_HEADER_BYTES } from './event-size';
import type { ReceiverMetrics } from './metrics';
import { BodyTooLargeError, readBody, RequestAbortedError } from './read-body';
import { RESPONSES, type Outcome } from './responses';
import { startRequestTrace, type RequestTrace } from './request-trace';
import { createRateLimiter } from './rate-limiter';
import { OPERATIONS_PATHS, WEBHOOK_ROUTES } from './routes';
import { repeatedHeader, verifyRequest } from './verify-request';
import type { WebhookSecrets } from './webhook-secrets';

export interface Receiver {
  readonly server: Server;
  /**
   * Listens. Until `serve` has handed it a started publisher, /healthz answers 200, /readyz 503
   * and every webhook 503 with Retry-After: the process is alive, and not yet able to accept.
   */
  listen(): Promise<AddressInfo>;
  /** Starts `publisher` (loads the schema, starts connecting to Kafka), then accepts webhooks through it. */
  serve(publisher: EventPublisher): Promise<void>;
  /**
   * Stops accepting, lets requests in flight finish, and flushes the publisher; `alongside`
   * (the spans' export) runs once every request has ended, beside the producers' disconnect.
   */
  close(alongside?: () => Promise<void>): Promise<void>;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return mediaType === 'application/json';
}

export function createReceiver(options: {
  config: ReceiverConfig;
  logger: Logger;
  metrics: ReceiverMetrics;
  /** The secrets in force, asked per request (a SecretReloader); without it, those of `config`. */
  secrets?: { current(): WebhookSecrets };
  /** Whether spans are exported (startTracing's `exporting`); off, only a sender's trace context is carried on. */
  tracing?: boolean;
  /** Seconds since the epoch; the signature schemes check timestamps against it. */
  clock?: () => number;
}): Receiver {
  const { config, logger, metrics } = options;
  /** Set by serve() once the publisher has started. */
  let publisher: EventPublisher | undefined;
  const clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
  const secrets = options.secrets ?? { current: () => config.secrets };
  const tracing = options.tracing ?? false;
  const limiter = createRateLimiter({ perSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst, maxClients: config.rateLimitMaxClients });
  const retryAfter = String(config.retryAfterSeconds);

  function answer(
    response: ServerResponse,
    route: string,
    started: number,
    outcome: Outcome,
    extra: { body?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ): void {
    const base = outcome === 'accepted' ? { status: 202, body: { success: true } } : RESPONSES[outcome];
    send(response, base.status, { ...base.body, ...extra.body }, extra.headers);
    metrics.requests.inc({ route, outcome });
    metrics.duration.observe({ route }, (performance.now() - started) / 1000);
  }

  /** Refuses before reading the body: close the connection rather than read what we refused. */
  function refuse(response: ServerResponse, route: string, started: number, outcome: Outcome, headers: Record<string, string> = {}): void {
    answer(response, route, started, outcome, { headers: { connection: 'close', ...headers } });
  }

  async function handleWebhook(request: IncomingMessage, response: ServerResponse, definition: WebhookDefinition, path: string, traced: RequestTrace): Promise<void> {
    const started = performance.now();
    const route = definition.name;
    const remoteAddr = request.socket.remoteAddress ?? 'unknown';
    const client = clientAddress(request.headers['x-forwarded-for'], remoteAddr, config.trustedProxies);
    if (request.method !== 'POST') return refuse(response, route, started, 'method_not_allowed', { allow: 'POST' });

    // Still starting: the sender retries later, and nothing is read that could not be published.
    if (!publisher) return refuse(response, route, started, 'unavailable', { 'retry-after': retryAfter });
    const accepting = publisher;

    const wait = limiter.take(rateLimitKey(client));
    if (wait > 0) return refuse(response, route, started, 'rate_limited', { 'retry-after': String(wait) });

    const contentType = request.headers['content-type'];
    if (!isJson(contentType) || repeatedHeader(request.rawHeaders, ['content-type'])) {
      return refuse(response, route, started, 'unsupported_media_type');
    }

    let body: Buffer;
    try {
      body = await readBody(request, definition.type === 'relworx_payment' ? config.relworxMaxBodyBytes : config.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        // Discard the rest (bounded by the request timeout) so the client reads the 413.
        request.resume();
        return refuse(response, route, started, 'payload_too_large');
      }
      if (error instanceof RequestAbortedError) {
        // A sender's own doing (or a network's), not a fault of ours: no stack, and no answer to send.
        logger.info({ path, client_addr: client }, 'Client closed the connection before sending the whole body');
        metrics.requests.inc({ route, outcome: 'aborted' });
        return;
      }
      throw error;
    }

    const verified = traced.verifying();
    const verification = verifyRequest({
      definition,
      headers: request.headers,
      rawHeaders: request.rawHeaders,
      body,
      secrets: secrets.current()[definition.type],
      relworxCallbackUrl: config.relworxCallbackUrl,
      nowSeconds: clock(),
    });
    verified(verification);
    if (!verification.ok) {
      logger.warn({ remote_addr: remoteAddr, client_addr: client, path, reason: verification.reason }, WEBHOOK_LOG_MESSAGES[definition.type].invalidSignature);
      return answer(response, route, started, 'invalid_signature');
    }
    metrics.signatureVerified.inc({ type: definition.type, secret: String(verification.secret) });

    const parsed = verification.parsed ?? parseJsonObject(body);
    if (!parsed) return answer(response, route, started, 'invalid_json');
    const validation = validatePayload(definition, parsed);
    if (!validation.ok) {
      const fields = validation.error === 'missing_fields' ? { fields: validation.fields } : undefined;
      logger.info({ path, reason: validation.error, ...fields }, WEBHOOK_LOG_MESSAGES[definition.type].rejected);
      return answer(response, route, started, validation.error, { body: fields });
    }

    const { payload } = validation;
    const event = webhookEvent({
      webhookType: definition.type,
      webhookId: verification.webhookId,
      body,
      payload,
      path,
      signatureScheme: verification.scheme,
      remoteAddr,
      contentType: contentType!,
    });
    const eventId = event.event_id;
    const key = String(payload.trade_id ?? payload.customer_reference);
    logger.info(
      { event_id: eventId, trade_id: payload.trade_id, customer_reference: payload.customer_reference, status: payload.status },
      WEBHOOK_LOG_MESSAGES[definition.type].received,
    );
    let receipt: Receipt;
    try {
      receipt = await traced.publish(config.topic, (headers) => accepting.publish(key, event, headers));
    } catch (error) {
      logger.error({ event_id: eventId, err: error }, WEBHOOK_LOG_MESSAGES[definition.type].failed);
      return answer(response, route, started, 'unavailable', { headers: { 'retry-after': retryAfter } });
    }
    // The receipt names this delivery's record. The receiver keeps no memory of what it accepted:
    // a repeat of an accepted event is written again, and its receipt names that new record; the
    // processor counts it as a duplicate of the first, whose record `npm run events` shows.
    answer(response, route, started, 'accepted', { body: { event_id: eventId, topic: receipt.topic, partition: receipt.partition, offset: receipt.offset } });
  }

  async function handleOperations(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return send(response, 405, RESPONSES.method_not_allowed.body, { allow: 'GET, HEAD' });
    }
    if (path === '/healthz') return send(response, 200, { status: 'ok' });
    if (path === '/readyz') {
      if (!publisher) return send(response, 503, { status: 'unavailable', reason: 'Starting: waiting for Kafka and the schema registry' }, { 'retry-after': retryAfter });
      return publisher.isReady()
        ? send(response, 200, { status: 'ready' })
        : send(response, 503, { status: 'unavailable', reason: 'Kafka producer is not connected' }, { 'retry-after': retryAfter });
    }
    const text = await metrics.registry.metrics();
    response.writeHead(200, { 'content-type': metrics.registry.contentType });
    response.end(text);
  }

  // Slow senders: the headers and the whole request have deadlines, checked every second (Node's
  // default check runs every 30 s, which would let a slow drip hold a socket far past them).
  const server = createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: config.headersTimeoutMs, requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    (request, response) => {
      const url = request.url ?? '/';
      const query = url.indexOf('?');
      const path = query === -1 ? url : url.slice(0, query);
      const definition = WEBHOOK_ROUTES.get(path);
      const traced = definition && startRequestTrace(request, definition.name, path, tracing);
      const handled = definition
        ? handleWebhook(request, response, definition, path, traced!)
        : (OPERATIONS_PATHS as readonly string[]).includes(path)
          ? handleOperations(request, response, path)
          : Promise.resolve(send(response, 404, RESPONSES.not_found.body, { connection: 'close' }));
      handled.catch((error: Error) => {
        logger.error({ err: error, path }, 'Unexpected error handling a request');
        if (!response.headersSent) send(response, 500, { success: false, error: 'Internal error' }, { connection: 'close' });
        else response.destroy();
      });
      if (traced) void handled.finally(() => traced.end(response.headersSent ? response.statusCode : undefined)).catch(() => undefined);
    },
  );
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  // Idle sockets (no request under way) are closed after this long.
  server.timeout = config.requestTimeoutMs;
  // No count limit: node:http drops the lines past the count silently, and a proxy appends its
  // X-Forwarded-For line last, so a client could push it out with padding. maxHeaderSize still
  // bounds the headers' total size.
  server.maxHeadersCount = 0;

  return {
    server,
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    async close(alongside) {
      // The whole stop fits in the grace period, plus the publisher's bounded disconnect.
      const deadline = Date.now() + config.shutdownGraceMs;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Keep-alive clients and slow senders could hold the server open: after the grace
      // period whatever is still connected is cut (its sender retries elsewhere).
      const cut = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
      await closed;
      clearTimeout(cut);
      // Every connection has ended: an event still unacknowledged was answered no 202.
      await (publisher ? publisher.close(deadline, alongside) : alongside?.());
    },
    async serve(started) {
      // Readiness still waits for the producers: /readyz answers 503 until they are connected.
      await started.start();
      publisher = started;
    },
  };
}
