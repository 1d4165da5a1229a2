import { createHash } from 'node:crypto';
import { RELWORX_SIGNED_FIELDS } from './signatures/relworx-signature';
import type { WebhookType } from './webhook-catalog';

export interface EventIdentity {
  readonly webhookType: WebhookType;
  /** The request body exactly as received. */
  readonly body: Buffer | string;
  /** The `webhook-id` of a verified Standard Webhooks request, when the sender gave one. */
  readonly webhookId?: string;
  /** The parsed body, when the caller has it; Relworx's id is read from its signed fields. */
  readonly payload?: Readonly<Record<string, unknown>>;
}

/**
 * The event id: the key the processor deduplicates on, so a retried request must get the same
 * one and two different events never may.
 *
 * - A verified Standard Webhooks request: `<webhook_type>:<webhook-id>`. The sender chooses the
 *   id, and two senders (or one sender's two types) may choose the same one; the type keeps them
 *   apart. Types contain no `:`, so the text before the first `:` is always the type.
 * - Otherwise: the hex sha256 of the type followed by the raw body. Relworx signs only its
 *   reference fields and status, and may rewrite unsigned fields when it retries, so its hash
 *   covers the type and those fields, each after a NUL.
 */
export function eventIdOf(identity: EventIdentity): string {
  const { webhookType, webhookId, body } = identity;
  if (webhookId !== undefined) return `${webhookType}:${webhookId}`;
  const hash = createHash('sha256').update(webhookType);
  if (webhookType !== 'relworx_payment') return hash.update(body).digest('hex');
  const payload = identity.payload ?? (JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as Record<string, unknown>);
  for (const field of RELWORX_SIGNED_FIELDS) hash.update('\0').update(String(payload[field]));
  return hash.digest('hex');
}
