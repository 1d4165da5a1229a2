import { eventIdOf } from './event-identity';
import { WEBHOOK_PATH_PREFIXES, webhookByType, type WebhookType } from './webhook-catalog';

/**
 * The `WebhookEvent` record of schemas/avro/webhook-event.avsc, as the receiver writes it and
 * the processor reads it.
 */
export interface WebhookEventRecord {
  event_id: string;
  webhook_type: string;
  /** Milliseconds since the epoch (Avro timestamp-millis). */
  received_at: number;
  path: string;
  signature_scheme: string;
  remote_addr: string | null;
  content_type: string;
  /** The request body exactly as received (UTF-8 JSON text). */
  body: string;
}

/** How a request proved who sent it: the scheme names in `signature_scheme`. */
export type SignatureScheme = 'hmac-sha256' | 'standard-webhooks' | 'relworx';

export interface WebhookRequest {
  readonly webhookType: WebhookType;
  /** The request body exactly as received. */
  readonly body: Buffer | string;
  /** The verified Standard Webhooks `webhook-id`, when the request carried one. */
  readonly webhookId?: string;
  /** The parsed body, when the caller has it (saves parsing a Relworx body again). */
  readonly payload?: Readonly<Record<string, unknown>>;
  /** The path it was served on; the first prefix's path by default. */
  readonly path?: string;
  readonly signatureScheme?: SignatureScheme;
  /** The peer's address; null for an event not received over HTTP (a replay, a test). */
  readonly remoteAddr?: string | null;
  readonly contentType?: string;
  /** Milliseconds since the epoch; now by default. */
  readonly receivedAt?: number;
}

/** The canonical path of a webhook type: `/api/webhooks/<name>`. */
export function webhookPath(webhookType: WebhookType): string {
  return `${WEBHOOK_PATH_PREFIXES[0]}${webhookByType(webhookType)!.name}`;
}

/**
 * The record the receiver writes for an accepted request, with its event id. Whatever writes
 * `webhook-events` (the receiver, a test, a benchmark) builds it here, so the id rule and the
 * fields cannot drift apart.
 */
export function webhookEvent(request: WebhookRequest): WebhookEventRecord {
  const body = typeof request.body === 'string' ? request.body : request.body.toString('utf8');
  return {
    event_id: eventIdOf(request),
    webhook_type: request.webhookType,
    received_at: request.receivedAt ?? Date.now(),
    path: request.path ?? webhookPath(request.webhookType),
    signature_scheme: request.signatureScheme ?? (request.webhookType === 'relworx_payment' ? 'relworx' : 'hmac-sha256'),
    remote_addr: request.remoteAddr ?? null,
    content_type: request.contentType ?? 'application/json',
    body,
  };
}
