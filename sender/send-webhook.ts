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

function signedHeaders(definition: WebhookDefinition, body: string, url: string, options: SendOptions, webhookId: string): Record<string, string> {
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

/**
 * Serializes the payload once, signs those bytes and POSTs them. Retries 5xx, 429 and network
 * errors with exponential backoff (1 s, 2 s, 4 s, 8 s, with jitter; a longer Retry-After wins),
 * never another 4xx: those mean the request itself is wrong.
 */
export async function sendWebhook(baseUrl: string, type: string, payload: unknown, options: SendOptions): Promise<SendResult> {
  const definition = definitionFor(type);
  const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : serializePayload(payload);
  const url = `${baseUrl.replace(/\/+$/, '')}${WEBHOOK_PATH_PREFIXES[options.gateway ? 1 : 0]}${definition.name}`;
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
      const response = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...signedHeaders(definition, body, url, options, webhookId) },
        signal: options.signal,
      });
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
