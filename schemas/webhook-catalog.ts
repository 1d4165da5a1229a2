/**
 * The four webhooks: where each is served, how it is signed and which schema its body follows.
 * Every side (receiver, processor, sender toolkit) reads this table instead of its own copy.
 */
export type WebhookType = 'buy_completion' | 'sell_completion' | 'trade_status' | 'relworx_payment';

export interface WebhookDefinition {
  readonly type: WebhookType;
  /** The last path segment: `/api/webhooks/<name>` and `/api/v1/webhooks/<name>`. */
  readonly name: string;
  /** The per-type signature header (lower case, as node:http exposes headers). */
  readonly signatureHeader: string;
  /** The Avro schema in schemas/avro/ the body is validated against. */
  readonly schemaFile: string;
}

export const WEBHOOKS: readonly WebhookDefinition[] = Object.freeze([
  {
    type: 'buy_completion',
    name: 'buy-complete',
    signatureHeader: 'x-buy-webhook-signature',
    schemaFile: 'buy-completion.avsc',
  },
  {
    type: 'sell_completion',
    name: 'sell-complete',
    signatureHeader: 'x-sell-webhook-signature',
    schemaFile: 'sell-completion.avsc',
  },
  {
    type: 'trade_status',
    name: 'trade-status',
    signatureHeader: 'x-trade-webhook-signature',
    schemaFile: 'trade-status.avsc',
  },
  {
    type: 'relworx_payment',
    name: 'relworx',
    signatureHeader: 'relworx-signature',
    schemaFile: 'relworx-payment.avsc',
  },
] as const);

export const WEBHOOK_PATH_PREFIXES = ['/api/webhooks/', '/api/v1/webhooks/'] as const;

const byType = new Map(WEBHOOKS.map((definition) => [definition.type, definition]));

export function webhookByType(type: string): WebhookDefinition | undefined {
  return byType.get(type as WebhookType);
}

/** `buy-complete` → its definition; also used to print every served path. */
export function webhookByName(name: string): WebhookDefinition | undefined {
  return WEBHOOKS.find((definition) => definition.name === name);
}
