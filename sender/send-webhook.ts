import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { signPayload, signRelworx, signStandardWebhook, relworxSignatureHeader } from '../schemas/signatures';
import { WEBHOOK_PATH_PREFIXES, webhookByName, webhookByType, type WebhookDefinition } from '../schemas/webhook-catalog';
import { serializePayload } from './payloads';

export interface SendOptions {
  /** The type's secret (the first of a rotation list is used). */
  secret: string;
  /** Attempts in all, the first included (default 5: delays of 1, 2, 4 and 8 s between them). */
  maxAttempts?: number;
  /** The first retry delay; each next one doubles (default 1000 ms). */
  baseDelayMs?: number;
  signal?: AbortSignal;
  /** Sign with Standard Webhooks headers instead of the type's own header. */
  standard?: boolean;
  /** The Standard Webhooks `webhook-id` (default: a new UUID, kept across retries). */
  webhookId?: string;
  /** Post under /api/v1/webhooks/ (the API gateway's paths) instead of /api/webhooks/. */
  gateway?: boolean;
  /** Relworx: the callback URL as registered (default: the URL posted to). */
  callbackUrl?: string;
}

export interface SendResult {
  readonly status: number;
  readonly body: string;
  readonly attempts: number;
  readonly ok: boolean;
}

function definitionFor(type: string): WebhookDefinition {
  const definition = webhookByName(type) ?? webhookByType(type);
  if (!definition) throw new RangeError(`unknown webhook type "${type}"; one of buy-complete, sell-complete, trade-status, relworx`);
  return definition;
}

function retryable(status: number): boolean {
  return status >= 500 || status === 429;
}

/** Retry-After in seconds or as an HTTP date, in ms; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function signedHeaders(definition: WebhookDefinition, body: string, url: string, options: SignOptions, webhookId: string): Record<string, string> {
  const secret = options.secret.split(',')[0]!.trim();
  const timestamp = Math.floor(Date.now() / 1000);
  if (options.standard) {
    return { 'webhook-id': webhookId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signStandardWebhook(webhookId, timestamp, body, secret) };
  }
  if (definition.type === 'relworx_payment') {
    const fields = JSON.parse(body) as Record<string, string>;
    const signature = signRelworx(options.callbackUrl ?? url, timestamp, {
      customer_reference: fields.customer_reference ?? '',
      internal_reference: fields.internal_reference ?? '',
      status: fields.status ?? '',
    }, secret);
    return { [definition.signatureHeader]: relworxSignatureHeader(timestamp, signature) };
  }
  return { [definition.signatureHeader]: signPayload(body, secret) };
}

/** How a request is signed: SendOptions without the delivery settings. */
export type SignOptions = Pick<SendOptions, 'secret' | 'standard' | 'webhookId' | 'gateway' | 'callbackUrl'>;

/** A webhook request, signed now: POST `body` to `url` with `headers`. */
export interface SignedRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The request for `payload` to `type`'s endpoint under `baseUrl`, signed with the current time
 * (Standard Webhooks and Relworx timestamps go stale: sign again for each attempt). A string or
 * Buffer payload is sent as it is; anything else is serialized with serializePayload.
 */
export function signedRequest(baseUrl: string, type: string, payload: unknown, options: SignOptions): SignedRequest {
  const definition = definitionFor(type);
  const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : serializePayload(payload);
  const url = `${baseUrl.replace(/\/+$/, '')}${WEBHOOK_PATH_PREFIXES[options.gateway ? 1 : 0]}${definition.name}`;
  const webhookId = options.webhookId ?? `msg_${randomUUID()}`;
  return { url, body, headers: { 'content-type': 'application/json', ...signedHeaders(definition, body, url, options, webhookId) } };
}

/**
 * Serializes the payload once, signs those bytes and POSTs them. Retries 5xx, 429 and network
 * errors with exponential backoff (1 s, 2 s, 4 s, 8 s, with jitter; a longer Retry-After wins),
 * never another 4xx: those mean the request itself is wrong.
 */
export async function sendWebhook(baseUrl: string, type: string, payload: unknown, options: SendOptions): Promise<SendResult> {
  // Serialized once: every attempt sends the same bytes.
  const body = signedRequest(baseUrl, type, payload, options).body;
  const maxAttempts = options.maxAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const webhookId = options.webhookId ?? `msg_${randomUUID()}`;

  for (let attempt = 1; ; attempt += 1) {
    options.signal?.throwIfAborted();
    let status: number | undefined;
    let text = '';
    let retryAfter: number | undefined;
    try {
      // Signed per attempt: Standard Webhooks and Relworx timestamps must be fresh.
      const request = signedRequest(baseUrl, type, body, { ...options, webhookId });
      const response = await fetch(request.url, { method: 'POST', body: request.body, headers: request.headers, signal: options.signal });
      status = response.status;
      text = await response.text();
      retryAfter = retryAfterMs(response.headers.get('retry-after'));
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (attempt >= maxAttempts) throw error;
    }
    if (status !== undefined && (!retryable(status) || attempt >= maxAttempts)) {
      return { status, body: text, attempts: attempt, ok: status >= 200 && status < 300 };
    }
    const backoff = baseDelayMs * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4);
    await sleep(Math.max(backoff, retryAfter ?? 0), undefined, { signal: options.signal });
  }
}
