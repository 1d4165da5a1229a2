import type { WebhookType } from '../schemas/webhook-catalog';

/**
 * The log messages that name a webhook type, as the service this one replaced wrote them,
 * so existing searches and alerts keep matching. Each is fixed text (one per type): a search
 * for `Received buy completion webhook` finds every such line; the details (event id, trade,
 * reason) are fields of the line, never part of the message.
 */
export interface WebhookLogMessages {
  readonly received: string;
  readonly invalidSignature: string;
  readonly rejected: string;
  readonly failed: string;
  /** An event the processor recorded without changing the trade (`stale`, `duplicate`). */
  readonly notApplied: string;
}

export const WEBHOOK_LOG_MESSAGES: Readonly<Record<WebhookType, WebhookLogMessages>> = Object.freeze({
  buy_completion: {
    received: 'Received buy completion webhook',
    invalidSignature: 'Invalid buy webhook signature',
    rejected: 'Rejected buy completion webhook',
    failed: 'Error processing buy completion webhook',
    notApplied: 'Buy completion webhook not applied',
  },
  sell_completion: {
    received: 'Received sell completion webhook',
    invalidSignature: 'Invalid sell webhook signature',
    rejected: 'Rejected sell completion webhook',
    failed: 'Error processing sell completion webhook',
    notApplied: 'Sell completion webhook not applied',
  },
  trade_status: {
    received: 'Received trade status webhook',
    invalidSignature: 'Invalid trade webhook signature',
    rejected: 'Rejected trade status webhook',
    failed: 'Error processing trade status webhook',
    notApplied: 'Trade status webhook not applied',
  },
  relworx_payment: {
    received: 'Received relworx payment webhook',
    invalidSignature: 'Invalid relworx webhook signature',
    rejected: 'Rejected relworx payment webhook',
    failed: 'Error processing relworx payment webhook',
    notApplied: 'Relworx payment webhook not applied',
  },
});

/** For a record whose `webhook_type` is none of ours (the processor rejects it). */
const UNKNOWN_TYPE: WebhookLogMessages = Object.freeze({
  received: 'Received webhook of an unknown type',
  invalidSignature: 'Invalid webhook signature',
  rejected: 'Rejected webhook of an unknown type',
  failed: 'Error processing webhook of an unknown type',
  notApplied: 'Webhook of an unknown type not applied',
});

export function webhookLogMessages(webhookType: string): WebhookLogMessages {
  return Object.hasOwn(WEBHOOK_LOG_MESSAGES, webhookType) ? WEBHOOK_LOG_MESSAGES[webhookType as WebhookType] : UNKNOWN_TYPE;
}
